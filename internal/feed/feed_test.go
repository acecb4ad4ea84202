package feed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/feed"
	"github.com/hallmark-iot/hallmark/internal/feed/feedtest"
)

var trees = []string{feedtest.DirectoryTree, feedtest.ROLIETree}

// client makes a feed client that trusts p's test certificate.
func client(p *feedtest.Provider, opts feed.Options) *feed.Client {
	opts.HTTPClient = p.Client()
	return feed.New(opts)
}

// run polls p and returns the report and the ids of the documents handed
// over. The state goes through JSON first, as it does between polls.
func run(t *testing.T, c *feed.Client, p *feedtest.Provider, st *feed.State) (feed.Report, []string, *feed.State, error) {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var next feed.State
	if err := json.Unmarshal(b, &next); err != nil {
		t.Fatal(err)
	}
	var ids []string
	rep, err := c.Poll(context.Background(), p.MetadataURL(), &next, func(doc *advisory.Document) error {
		ids = append(ids, doc.ID)
		return nil
	})
	return rep, ids, &next, err
}

// serve serves a tree with extra documents beside the corpus' one, each
// signed by the provider's key and listed a day apart.
func serve(t *testing.T, tree string, extra int) *feedtest.Provider {
	p := feedtest.Serve(t, tree)
	for i := range extra {
		p.Publish(t, fmt.Sprintf("avendor-advisory-%04d.json", 100+i), p.Document(fmt.Sprintf("Avendor-advisory-%04d", 100+i)),
			time.Date(2021, 1, 1+i, 0, 0, 0, 0, time.UTC), p.Key)
	}
	return p
}

func TestCorpusTrees(t *testing.T) {
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			p := feedtest.Serve(t, tree)
			rep, ids, _, err := run(t, client(p, feed.Options{}), p, &feed.State{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Ingested != 1 || rep.Fetched != 1 || len(rep.Refused) != 0 || len(ids) != 1 || ids[0] != "Avendor-advisory-0004" {
				t.Fatalf("%+v, %v", rep, ids)
			}
			if rep.Publisher != "ACME Inc" || rep.Role != "csaf_trusted_provider" || len(rep.Warnings) != 0 {
				t.Errorf("%+v", rep)
			}
			// The hash and signature were fetched and checked.
			if p.Hits("white/"+feedtest.Corpus+".sha512") != 1 || p.Hits("white/"+feedtest.Corpus+".asc") != 1 {
				t.Errorf("hash fetched %d times, signature %d", p.Hits("white/"+feedtest.Corpus+".sha512"), p.Hits("white/"+feedtest.Corpus+".asc"))
			}
		})
	}
}

// A second poll sends conditional requests for the metadata, the key and
// the listing, is told nothing changed, and asks for no document.
func TestSecondPollIsConditional(t *testing.T) {
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			p := serve(t, tree, 4)
			c := client(p, feed.Options{})
			rep, ids, st, err := run(t, c, p, &feed.State{})
			if err != nil || rep.Ingested != 5 || len(ids) != 5 || len(rep.Refused) != 0 {
				t.Fatalf("first poll: %+v, %v", rep, err)
			}
			before, _ := p.Requests()
			rep, ids, _, err = run(t, c, p, st)
			if err != nil || rep.Ingested != 0 || rep.Fetched != 0 || len(ids) != 0 || rep.ListingsUnchanged != 1 {
				t.Fatalf("second poll: %+v, %v", rep, err)
			}
			after, conds := p.Requests()
			if after-before != 3 || conds != 3 {
				t.Errorf("second poll: %d requests, %d conditional in all; want 3 and 3 (metadata, key, listing)", after-before, conds)
			}
			for _, d := range p.Documents() {
				if n := p.Hits(d); n != 1 {
					t.Errorf("%s fetched %d times", d, n)
				}
			}
		})
	}
}

