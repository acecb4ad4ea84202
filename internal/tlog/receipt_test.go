package tlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// sampleReceipt is a well-formed receipt (its signature is not checked here).
func sampleReceipt() []byte {
	h := sha256.Sum256([]byte("x"))
	return []byte("c2sp.org/tlog-proof@v1\nindex 3\n" +
		base64.StdEncoding.EncodeToString(h[:]) + "\n" +
		base64.StdEncoding.EncodeToString(h[:]) + "\n\n" +
		testOrigin + "\n5\n" + base64.StdEncoding.EncodeToString(h[:]) + "\n\n— " + testOrigin + " AAAAAAAA\n")
}

func TestParseReceipt(t *testing.T) {
	good := sampleReceipt()
	r, err := ParseReceipt(good)
	if err != nil {
		t.Fatal(err)
	}
	if r.Index != 3 || len(r.Proof) != 2 || !bytes.HasPrefix(r.Checkpoint, []byte(testOrigin+"\n5\n")) {
		t.Fatalf("parsed %+v", r)
	}
	if !bytes.Equal(r.Marshal(), good) {
		t.Fatalf("round trip:\n%s", r.Marshal())
	}
	withExtra := bytes.Replace(good, []byte("index 3"), []byte("extra aGk=\nindex 3"), 1)
	if r2, err := ParseReceipt(withExtra); err != nil || r2.Index != 3 {
		t.Fatalf("extra line: %v", err)
	}
	// A receipt at index 0 of a one-entry tree has no proof lines.
	if r, err := ParseReceipt([]byte("c2sp.org/tlog-proof@v1\nindex 0\n\n" + string(good[bytes.Index(good, []byte("\n\n"))+2:]))); err != nil || len(r.Proof) != 0 {
		t.Fatalf("empty proof: %v", err)
	}

	for name, b := range map[string][]byte{
		"empty":          nil,
		"header":         bytes.Replace(good, []byte("@v1"), []byte("@v2"), 1),
		"no index":       bytes.Replace(good, []byte("index 3\n"), nil, 1),
		"leading zero":   bytes.Replace(good, []byte("index 3"), []byte("index 03"), 1),
		"negative":       bytes.Replace(good, []byte("index 3"), []byte("index -3"), 1),
		"short hash":     bytes.Replace(good, []byte("index 3\n"), []byte("index 3\nAAAA\n"), 1),
		"bad base64":     bytes.Replace(good, []byte("index 3\n"), []byte("index 3\n!!!\n"), 1),
		"bad extra":      bytes.Replace(good, []byte("index 3"), []byte("extra !!\nindex 3"), 1),
		"no checkpoint":  good[:bytes.Index(good, []byte("\n\n"))+2],
		"unsigned":       bytes.Split(good, []byte("\n\n— "))[0],
		"too large":      append(bytes.Clone(good), bytes.Repeat([]byte("x"), MaxReceiptSize)...),
		"too many proof": bytes.Replace(good, []byte("index 3\n"), []byte("index 3\n"+strings.Repeat(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n", 64)), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseReceipt(b); err == nil {
				t.Fatalf("accepted:\n%s", b)
			}
		})
	}
}

// FuzzParseReceipt: no panics, bounded output, and accepted receipts
// re-marshal to something that parses to the same receipt.
func FuzzParseReceipt(f *testing.F) {
	f.Add(sampleReceipt())
	f.Add([]byte("c2sp.org/tlog-proof@v1\nextra aGk=\nindex 0\n\nx\n\n— y z\n"))
	f.Add([]byte("c2sp.org/tlog-proof@v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			return
		}
		if len(b) > MaxReceiptSize || len(r.Proof) > maxProofHashes || len(r.Checkpoint) > len(b) {
			t.Fatalf("accepted an unbounded receipt: %d bytes, %d hashes", len(b), len(r.Proof))
		}
		r2, err := ParseReceipt(r.Marshal())
		if err != nil {
			t.Fatalf("re-marshalled receipt does not parse: %v", err)
		}
		if r2.Index != r.Index || len(r2.Proof) != len(r.Proof) || !bytes.Equal(r2.Checkpoint, r.Checkpoint) {
			t.Fatal("re-marshalled receipt differs")
		}
		for i := range r.Proof {
			if !bytes.Equal(r.Proof[i], r2.Proof[i]) {
				t.Fatal("proof differs")
			}
		}
	})
}
