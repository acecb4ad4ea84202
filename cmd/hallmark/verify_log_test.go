package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// Every demo label carries a receipt that verify checks, online and from
// its cache offline; a log that records another credential is caught.
func TestVerifyChecksLogReceipt(t *testing.T) {
	inst := servertest.Start(t, "sqlite")
	id := someLabel(t, inst.URL, "active")
	cache := t.TempDir()
	trust := filepath.Join(t.TempDir(), "trust.json")
	var tout bytes.Buffer
	if code := run(context.Background(), []string{"trust", "add", "--trust", trust, inst.URL}, &tout, &tout); code != 0 {
		t.Fatalf("trust add: exit %d\n%s", code, tout.String())
	}
	verify := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"verify", "--trust", trust, "--status-cache", cache}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := verify(inst.URL + "/labels/" + id)
	if code != 0 || !strings.Contains(out, "issue logged as entry") {
		t.Fatalf("online: exit %d\n%s", code, out)
	}
	cred := filepath.Join(t.TempDir(), "label.jwt")
	resp, err := http.Get(inst.URL + "/labels/" + id + "/credential.jwt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(cred, b, 0o644)
	code, out = verify("--offline", cred)
	if code != 0 || !strings.Contains(out, "issue logged as entry") {
		t.Fatalf("offline from the cache: exit %d\n%s", code, out)
	}

	// The real server's status lists: a surrendered label sets the
	// revocation bit and the message list says surrendered.
	for status, want := range map[string]int{"surrendered": 17, "suspended": 11} {
		code, out := verify("--status-cache", t.TempDir(), inst.URL+"/labels/"+someLabel(t, inst.URL, status))
		if code != want || !strings.Contains(out, "Status         "+strings.ToUpper(status)) {
			t.Errorf("a %s demo label: exit %d, want %d\n%s", status, code, want, out)
		}
	}
	// The API's plain answer says surrendered too, and where the message list is.
	resp, err = http.Get(inst.URL + "/api/v1/labels/" + someLabel(t, inst.URL, "surrendered") + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Status string         `json:"status"`
		Lists  map[string]any `json:"status_lists"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Status != "surrendered" || !strings.Contains(fmt.Sprint(st.Lists["message"]), "/status/message/") {
		t.Errorf("API status answer: %+v", st)
	}

	// The registry's record of the issue is changed behind the log's back:
	// the receipt it serves no longer matches this credential.
	db, err := sql.Open("sqlite", inst.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE decisions SET digest = $1 WHERE subject = $2 AND kind = 'label.issued'`, strings.Repeat("ab", 32), id); err != nil {
		t.Fatal(err)
	}
	code, out = verify("--status-cache", t.TempDir(), inst.URL+"/labels/"+id)
	if code != 10 || !strings.Contains(out, "the log records a different credential") {
		t.Fatalf("a changed record of the issue: exit %d\n%s", code, out)
	}
}