func TestTamperedDocumentRefused(t *testing.T) {
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			p := serve(t, tree, 4)
			const doc = "white/avendor-advisory-0101.json"
			good := p.File(doc)
			p.Set(doc, bytes.Replace(good, []byte("ACME"), []byte("ACMF"), 1))
			c := client(p, feed.Options{})
			rep, ids, st, err := run(t, c, p, &feed.State{})
			if err != nil || rep.Ingested != 4 || len(rep.Refused) != 1 {
				t.Fatalf("%+v, %v", rep, err)
			}
			r := rep.Refused[0]
			if r.URL != p.URL+"/"+doc || !strings.Contains(r.Reason, ".sha512") || !strings.Contains(r.Reason, "differs") {
				t.Errorf("refusal %v", r)
			}
			for _, id := range ids {
				if id == "Avendor-advisory-0101" {
					t.Error("the tampered document was handed over")
				}
			}
			// A refused document is not done: once the provider serves it
			// right, the next poll takes it, and only it.
			p.Set(doc, good)
			rep, ids, _, err = run(t, c, p, st)
			if err != nil || rep.Ingested != 1 || len(ids) != 1 || ids[0] != "Avendor-advisory-0101" || len(rep.Refused) != 0 {
				t.Errorf("after the fix: %+v, %v, %v", rep, ids, err)
			}
		})
	}
}

func TestSignatureByAnotherKeyRefused(t *testing.T) {
	stranger, err := openpgp.NewEntity("Mallory", "", "mallory@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			p := serve(t, tree, 1)
			// Hashes right, signature by a key the provider does not have.
			p.Publish(t, "avendor-advisory-0666.json", p.Document("Avendor-advisory-0666"), time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), stranger)
			c := client(p, feed.Options{})
			rep, ids, _, err := run(t, c, p, &feed.State{})
			if err != nil || rep.Ingested != 2 || len(ids) != 2 || len(rep.Refused) != 1 {
				t.Fatalf("%+v, %v", rep, err)
			}
			if r := rep.Refused[0]; !strings.HasSuffix(r.URL, "0666.json") || !strings.Contains(r.Reason, "0666.json.asc") || !strings.Contains(r.Reason, "not verified") {
				t.Errorf("refusal %v", r)
			}

			// The stranger's key in the provider's key file verifies the
			// signature, but is not the key the metadata lists.
			var pub bytes.Buffer
			w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
			if err := p.Key.Serialize(w); err != nil {
				t.Fatal(err)
			}
			if err := stranger.Serialize(w); err != nil {
				t.Fatal(err)
			}
			w.Close()
			p.Set("openpgp/pubkey.asc", pub.Bytes())
			rep, _, _, err = run(t, c, p, &feed.State{})
			if err != nil || rep.Ingested != 2 || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0].Reason, "does not list") {
				t.Errorf("two keys in the file: %+v, %v", rep, err)
			}
		})
	}
}

func TestMissingSignatureOrHashRefused(t *testing.T) {
	p := serve(t, feedtest.DirectoryTree, 2)
	p.Set("white/avendor-advisory-0100.json.asc", nil)
	p.Set("white/avendor-advisory-0101.json.sha512", nil)
	p.Set("white/avendor-advisory-0101.json.sha256", nil)
	rep, _, _, err := run(t, client(p, feed.Options{}), p, &feed.State{})
	if err != nil || rep.Ingested != 1 || len(rep.Refused) != 2 {
		t.Fatalf("%+v, %v", rep, err)
	}
	if !strings.Contains(rep.Refused[0].Reason, "no signature") || !strings.Contains(rep.Refused[1].Reason, "no hash") {
		t.Errorf("%v", rep.Refused)
	}
}

func TestOversizedDocumentRefused(t *testing.T) {
	p := serve(t, feedtest.ROLIETree, 1)
	p.Set("white/avendor-advisory-0100.json", bytes.Repeat([]byte(" "), advisory.MaxDocumentSize+1))
	rep, _, _, err := run(t, client(p, feed.Options{}), p, &feed.State{})
	if err != nil || rep.Ingested != 1 || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0].Reason, "over the limit") {
		t.Fatalf("%+v, %v", rep, err)
	}
	if p.Hits("white/avendor-advisory-0100.json.asc") != 0 {
		t.Error("the signature of an oversized document was fetched")
	}
}

