package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/mirror"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

func getJSONInto(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

type federationAnswer struct {
	Mirrors []server.MirrorStatus `json:"mirrors"`
	Alarms  []struct {
		Kind, Subject, Summary, Evidence, Peer string
		Open                                   bool
	} `json:"alarms"`
	Propagation struct {
		Samples int     `json:"samples"`
		P50     float64 `json:"p50_seconds"`
	} `json:"propagation"`
}

// Three authorities on loopback, real servers and stores: A issues and
// suspends; C witnesses A's log and mirrors it; B mirrors A, sees A's
// suspension through its mirror (the propagation indicator) and on its
// own label for the same product, compares its copy with C's views, and
// raises a public alarm when A's registry is changed behind its log's back
// and when A's log shows another witness a different history; an
// agreement between A and B drifts and is flagged on both sides.
func TestThreeAuthorities(t *testing.T) {
	ctx := context.Background()
	a, c := startWitnessed(t)
	b := servertest.StartWith(t, "sqlite", func(cfg *server.Config) { cfg.MirrorGrace = time.Nanosecond })
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := a.Server.WaitLogged(wait); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*servertest.Instance{b, c} {
		if code, out := runCmd("peer", "add", "--data", in.Server.Config().DataDir, "--status-cache", t.TempDir(), a.URL); code != 0 {
			t.Fatalf("peer add: exit %d\n%s", code, out)
		}
	}
	// B also recognises C, so it compares its copy of A's log with C's.
	if code, out := runCmd("peer", "add", "--data", b.Server.Config().DataDir, "--status-cache", t.TempDir(), c.URL); code != 0 {
		t.Fatalf("peer add C: exit %d\n%s", code, out)
	}
	if _, err := c.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	sts, err := b.Server.MirrorPeers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ofA server.MirrorStatus
	for _, s := range sts {
		if s.Peer == a.URL {
			ofA = s
		}
	}
	if ofA.Error != "" || !ofA.Agree || ofA.Size == 0 || ofA.Labels == 0 || ofA.Views < 2 {
		t.Fatalf("B first pass over A: %+v (want no error, agreement, and both C's witness and C's mirror compared)", ofA)
	}
	// B serves its copy under the origin's hash, cosigned by B's mirror key.
	cp := getText(t, b.URL+"/mirror/"+mirror.OriginHash(ofA.Origin)+"/checkpoint")
	if !strings.HasPrefix(cp, ofA.Origin+"\n") || !strings.Contains(cp, "/mirror ") {
		t.Fatalf("B's mirrored checkpoint:\n%s", cp)
	}
	if rep, err := tlog.Audit(ctx, tlog.HTTPFetcher(b.URL+"/mirror/"+mirror.OriginHash(ofA.Origin), nil), mustVerifiers(t, a), ofA.Origin, nil); err != nil || !rep.OK() {
		t.Fatalf("auditing B's mirror of A over HTTP: %v %v", err, rep.Problems)
	}

	// A verifier at B verifies A's labels offline from A's pinned list.
	trust, cache := filepath.Join(t.TempDir(), "trust.json"), t.TempDir()
	if code, out := runCmd("peer", "add", "--trust", trust, "--status-cache", cache, a.URL); code != 0 {
		t.Fatalf("peer add for a verifier: exit %d\n%s", code, out)
	}
	if code, out := runCmd("verify", "--trust", trust, "--status-cache", cache, "--offline", fetchCredential(t, a.URL, someLabel(t, a.URL, "active"))); code != 0 {
		t.Fatalf("offline verification of A's label: exit %d\n%s", code, out)
	}

	// A copy of A's log as it is now, to fork it later.
	forkDir := filepath.Join(t.TempDir(), "fork")
	if err := os.CopyFS(forkDir, os.DirFS(a.Server.LogDir())); err != nil {
		t.Fatal(err)
	}

	// A suspends a label; B's next pass sees it and measures how long it took.
	id := someLabel(t, a.URL, "active")
	l, err := a.Server.LabelRecord(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, authority, err := a.Server.Login(ctx, demo.Email(demo.Owners[l.SchemeID]), demo.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Server.ChangeLabel(ctx, authority, id, assess.SuspendLabel, "an unfixed exploited vulnerability"); err != nil {
		t.Fatal(err)
	}
	if err := a.Server.WaitLogged(wait); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	var seen struct {
		Mirrored bool
		Status   string
		Peer     string
	}
	getJSONInto(t, b.URL+"/api/v1/federation/mirrored?label="+id, &seen)
	if !seen.Mirrored || seen.Status != "suspended" || seen.Peer != a.URL {
		t.Fatalf("B's view of A's suspended label: %+v", seen)
	}
	// B's own label for the same product (the demo market is the same
	// plan at both) is linked to A's: B sees the suspension at A.
	var mine struct {
		Items []struct {
			ID          string `json:"id"`
			ModelNumber string `json:"model_number"`
		}
	}
	getJSONInto(t, b.URL+"/api/v1/labels?limit=1000", &mine)
	local := ""
	for _, it := range mine.Items {
		if it.ModelNumber == l.ModelNumber {
			local = it.ID
		}
	}
	if local == "" {
		t.Fatalf("B has no label for model %s", l.ModelNumber)
	}
	var linked struct {
		Items []struct{ Peer, Label, Status string }
	}
	getJSONInto(t, b.URL+"/api/v1/federation/mirrored?linked_to="+local, &linked)
	foundLink := false
	for _, it := range linked.Items {
		foundLink = foundLink || (it.Peer == a.URL && it.Label == id && it.Status == "suspended")
	}
	if !foundLink {
		t.Fatalf("B's label %s for model %s is not linked to A's suspended %s: %+v", local, l.ModelNumber, id, linked.Items)
	}
	if page := getText(t, b.URL+"/federation"); !strings.Contains(page, "Products suspended elsewhere") || !strings.Contains(page, id) {
		t.Fatalf("B's federation page does not show A's suspension of a product B labels")
	}
	var fed federationAnswer
	getJSONInto(t, b.URL+"/api/v1/federation", &fed)
	if fed.Propagation.Samples != 1 || fed.Propagation.P50 <= 0 || fed.Propagation.P50 > 60 {
		t.Fatalf("propagation indicator: %+v", fed.Propagation)
	}
	if len(fed.Alarms) != 0 {
		t.Fatalf("alarms before any tampering: %+v", fed.Alarms)
	}

	// A's registry is changed behind its log's back: the label shows active
	// again with no logged restoration. B's mirror notices on its passes
	// (the first marks it, the second, past the grace, raises the alarm).
	db, err := sql.Open("sqlite", a.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE labels SET status = 'active' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := b.Server.MirrorPeers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	getJSONInto(t, b.URL+"/api/v1/federation", &fed)
	found := false
	for _, al := range fed.Alarms {
		if al.Kind == mirror.KindStatus && al.Subject == id && al.Open && al.Peer == a.URL && strings.Contains(al.Summary, "left it suspended") &&
			strings.Contains(al.Evidence, "logged_decision") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no open registry-status alarm for %s: %+v", id, fed.Alarms)
	}
	page := getText(t, b.URL+"/federation")
	if !strings.Contains(page, "OPEN") || !strings.Contains(page, id) || !strings.Contains(page, "Evidence") {
		t.Fatalf("the federation page does not show the alarm:\n%s", page)
	}
	// A fork: A's log key signs a different history (the copy grown
	// otherwise) and shows it to another witness, C2, which B recognises.
	// B's next pass compares its copy with C2's view and raises the alarm.
	origin := ofA.Origin
	c2 := servertest.StartWith(t, "sqlite", func(cc *server.Config) {
		cc.WitnessFor = map[string]string{origin: mustVerifierKeys(t, a)[0]}
	})
	signer, _, err := tlog.LoadOrCreateSigner(filepath.Join(a.Server.Config().DataDir, "logkeys"), origin)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := tlog.Open(wait, forkDir, signer, tlog.Options{CheckpointInterval: 100 * time.Millisecond, PublishTimeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	forged := tlog.Entry{Version: 1, Kind: tlog.KindLabelRestored, Authority: origin, Subject: id, Digest: strings.Repeat("ab", 32), Status: "active",
		StatusIndex: int(l.StatusIndex), At: time.Now().UTC().Truncate(time.Second), Ref: "999999"}
	if _, err := fl.Append(wait, forged.Marshal()); err != nil {
		t.Fatal(err)
	}
	forkCP, err := fl.Checkpoint(wait)
	if err != nil {
		t.Fatal(err)
	}
	fl.Close(wait)
	if _, err := c2.Server.Witness().AddCheckpoint(0, nil, forkCP); err != nil {
		t.Fatalf("C2 refused the forked checkpoint it had never seen an alternative to: %v", err)
	}
	if code, out := runCmd("peer", "add", "--data", b.Server.Config().DataDir, "--status-cache", t.TempDir(), c2.URL); code != 0 {
		t.Fatalf("peer add C2: exit %d\n%s", code, out)
	}
	if _, err := b.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	getJSONInto(t, b.URL+"/api/v1/federation", &fed)
	found = false
	for _, al := range fed.Alarms {
		if al.Kind == mirror.KindFork && al.Open && strings.Contains(al.Subject, c2.URL) && strings.Contains(al.Evidence, "other_view") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no fork alarm after C2 was shown another history: %+v", fed.Alarms)
	}

	// A serves an older trust list than B pinned (as a rolled-back
	// instance, or a replayed list, would): B alarms, and resolves the
	// alarm once A's list is acceptable again.
	peersPath := filepath.Join(b.Server.Config().DataDir, server.PeersFile)
	setPinnedSequence := func(delta int) {
		t.Helper()
		st, err := peer.LoadTrustStore(peersPath)
		if err != nil {
			t.Fatal(err)
		}
		is, _ := st.Get(a.URL)
		is.TrustList.Sequence = uint64(int(is.TrustList.Sequence) + delta)
		st.Add(is)
		if err := st.Save(); err != nil {
			t.Fatal(err)
		}
	}
	setPinnedSequence(+5)
	if _, err := b.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	getJSONInto(t, b.URL+"/api/v1/federation", &fed)
	found = false
	for _, al := range fed.Alarms {
		found = found || (al.Kind == server.KindTrustList && al.Open && strings.Contains(al.Summary, "older than the pinned one"))
	}
	if !found {
		t.Fatalf("no trust-list alarm for a rolled-back list: %+v", fed.Alarms)
	}
	setPinnedSequence(-5)
	if _, err := b.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	getJSONInto(t, b.URL+"/api/v1/federation", &fed)
	for _, al := range fed.Alarms {
		if al.Kind == server.KindTrustList && al.Open {
			t.Fatalf("the trust-list alarm stayed open: %+v", al)
		}
	}

	// A and B agree on a level of their schemes; B weakens its scheme.
	agreementDrift(t, a, b)

	// Repaired: the alarm is resolved, and stays on record.
	if _, err := db.Exec(`UPDATE labels SET status = 'suspended' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	getJSONInto(t, b.URL+"/api/v1/federation/alarms", &struct{}{})
	getJSONInto(t, b.URL+"/api/v1/federation", &fed)
	for _, al := range fed.Alarms {
		if al.Subject == id && al.Open {
			t.Fatalf("the alarm stayed open after the registry was repaired: %+v", al)
		}
	}
}

func mustVerifierKeys(t *testing.T, a *servertest.Instance) []string {
	t.Helper()
	_, vkeys, err := tlog.Verifiers(filepath.Join(a.Server.Config().DataDir, "logkeys"))
	if err != nil {
		t.Fatal(err)
	}
	return vkeys
}

func mustVerifiers(t *testing.T, a *servertest.Instance) note.Verifiers {
	t.Helper()
	vs, _, err := tlog.Verifiers(filepath.Join(a.Server.Config().DataDir, "logkeys"))
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// agreementDrift: an agreement recorded by both authorities (each in its
// own log) drifts when one of them publishes a weaker version of its
// scheme; the next check flags it on both sides, publicly, with what
// changed.
func agreementDrift(t *testing.T, a, b *servertest.Instance) {
	t.Helper()
	ctx := context.Background()
	for _, pair := range [][2]*servertest.Instance{{a, b}, {b, a}} {
		if code, out := runCmd("peer", "add", "--data", pair[0].Server.Config().DataDir, "--status-cache", t.TempDir(), pair[1].URL); code != 0 {
			t.Fatalf("peer add: exit %d\n%s", code, out)
		}
	}
	authority := func(in *servertest.Instance) server.Principal {
		_, p, err := in.Server.Login(ctx, demo.Email(demo.Owners["sg-cls"]), demo.Password, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Each authority runs its own copy of a CLS-like scheme (built-in
	// schemes are the platform's, not an authority's to change).
	raw, err := os.ReadFile(filepath.Join("..", "..", "data", "schemes", "sg-cls.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v1 := strings.Replace(string(raw), "id: sg-cls\n", "id: fed-cls\n", 1)
	publish := func(in *servertest.Instance, doc string) {
		t.Helper()
		sc, err := scheme.Parse("fed-cls.yaml", []byte(doc), in.Server.Catalog())
		if err != nil {
			t.Fatal(err)
		}
		if _, created, err := in.Server.PutScheme(ctx, authority(in), sc); err != nil || !created {
			t.Fatalf("publishing fed-cls at %s: %v (created %v)", in.URL, err, created)
		}
	}
	publish(a, v1)
	publish(b, v1)
	for _, pair := range [][2]*servertest.Instance{{a, b}, {b, a}} {
		rec, err := pair[0].Server.RecordAgreement(ctx, authority(pair[0]), server.AgreementRequest{ID: "cls-l2-mutual", Title: "CLS Level 2, both ways",
			Scheme: "fed-cls", Level: "2", Peer: pair[1].URL, PeerScheme: "fed-cls", PeerLevel: "2"})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Checked[0].Percent != 100 || rec.Checked[1].Percent != 100 {
			t.Fatalf("the same level on both sides should compare at 100%% both ways: %+v", rec.Checked)
		}
		ds, err := pair[0].Store.Decisions(ctx, "federation:cls-l2-mutual")
		if err != nil || len(ds) != 1 || ds[0].Digest != rec.Digest() {
			t.Fatalf("the agreement is not a decision in %s's log: %v %+v", pair[0].URL, err, ds)
		}
	}
	// B publishes a new version of its scheme whose level 2 no longer
	// needs secure storage of security parameters (EN 303 645 5.4).
	weaker := strings.Replace(v1, `version: "2026.1"`, `version: "2026.2"`, 1)
	for _, id := range []string{"5.4-1", "5.4-2", "5.4-3", "5.4-4"} {
		weaker = strings.Replace(weaker, "      - etsi-en-303-645-v2.1.1#"+id+"\n", "", 1)
	}
	publish(b, weaker)
	// A hears of it on its next mirror pass over B (B's trust list names
	// the new version).
	if _, err := a.Server.MirrorPeers(ctx); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*servertest.Instance{a, b} {
		var got struct {
			Items []struct {
				Flagged     bool     `json:"flagged"`
				WhatChanged []string `json:"what_changed"`
			} `json:"items"`
		}
		getJSONInto(t, in.URL+"/api/v1/federation/agreements", &got)
		if len(got.Items) != 1 || !got.Items[0].Flagged || len(got.Items[0].WhatChanged) != 1 ||
			!strings.Contains(got.Items[0].WhatChanged[0], "down from 100%") || !strings.Contains(got.Items[0].WhatChanged[0], "newly missing: [HM-SEC-1") ||
			!strings.Contains(got.Items[0].WhatChanged[0], "v1 -> v2") {
			t.Fatalf("%s does not flag the drifted agreement: %+v", in.URL, got)
		}
		if page := getText(t, in.URL+"/federation"); !strings.Contains(page, "FLAGGED") || !strings.Contains(page, "down from 100%") {
			t.Fatalf("%s's federation page does not show the flag", in.URL)
		}
	}
}
