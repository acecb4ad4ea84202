package backup

import "testing"

// ParseManifest reads a file a restore then acts on: whatever it accepts
// must keep every path inside the backup and re-validate.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"format":"hallmark-backup/v1","created":"2026-03-01T12:00:00Z","hallmark_version":"dev","database":{"kind":"sqlite","file":"database/hallmark.db"},"log":{"origin":"h.example/log","size":2,"root":"` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `"},"files":[{"path":"database/hallmark.db","size":1,"sha256":"` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `","mode":384},{"path":"data/keys/a","size":0,"sha256":"` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `","mode":384}]}`))
	f.Add([]byte(`{"format":"hallmark-backup/v1","files":[{"path":"data/../x"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		for _, file := range m.Files {
			if err := checkPath(file.Path); err != nil {
				t.Fatalf("accepted %q: %v", file.Path, err)
			}
		}
		if err := m.validate(); err != nil {
			t.Fatalf("accepted a manifest that does not validate: %v", err)
		}
	})
}