// A poll stopped by the caller after two documents resumes with the
// others, fetching none of the first two again.
func TestInterruptedPollResumes(t *testing.T) {
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			p := serve(t, tree, 4)
			c := client(p, feed.Options{})
			st := &feed.State{}
			stop := errors.New("disk full")
			var ids []string
			rep, err := c.Poll(context.Background(), p.MetadataURL(), st, func(doc *advisory.Document) error {
				if len(ids) == 2 {
					return stop
				}
				ids = append(ids, doc.ID)
				return nil
			})
			if !errors.Is(err, stop) || !strings.Contains(err.Error(), "avendor-advisory-0101.json") || rep.Ingested != 2 {
				t.Fatalf("interrupted poll: %+v, %v", rep, err)
			}
			rep, more, _, err := run(t, c, p, st)
			if err != nil || rep.Ingested != 3 || len(more) != 3 {
				t.Fatalf("resumed poll: %+v, %v", rep, err)
			}
			seen := map[string]bool{}
			for _, id := range append(ids, more...) {
				if seen[id] {
					t.Errorf("%s handed over twice", id)
				}
				seen[id] = true
			}
			// The document refused by the caller is fetched twice; the
			// others once.
			for _, d := range p.Documents() {
				want := 1
				if d == "white/avendor-advisory-0101.json" {
					want = 2
				}
				if n := p.Hits(d); n != want {
					t.Errorf("%s fetched %d times, want %d", d, n, want)
				}
			}
		})
	}
}

// A newer entry in changes.csv or the ROLIE feed fetches that document
// only.
func TestNewerEntryFetchesOnlyIt(t *testing.T) {
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			p := serve(t, tree, 4)
			c := client(p, feed.Options{})
			_, _, st, err := run(t, c, p, &feed.State{})
			if err != nil {
				t.Fatal(err)
			}
			const name = "avendor-advisory-0101.json"
			body := bytes.Replace(p.File("white/"+name), []byte("Test CSAF document"), []byte("Test CSAF document, revised"), 1)
			p.Publish(t, name, body, time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC), p.Key)
			rep, ids, st, err := run(t, c, p, st)
			if err != nil || rep.Fetched != 1 || rep.Ingested != 1 || rep.Unchanged != 4 || len(ids) != 1 || ids[0] != "Avendor-advisory-0101" {
				t.Fatalf("%+v, %v, %v", rep, ids, err)
			}
			for _, d := range p.Documents() {
				want := 1
				if d == "white/"+name {
					want = 2
				}
				if n := p.Hits(d); n != want {
					t.Errorf("%s fetched %d times, want %d", d, n, want)
				}
			}
			// Listed newer with the same bytes: asked for conditionally,
			// answered 304, not handed over.
			p.Relist(t, name, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			rep, ids, _, err = run(t, c, p, st)
			if err != nil || rep.Fetched != 0 || rep.Ingested != 0 || rep.Unchanged != 5 || len(ids) != 0 || p.Hits("white/"+name) != 3 {
				t.Errorf("relisted: %+v, %v, %d fetches", rep, err, p.Hits("white/"+name))
			}
		})
	}
}

func TestDocumentLimit(t *testing.T) {
	p := serve(t, feedtest.DirectoryTree, 4)
	c := client(p, feed.Options{MaxDocuments: 2})
	st := &feed.State{}
	var got []int
	for range 4 {
		rep, _, next, err := run(t, c, p, st)
		if err != nil {
			t.Fatal(err)
		}
		st = next
		got = append(got, rep.Ingested)
		if rep.Truncated != (rep.Ingested == 2 && len(got) < 3) {
			t.Errorf("poll %d: %+v", len(got), rep)
		}
	}
	if fmt.Sprint(got) != "[2 2 1 0]" {
		t.Errorf("ingested per poll: %v", got)
	}
}

// Without changes.csv, index.txt lists the documents; once it changes,
// each listed document is asked for conditionally and only the new one is
// downloaded.
func TestIndexTXT(t *testing.T) {
	p := serve(t, feedtest.DirectoryTree, 2)
	p.Set("white/changes.csv", nil)
	c := client(p, feed.Options{})
	rep, _, st, err := run(t, c, p, &feed.State{})
	if err != nil || rep.Ingested != 3 || len(rep.Refused) != 0 {
		t.Fatalf("%+v, %v", rep, err)
	}
	p.Publish(t, "avendor-advisory-0200.json", p.Document("Avendor-advisory-0200"), time.Now(), p.Key)
	p.Set("white/changes.csv", nil)
	rep, ids, _, err := run(t, c, p, st)
	if err != nil || rep.Fetched != 1 || rep.Ingested != 1 || rep.Unchanged != 3 || len(ids) != 1 || ids[0] != "Avendor-advisory-0200" {
		t.Fatalf("%+v, %v, %v", rep, ids, err)
	}
}

