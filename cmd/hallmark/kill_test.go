package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
)

// TestKillDuringDecisions proves the database and the log never disagree:
// a real hallmark process takes a burst of label decisions and is killed
// with SIGKILL at a random moment, three times; after each restart the
// audit finds every label's status and credential in the log.
func TestKillDuringDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	bin := filepath.Join(t.TempDir(), "hallmark")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := t.TempDir()
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	start := func(args ...string) (*exec.Cmd, *bytes.Buffer) {
		var logs bytes.Buffer
		cmd := exec.Command(bin, append([]string{"serve", "--data", data, "--addr", "127.0.0.1:" + port, "--public-url", base, "--log-checkpoint-interval", "100ms"}, args...)...)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			if resp, err := http.Get(base + "/healthz"); err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				return cmd, &logs
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("the server did not start:\n%s", logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	cmd, logs := start("--demo", "--demo-size", "small")
	token := consoleToken(t, base, demo.Email(demo.Owners["etsi-baseline"]))
	labels := labelIDs(t, base, "etsi-baseline")
	if len(labels) < 2 {
		t.Fatalf("the small demo has %d etsi-baseline labels", len(labels))
	}
	size := func(audit string) int {
		var n int
		if m := regexp.MustCompile(`Size\s+(\d+) entries`).FindStringSubmatch(audit); m != nil {
			fmt.Sscan(m[1], &n)
		}
		return n
	}
	_, first := audit(t, t.TempDir(), base)
	last := size(first)
	for round := 0; round < 3; round++ {
		// A burst: suspend and restore labels as fast as the server takes them.
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, id := range labels {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil && i < 50; i++ {
					action := "suspend"
					if i%2 == 1 {
						action = "restore"
					}
					labelAction(ctx, base, token, id, action)
				}
			}()
		}
		time.Sleep(time.Duration(500+rand.IntN(2000)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		stop()
		wg.Wait()
		cmd, logs = start()
		code, out := audit(t, t.TempDir(), base)
		if code != 0 {
			t.Fatalf("round %d: the audit after SIGKILL found problems (exit %d):\n%s\nserver log:\n%s", round, code, out, logs.String())
		}
		// The burst must really have decided things before the kill.
		if n := size(out); n <= last {
			t.Fatalf("round %d: the log did not grow (%d entries, %d before): the burst decided nothing", round, n, last)
		} else {
			t.Logf("round %d: %d decisions logged before and after the kill", round, n-last)
			last = n
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// consoleToken signs in through the web form and creates an API token.
func consoleToken(t *testing.T, base, email string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(path string, form url.Values) string {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post("/login", url.Values{"email": {email}, "password": {demo.Password}, "next": {"/console"}})
	resp, err := c.Get(base + "/console")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("not signed in as %s", email)
	}
	page := post("/console/tokens", url.Values{"csrf": {m[1]}, "name": {"kill test"}})
	tok := regexp.MustCompile(`hm_live_[A-Za-z0-9_-]+`).FindString(page)
	if tok == "" {
		t.Fatalf("no token in:\n%s", page)
	}
	return tok
}

func labelIDs(t *testing.T, base, scheme string) []string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/labels?status=active&limit=20&scheme=" + scheme)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ids []string
	for _, m := range regexp.MustCompile(`"id": "(HM-[A-Z0-9-]+)"`).FindAllStringSubmatch(string(b), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func labelAction(ctx context.Context, base, token, id, action string) {
	body := fmt.Sprintf(`{"action": %q, "reason": "kill test %d"}`, action, time.Now().UnixNano())
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/labels/"+id+"/actions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
