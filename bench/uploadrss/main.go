// Command uploadrss measures what SBOM uploads cost a real Hallmark server
// in resident memory (issue 10, item 1: any accepted upload under 256 MiB
// above the idle RSS; four at once do not fail).
//
// It starts the hallmark binary given (-bin) on a fresh data directory,
// registers a manufacturer through the web form, creates an API token and
// versions, then for each case restarts the server, lets it settle, reads
// its idle RSS (/proc/PID/status, VmRSS), sends the case's uploads and
// samples the RSS every 5 ms until they are answered. It prints one line
// per case: the answers, the time, and the peak RSS above idle.
//
//	go build -o /tmp/hallmark ./cmd/hallmark && go run ./bench/uploadrss -bin /tmp/hallmark
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	bin := flag.String("bin", "", "the hallmark binary to measure")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "uploadrss: give -bin PATH of a built hallmark")
		os.Exit(2)
	}
	if err := run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "uploadrss:", err)
		os.Exit(1)
	}
}

type server struct {
	cmd  *exec.Cmd
	base string
	logs bytes.Buffer
}

// addr is the one address every start uses: the log's name follows it.
var addr string

func start(bin, data string) (*server, error) {
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	s := &server{base: "http://" + addr}
	s.cmd = exec.Command(bin, "serve", "--data", data, "--addr", addr, "--public-url", s.base)
	s.cmd.Stdout, s.cmd.Stderr = &s.logs, &s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for range 600 {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("the server did not start:\n%s", s.logs.String())
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// rss reads the process's resident set size in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, nil
}

// account registers a manufacturer and returns an API token.
func account(base string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(path string, form url.Values) (string, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if _, err := post("/register", url.Values{"org": {"Memory Measure Devices"}, "country": {"NL"}, "name": {"M"},
		"email": {"m@measure.example"}, "password": {"a long enough password"}, "password2": {"a long enough password"}}); err != nil {
		return "", err
	}
	// Registration does not sign in (the answer must not tell which
	// addresses have accounts): sign in next.
	if _, err := post("/login", url.Values{"email": {"m@measure.example"}, "password": {"a long enough password"}, "next": {"/console"}}); err != nil {
		return "", err
	}
	resp, err := c.Get(base + "/console")
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("not signed in after registering (console: %d)", resp.StatusCode)
	}
	page, err := post("/console/tokens", url.Values{"csrf": {string(m[1])}, "name": {"uploadrss"}})
	if err != nil {
		return "", err
	}
	tok := regexp.MustCompile(`hm_live_[A-Za-z0-9_-]+`).FindString(page)
	if tok == "" {
		return "", fmt.Errorf("no token on the console page")
	}
	return tok, nil
}

func apiJSON(method, url, token, body string, out any) error {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// cdx builds a CycloneDX JSON SBOM of n components from one(i).
func cdx(n int, one func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one(i))
	}
	b.WriteString("]}")
	return b.Bytes()
}

// largest is the largest SBOM accepted: 50,000 components with the
// fields real ones carry, padded to just under the 32 MiB limit.
func largest() []byte {
	const n, limit = 50_000, 32 << 20
	gen := func(pad int) []byte {
		return cdx(n, func(i int) string {
			return fmt.Sprintf(`{"type": "library", "bom-ref": "pkg:npm/component-%d@1.%d.0", "group": "@acme", "name": "component-%d", "version": "1.%d.0",
"purl": "pkg:npm/%%40acme/component-%d@1.%d.0", "supplier": {"name": "Acme Software"}, "hashes": [{"alg": "SHA-256", "content": "%064x"}],
"licenses": [{"license": {"id": "Apache-2.0"}}], "description": "%s"}`, i, i, i, i, i, i, i, strings.Repeat("x", pad))
		})
	}
	// The description's length that brings the file nearest the limit.
	base := len(gen(0))
	return gen((limit - base - 1) / n)
}

type result struct {
	statuses []int
	took     time.Duration
	peak     int64
	idle     int64
}

// measure restarts the server, waits for it to settle, and sends bodies at
// once to as many versions.
func measure(bin, data, token string, versions []int64, bodies [][]byte) (result, error) {
	s, err := start(bin, data)
	if err != nil {
		return result{}, err
	}
	defer s.stop()
	time.Sleep(3 * time.Second) // start-up work (catalogue, log) done
	pid := s.cmd.Process.Pid
	var r result
	if r.idle, err = rss(pid); err != nil {
		return r, err
	}
	var peak atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if v, err := rss(pid); err == nil && v > peak.Load() {
				peak.Store(v)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	r.statuses = make([]int, len(bodies))
	began := time.Now()
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/versions/%d/sbom", s.base, versions[i]), bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/vnd.cyclonedx+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				r.statuses[i] = -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			r.statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	r.took = time.Since(began)
	time.Sleep(50 * time.Millisecond)
	cancel()
	r.peak = peak.Load() - r.idle
	return r, nil
}

func run(bin string) error {
	data, err := os.MkdirTemp("", "hallmark-uploadrss-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	s, err := start(bin, filepath.Join(data, "d"))
	if err != nil {
		return err
	}
	token, err := account(s.base)
	if err != nil {
		s.stop()
		return err
	}
	var prod struct{ ID int64 }
	if err := apiJSON("POST", s.base+"/api/v1/products", token, `{"name": "RSS Cam", "category": "camera", "model_number": "RSS-1"}`, &prod); err != nil {
		s.stop()
		return err
	}
	var versions []int64
	for i := range 8 {
		var v struct{ ID int64 }
		if err := apiJSON("POST", fmt.Sprintf("%s/api/v1/products/%d/versions", s.base, prod.ID), token, fmt.Sprintf(`{"software_version": "1.%d"}`, i), &v); err != nil {
			s.stop()
			return err
		}
		versions = append(versions, v.ID)
	}
	s.stop()

	big := largest()
	cases := []struct {
		name   string
		bodies [][]byte
	}{
		{"1,000,000 empty components (issue 10)", [][]byte{cdx(1_000_000, func(int) string { return "{}" })}},
		{"10,000,000 empty components (issue 10)", [][]byte{cdx(10_000_000, func(int) string { return "{}" })}},
		{"1,000,000 named components (issue 10)", [][]byte{cdx(1_000_000, func(i int) string { return fmt.Sprintf(`{"name":"c%d"}`, i) })}},
		{"the largest accepted: 50,000 components", [][]byte{big}},
		{"four of the largest at once", [][]byte{big, big, big, big}},
	}
	const mib = 1 << 20
	fmt.Printf("%-42s %8s %-22s %9s %10s %12s\n", "case", "MiB", "answers", "time", "idle RSS", "peak - idle")
	for i, c := range cases {
		r, err := measure(bin, filepath.Join(data, "d"), token, versions[i:], c.bodies)
		if err != nil {
			return err
		}
		statuses := fmt.Sprint(r.statuses)
		fmt.Printf("%-42s %8.1f %-22s %9s %7d MiB %8d MiB\n", c.name, float64(len(c.bodies[0]))/mib, statuses,
			r.took.Round(10*time.Millisecond), r.idle/mib, r.peak/mib)
	}
	return nil
}
