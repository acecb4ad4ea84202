package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// syncBuffer is a log buffer the server process and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClusterFailover runs three real hallmark processes on one
// PostgreSQL primary with a streaming replica: the first holds the writer
// role, the two others serve reads from the replica and forward writes.
// Decisions sent to any instance are made once and read on every
// instance; SIGKILL to the writer moves the role to another instance,
// which decides on, and the log stays whole (the audit passes, and every
// acknowledged decision is in the database and the log).
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real servers")
	}
	primary, replica := pgtest.Replicated(t)
	bin := filepath.Join(t.TempDir(), "hallmark")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := t.TempDir()
	type instance struct {
		base string
		cmd  *exec.Cmd
		logs *syncBuffer
	}
	var insts []*instance
	for range 3 {
		insts = append(insts, &instance{base: "http://127.0.0.1:" + freePort(t)})
	}
	public := insts[0].base // one public URL for all: credentials and the log's origin name it
	start := func(in *instance, args ...string) {
		in.logs = &syncBuffer{}
		in.cmd = exec.Command(bin, append([]string{"serve", "--cluster", "--data", data, "--db", primary, "--read-db", replica,
			"--addr", in.base[len("http://"):], "--public-url", public, "--advertise", in.base, "--log-checkpoint-interval", "100ms"}, args...)...)
		in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
		if err := in.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.cmd.Process.Kill(); in.cmd.Wait() })
		deadline := time.Now().Add(90 * time.Second)
		for {
			if resp, err := http.Get(in.base + "/healthz"); err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not start:\n%s", in.base, in.logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ready := func(in *instance) (role, reads string) {
		resp, err := http.Get(in.base + "/readyz")
		if err != nil {
			return "", ""
		}
		defer resp.Body.Close()
		var r struct{ Checks map[string]string }
		json.NewDecoder(resp.Body).Decode(&r)
		return r.Checks["role"], r.Checks["reads"]
	}
	start(insts[0], "--demo", "--demo-size", "small")
	t.Logf("instances %s (writer), %s, %s", insts[0].base, insts[1].base, insts[2].base)
	start(insts[1])
	start(insts[2])
	if role, _ := ready(insts[0]); role != "writer" {
		t.Fatalf("the first instance is %q, not the writer", role)
	}
	for _, in := range insts[1:] {
		deadline := time.Now().Add(10 * time.Second)
		for {
			role, reads := ready(in)
			if role == "reader" && reads == "replica" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is %q reading from %q, want a reader reading the replica:\n%s", in.base, role, reads, in.logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	authority := consoleToken(t, insts[0].base, demo.Email(demo.Owners["etsi-baseline"]))
	labels := labelIDs(t, insts[0].base, "etsi-baseline")
	if len(labels) < 2 {
		t.Fatalf("the small demo has %d etsi-baseline labels", len(labels))
	}
	var acks []ack
	decide := func(via *instance, id, action, kind string) {
		t.Helper()
		d, ok := labelAction(context.Background(), via.base, authority, id, action)
		if !ok {
			t.Fatalf("%s %s through %s was refused:\n%s", action, id, via.base, via.logs.String())
		}
		acks = append(acks, ack{id, d, kind})
	}
	// Every live instance shows the status within the bound.
	seen := func(id, status string, on []*instance) time.Duration {
		t.Helper()
		began := time.Now()
		for _, in := range on {
			for {
				var st struct{ Status string }
				if code := apiCall(context.Background(), "GET", in.base+"/api/v1/labels/"+id+"/status", "", "", &st); code == 200 && st.Status == status {
					break
				}
				if time.Since(began) > 5*time.Second {
					t.Fatalf("%s does not show %s as %s after 5s (it shows %q):\n%s", in.base, id, status, st.Status, in.logs.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		return time.Since(began)
	}
	// Read first, so each reader has the label cached: the announcement
	// must make it forget.
	seen(labels[0], "active", insts)
	decide(insts[1], labels[0], "suspend", tlog.KindLabelSuspended) // forwarded to the writer
	t.Logf("a suspension sent to a reader: shown by all three instances after %v", seen(labels[0], "suspended", insts))
	decide(insts[0], labels[0], "restore", tlog.KindLabelRestored)
	t.Logf("a restoration sent to the writer: shown by all three after %v", seen(labels[0], "active", insts))

	// The writer dies.
	insts[0].cmd.Process.Signal(syscall.SIGKILL)
	insts[0].cmd.Wait()
	killed := time.Now()
	var writer, other *instance
	for writer == nil {
		for i, in := range insts[1:] {
			if role, _ := ready(in); role == "writer" {
				writer, other = in, insts[1+(1-i)]
			}
		}
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("no instance took the writer role 15s after the writer was killed:\n%s\n%s", insts[1].logs.String(), insts[2].logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("writer killed: %s took the role after %v", writer.base, time.Since(killed).Round(time.Millisecond))
	if role, _ := ready(other); role != "reader" {
		t.Fatalf("two writers: %s is %q too", other.base, role)
	}
	survivors := []*instance{writer, other}
	decide(other, labels[1], "suspend", tlog.KindLabelSuspended) // forwarded to the new writer
	t.Logf("after the failover, a suspension sent to the reader: shown by both after %v", seen(labels[1], "suspended", survivors))
	decide(writer, labels[1], "restore", tlog.KindLabelRestored)
	seen(labels[1], "active", survivors)

	// Every acknowledged decision is in the database and the log, and the
	// log verifies, read through either survivor.
	for _, in := range survivors {
		checkAcks(t, 0, in.base, acks, &bytes.Buffer{})
		if code, out := audit(t, t.TempDir(), in.base); code != 0 {
			t.Fatalf("the audit through %s failed (exit %d):\n%s\n%s", in.base, code, out, in.logs.String())
		}
	}
}

// --cluster is refused where it cannot work, saying what to give instead.
func TestClusterFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--cluster", "--advertise", "http://127.0.0.1:1", "--data", t.TempDir()}, "needs a PostgreSQL database"},
		{[]string{"serve", "--cluster", "--data", t.TempDir(), "--db", "postgres://h/db"}, "needs --advertise"},
		{[]string{"serve", "--read-db", "postgres://h/db", "--data", t.TempDir()}, "--read-db takes a postgres:// URL of a replica, with --cluster"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, %q; want %q", c.args, code, errb.String(), c.want)
		}
	}
}
