package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Two real processes on one data directory: a second server, and commands
// that write the data directory, are refused at once, told which process
// holds it; a backup, which only reads, runs beside the server; once the
// first server is killed (SIGKILL: no clean-up), the directory is free.
func TestSecondServerRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real servers")
	}
	bin := filepath.Join(t.TempDir(), "hallmark")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := t.TempDir()
	serveCmd := func(dataDir string, port string) (*exec.Cmd, string) {
		return exec.Command(bin, "serve", "--data", dataDir, "--addr", "127.0.0.1:"+port, "--public-url", "http://127.0.0.1:"+port), "http://127.0.0.1:" + port
	}
	serve := func(dataDir string, port string) (*exec.Cmd, *bytes.Buffer, string) {
		cmd, base := serveCmd(dataDir, port)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &logs, base
	}
	healthy := func(cmd *exec.Cmd, logs *bytes.Buffer, base string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			if resp, err := http.Get(base + "/healthz"); err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				return
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("the server did not start:\n%s", logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	port := lockTestPort(t)
	first, logs, base := serve(data, port)
	t.Cleanup(func() { first.Process.Kill(); first.Wait() })
	healthy(first, logs, base)

	refused := func(name string, cmd *exec.Cmd) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		done := make(chan error, 1)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Fatalf("%s was not refused; it ran:\n%s", name, out.String())
		}
		want := fmt.Sprintf("is in use by another hallmark process (pid %d, hallmark serve, since ", first.Process.Pid)
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "Stop that process first") {
			t.Errorf("%s: exit %d, want 1 and %q:\n%s", name, cmd.ProcessState.ExitCode(), want, out.String())
		}
	}
	second, secondBase := serveCmd(data, lockTestPort(t))
	refused("a second server", second)
	if resp, err := http.Get(secondBase + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("the second server answers")
	}
	// Another data directory naming the first one's database.
	refused("a server on the same database file", exec.Command(bin, "serve", "--data", t.TempDir(), "--db", filepath.Join(data, "hallmark.db"), "--addr", "127.0.0.1:"+lockTestPort(t)))
	refused("keys rotate", exec.Command(bin, "keys", "--data", data, "rotate"))
	account := exec.Command(bin, "account", "--data", data, "--org", "Lab", "--kind", "assessor-lab", "--email", "lab@example.org")
	account.Env = append(os.Environ(), "HALLMARK_PASSWORD=correct horse battery staple")
	refused("account", account)

	// The operator's hold on access works beside the server: not refused
	// for the lock (the user is unknown here, so it fails for that).
	if out, err := exec.Command(bin, "token", "--data", data, "list", "--email", "nobody@example.org").CombinedOutput(); err == nil ||
		strings.Contains(string(out), "in use by another hallmark process") || !strings.Contains(string(out), "nobody@example.org") {
		t.Errorf("token list beside the server: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "backup", "--data", data, filepath.Join(t.TempDir(), "b")).CombinedOutput(); err != nil {
		t.Fatalf("a backup beside the server: %v\n%s", err, out)
	}

	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	again, logs, base := serve(data, port) // the same public URL: the log is named after it
	t.Cleanup(func() { again.Process.Kill(); again.Wait() })
	healthy(again, logs, base)
}

func lockTestPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}