func TestKeyFingerprintChecked(t *testing.T) {
	p := feedtest.Serve(t, feedtest.ROLIETree)
	p.Set("provider-metadata.json", bytes.Replace(p.File("provider-metadata.json"), []byte("A8914CA2F11139C6A69A0018FB3CD9B15DE61596"), []byte("0000000000000000000000000000000000000000"), 1))
	rep, ids, _, err := run(t, client(p, feed.Options{}), p, &feed.State{})
	if err == nil || !strings.Contains(err.Error(), "no document can be verified") || len(ids) != 0 {
		t.Fatalf("%v, %v", err, ids)
	}
	if len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0].Reason, "fingerprint is A8914CA2") || !strings.HasSuffix(rep.Refused[0].URL, "pubkey.asc") {
		t.Errorf("%v", rep.Refused)
	}
}

func TestURLRules(t *testing.T) {
	p := feedtest.Serve(t, feedtest.DirectoryTree)
	plain := httptest.NewServer(p) // the same tree over plain http
	defer plain.Close()
	plainURL := plain.URL + "/" + feedtest.DirectoryTree + "/provider-metadata.json"
	ctx := context.Background()
	fn := func(*advisory.Document) error { return nil }
	if _, err := client(p, feed.Options{}).Poll(ctx, plainURL, nil, fn); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("loopback http without the option: %v", err)
	}
	if rep, err := client(p, feed.Options{AllowHTTPLoopback: true}).Poll(ctx, plainURL, nil, fn); err != nil || rep.Ingested != 1 {
		t.Errorf("loopback http with the option: %+v, %v", rep, err)
	}
	for _, u := range []string{"http://provider.example/provider-metadata.json", "file:///etc/passwd", "ftp://provider.example/x.json", "https://user:pw@provider.example/x.json"} {
		if _, err := client(p, feed.Options{AllowHTTPLoopback: true}).Poll(ctx, u, nil, fn); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: %v", u, err)
		}
	}
	if u, _ := feed.MetadataURL("provider.example"); u != "https://provider.example/.well-known/csaf/provider-metadata.json" {
		t.Errorf("domain: %s", u)
	}
	if _, err := feed.MetadataURL("provider.example/x"); err == nil {
		t.Error("a path without a scheme taken for a domain")
	}

	// https redirecting to http is refused even where http is allowed.
	redirect := httptest.NewTLSServer(http.RedirectHandler(plainURL, http.StatusFound))
	defer redirect.Close()
	c := feed.New(feed.Options{HTTPClient: redirect.Client(), AllowHTTPLoopback: true})
	if _, err := c.Poll(ctx, redirect.URL+"/provider-metadata.json", nil, fn); err == nil || !strings.Contains(err.Error(), "refusing redirect") {
		t.Errorf("https to http redirect: %v", err)
	}
}

// Entries listed at the same time: a poll stopped between them must not
// mark the time done, or the rest would never be fetched.
func TestInterruptedBetweenEntriesOfOneTime(t *testing.T) {
	p := feedtest.Serve(t, feedtest.DirectoryTree)
	at := time.Date(2022, 2, 2, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		p.Publish(t, fmt.Sprintf("avendor-advisory-%04d.json", 300+i), p.Document(fmt.Sprintf("Avendor-advisory-%04d", 300+i)), at, p.Key)
	}
	c := client(p, feed.Options{})
	st := &feed.State{}
	n := 0
	_, err := c.Poll(context.Background(), p.MetadataURL(), st, func(*advisory.Document) error {
		if n++; n == 3 { // the corpus document, then one of the three
			return errors.New("stop")
		}
		return nil
	})
	if err == nil {
		t.Fatal("the poll was not stopped")
	}
	rep, ids, _, err := run(t, c, p, st)
	if err != nil || rep.Ingested != 2 || len(ids) != 2 {
		t.Fatalf("resumed: %+v, %v, %v", rep, ids, err)
	}
}
