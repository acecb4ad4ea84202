package main

import (
	"bytes"
	"context"
	"encoding/json"
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

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// ack is a decision a client got a 2xx answer for.
type ack struct {
	label    string
	decision int64
	kind     string // the log entry kind it must appear as
}

// TestKillDuringDecisions proves what a client relies on when it gets a
// 2xx for a decision: the decision survives the server dying at once.
// A real hallmark process takes a burst of decisions — labels issued
// (approvals), suspended and restored — and is killed with SIGKILL at a
// random moment, three times. Every decision acknowledged before a kill is
// recorded; after each restart each one must be in the database (the
// label's decisions, by decision id) and in the log (its entry, logged
// once the logger catches up, with a receipt that verifies against the
// log's signed checkpoint), and the audit must find the registry and the
// log in agreement.
func TestKillDuringDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	began := time.Now()
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
	authority := consoleToken(t, base, demo.Email(demo.Owners["etsi-baseline"]))
	labels := labelIDs(t, base, "etsi-baseline")
	if len(labels) < 2 {
		t.Fatalf("the small demo has %d etsi-baseline labels", len(labels))
	}
	labels = labels[:2]
	// Applications assessed and ready to approve, a batch per round.
	const rounds, perRound = 3, 4
	ready := prepareApplications(t, base, authority, labels[0], rounds*perRound)
	t.Logf("set up in %v: %d applications ready to approve", time.Since(began).Round(time.Millisecond), len(ready))

	size := func(audit string) int {
		var n int
		if m := regexp.MustCompile(`Size\s+(\d+) entries`).FindStringSubmatch(audit); m != nil {
			fmt.Sscan(m[1], &n)
		}
		return n
	}
	_, first := audit(t, t.TempDir(), base)
	last := size(first)
	var (
		mu   sync.Mutex
		acks []ack
	)
	record := func(a ack) {
		mu.Lock()
		acks = append(acks, a)
		mu.Unlock()
	}
	for round := range rounds {
		// A burst: approvals one after another, and suspensions and
		// restorations of every label so far, as fast as the server takes
		// them, until the kill.
		ctx, stop := context.WithCancel(context.Background())
		kill := time.Duration(300+rand.IntN(1200)) * time.Millisecond
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Start the approvals at a random moment before the kill, so
			// that a kill sometimes lands among them.
			time.Sleep(rand.N(kill / 2))
			for _, app := range ready[round*perRound : (round+1)*perRound] {
				if ctx.Err() != nil {
					return
				}
				if label, decision, ok := approve(ctx, base, authority, app); ok {
					record(ack{label, decision, tlog.KindLabelIssued})
				}
			}
		}()
		mu.Lock()
		targets := append([]string{}, labels...)
		for _, a := range acks {
			if a.kind == tlog.KindLabelIssued {
				targets = append(targets, a.label)
			}
		}
		mu.Unlock()
		for _, id := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					action, kind := "suspend", tlog.KindLabelSuspended
					if i%2 == 1 {
						action, kind = "restore", tlog.KindLabelRestored
					}
					if decision, ok := labelAction(ctx, base, authority, id, action); ok {
						record(ack{id, decision, kind})
					}
				}
			}()
		}
		time.Sleep(kill)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		stop()
		wg.Wait()
		cmd, logs = start()
		mu.Lock()
		snapshot := append([]ack{}, acks...)
		mu.Unlock()
		checkAcks(t, round, base, snapshot, logs)
		code, out := audit(t, t.TempDir(), base)
		if code != 0 {
			t.Fatalf("round %d: the audit after SIGKILL found problems (exit %d):\n%s\nserver log:\n%s", round, code, out, logs.String())
		}
		// The burst must really have decided things before the kill.
		n := size(out)
		if n <= last {
			t.Fatalf("round %d: the log did not grow (%d entries, %d before): the burst decided nothing", round, n, last)
		}
		issued := 0
		for _, a := range snapshot {
			if a.kind == tlog.KindLabelIssued {
				issued++
			}
		}
		t.Logf("round %d: %d decisions logged; %d acknowledged so far (%d issuances), each found in the database and the log", round, n-last, len(snapshot), issued)
		last = n
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	issued := 0
	for _, a := range acks {
		if a.kind == tlog.KindLabelIssued {
			issued++
		}
	}
	if issued == 0 {
		t.Error("no approval was acknowledged before a kill: issuance was not tested")
	}
	t.Logf("%v in all", time.Since(began).Round(time.Millisecond))
}

// checkAcks waits (bounded) for the logger to catch up after a restart,
// then insists that every acknowledged decision is among its label's
// stored decisions, logged under its decision id as the entry its kind
// says, with a receipt that verifies.
func checkAcks(t *testing.T, round int, base string, acks []ack, logs *bytes.Buffer) {
	t.Helper()
	byLabel := map[string][]ack{}
	for _, a := range acks {
		byLabel[a.label] = append(byLabel[a.label], a)
	}
	deadline := time.Now().Add(60 * time.Second)
	for label, want := range byLabel {
		for {
			problems := checkLabelAcks(t, base, label, want)
			if len(problems) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: acknowledged decisions missing after SIGKILL and restart:\n%s\nserver log:\n%s",
					round, strings.Join(problems, "\n"), logs.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func checkLabelAcks(t *testing.T, base, label string, want []ack) []string {
	t.Helper()
	var doc struct {
		Origin    string   `json:"log_origin"`
		Verifiers []string `json:"log_verifiers"`
		Receipts  []struct {
			Kind    string `json:"kind"`
			Logged  bool   `json:"logged"`
			Entry   string `json:"entry"`
			Receipt string `json:"receipt"`
		} `json:"receipts"`
	}
	resp, err := http.Get(base + "/api/v1/labels/" + label + "/receipts")
	if err != nil {
		return []string{err.Error()}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return []string{fmt.Sprintf("label %s: %d (an acknowledged issuance lost?)", label, resp.StatusCode)}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("receipts of %s: %v", label, err)
	}
	var vs []note.Verifier
	for _, k := range doc.Verifiers {
		v, err := note.NewVerifier(k)
		if err != nil {
			t.Fatalf("log verifier %q: %v", k, err)
		}
		vs = append(vs, v)
	}
	type stored struct {
		kind, entry, receipt string
		logged               bool
	}
	byRef := map[string]stored{}
	for _, r := range doc.Receipts {
		e, err := tlog.ParseEntry([]byte(r.Entry))
		if err != nil {
			t.Fatalf("label %s: an entry that does not parse: %v", label, err)
		}
		byRef[e.Ref] = stored{r.Kind, r.Entry, r.Receipt, r.Logged}
	}
	var problems []string
	for _, a := range want {
		ref := fmt.Sprint(a.decision)
		s, ok := byRef[ref]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("label %s: decision %d (%s) acknowledged but not in the database", label, a.decision, a.kind))
		case s.kind != a.kind:
			problems = append(problems, fmt.Sprintf("label %s: decision %d stored as %s, acknowledged as %s", label, a.decision, s.kind, a.kind))
		case !s.logged || s.receipt == "":
			problems = append(problems, fmt.Sprintf("label %s: decision %d (%s) not (yet) in the log", label, a.decision, a.kind))
		default:
			rc, err := tlog.ParseReceipt([]byte(s.receipt))
			if err == nil {
				_, err = tlog.VerifyReceipt(rc, []byte(s.entry), note.VerifierList(vs...), doc.Origin)
			}
			if err != nil {
				t.Fatalf("label %s: the receipt of decision %d does not verify: %v", label, a.decision, err)
			}
		}
	}
	return problems
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

// console signs in through the web form and returns the browser and a
// CSRF token of its session.
func console(t *testing.T, base, email string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"email": {email}, "password": {demo.Password}, "next": {"/console"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + "/console")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("not signed in as %s", email)
	}
	return c, m[1]
}

// consoleToken signs in through the web form and creates an API token.
func consoleToken(t *testing.T, base, email string) string {
	t.Helper()
	c, csrf := console(t, base, email)
	req, _ := http.NewRequest("POST", base+"/console/tokens", strings.NewReader(url.Values{"csrf": {csrf}, "name": {"kill test"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`hm_live_[A-Za-z0-9_-]+`).FindString(string(b))
	if tok == "" {
		t.Fatalf("no token in:\n%s", b)
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

// apiCall sends a JSON request and decodes a 2xx answer into out; it
// answers the status (0 when there was no answer, as at a kill).
func apiCall(ctx context.Context, method, url, token, body string, out any) int {
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0 // cut off mid-answer: not an acknowledgement
	}
	if resp.StatusCode < 300 && out != nil && json.Unmarshal(b, out) != nil {
		return 0
	}
	return resp.StatusCode
}

// labelAction suspends or restores a label; ok is a 2xx with the decision.
func labelAction(ctx context.Context, base, token, id, action string) (decision int64, ok bool) {
	var out struct {
		Decision *struct{ ID int64 } `json:"decision"`
	}
	body := fmt.Sprintf(`{"action": %q, "reason": "kill test %d"}`, action, time.Now().UnixNano())
	if s := apiCall(ctx, "POST", base+"/api/v1/labels/"+id+"/actions", token, body, &out); s/100 != 2 || out.Decision == nil {
		return 0, false
	}
	return out.Decision.ID, true
}

// approve approves an assessed application; ok is a 2xx with the label.
func approve(ctx context.Context, base, token string, app int64) (label string, decision int64, ok bool) {
	var out struct {
		Label    *struct{ ID string } `json:"label"`
		Decision *struct{ ID int64 }  `json:"decision"`
	}
	if s := apiCall(ctx, "POST", fmt.Sprintf("%s/api/v1/applications/%d/steps", base, app), token, `{"step": "approve", "note": "kill test"}`, &out); s/100 != 2 ||
		out.Label == nil || out.Decision == nil {
		return "", 0, false
	}
	return out.Label.ID, out.Decision.ID, true
}

// prepareApplications makes n etsi-baseline applications, each assessed
// and waiting for the authority's approval, for products of the maker of
// the label given.
func prepareApplications(t *testing.T, base, authority, someLabel string, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var l struct{ Manufacturer string }
	if s := apiCall(ctx, "GET", base+"/api/v1/labels/"+someLabel, "", "", &l); s != 200 {
		t.Fatalf("label %s: %d", someLabel, s)
	}
	maker := consoleToken(t, base, demo.Email(l.Manufacturer))
	const labName = "Lion City Test House"
	lab := consoleToken(t, base, demo.Email(labName))
	authorityBrowser, _ := console(t, base, demo.Email(demo.Owners["etsi-baseline"]))
	must := func(what string, s int) {
		t.Helper()
		if s/100 != 2 {
			t.Fatalf("%s: %d", what, s)
		}
	}
	var labID string
	var apps []int64
	for i := range n {
		var prod, ver, app struct{ ID int64 }
		must("product", apiCall(ctx, "POST", base+"/api/v1/products", maker,
			fmt.Sprintf(`{"name": "Kill Test Camera %d", "category": "camera", "model_number": "KT-%d", "published": true}`, i, i), &prod))
		must("version", apiCall(ctx, "POST", fmt.Sprintf("%s/api/v1/products/%d/versions", base, prod.ID), maker,
			`{"software_version": "1.0.0", "facts": {"support_end_date": "2031-06-30", "update_mode": "automatic", "password_type": "unique-per-device", "security_contact": "psirt@kill.example"}}`, &ver))
		must("apply", apiCall(ctx, "POST", base+"/api/v1/applications", maker, fmt.Sprintf(`{"version_id": %d, "level": "etsi-baseline@baseline"}`, ver.ID), &app))
		step := func(tok, body string) {
			t.Helper()
			must("step "+body, apiCall(ctx, "POST", fmt.Sprintf("%s/api/v1/applications/%d/steps", base, app.ID), tok, body, nil))
		}
		// The level asks for evidence: approval is refused without it.
		must("evidence", apiCall(ctx, "POST", fmt.Sprintf("%s/api/v1/applications/%d/evidence?name=test-report.json", base, app.ID), maker,
			`{"report": "every requirement of the level was assessed and met"}`, nil))
		step(maker, `{"step": "submit"}`)
		if labID == "" {
			// The lab's id, as the authority's assignment form offers it.
			resp, err := authorityBrowser.Get(fmt.Sprintf("%s/console/applications/%d", base, app.ID))
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := regexp.MustCompile(`<option value="(\d+)">` + labName).FindSubmatch(page)
			if m == nil {
				t.Fatalf("no %s on the assignment form", labName)
			}
			labID = string(m[1])
		}
		step(authority, `{"step": "assign", "assessor_org_id": `+labID+`}`)
		var view struct{ Required []string }
		must("read", apiCall(ctx, "GET", fmt.Sprintf("%s/api/v1/applications/%d", base, app.ID), lab, "", &view))
		for _, req := range view.Required {
			must("finding", apiCall(ctx, "POST", fmt.Sprintf("%s/api/v1/applications/%d/findings", base, app.ID), lab,
				`{"requirement": "`+req+`", "verdict": "pass", "rationale": "tested"}`, nil))
		}
		step(lab, `{"step": "complete"}`)
		apps = append(apps, app.ID)
	}
	return apps
}
