package web_test

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// bigRegistry is a test server whose registry holds some pages of labels
// in one scheme (sg-cls) among the demo's others.
func bigRegistry(t *testing.T) *servertest.Instance {
	t.Helper()
	inst := servertest.Start(t, store.SQLite)
	levels := []demo.SynthLevel{{Scheme: "sg-cls", Level: "1", Requirements: []string{"HM-UPD-1"}, Weight: 1}}
	if _, err := inst.Store.LoadSynthetic(context.Background(), 180, 5, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), levels, nil); err != nil {
		t.Fatal(err)
	}
	return inst
}

var (
	recID    = regexp.MustCompile(`<code>([A-Z]{2}-[A-Z0-9-]+)</code>`)
	pageOf   = regexp.MustCompile(`Page (\d+) of (\d+)`)
	pagerRel = func(rel string) *regexp.Regexp { return regexp.MustCompile(`<a rel="` + rel + `" href="([^"]*)"`) }
	lastLink = regexp.MustCompile(`<a href="([^"]*)">Last »</a>`)
)

// registryPage reads one page of /labels: its labels, "page N of M" and
// its Previous, Next and Last links.
type registryPage struct {
	ids              []string
	page, pages      int
	prev, next, last string
}

func readRegistry(t *testing.T, base, href string) registryPage {
	t.Helper()
	status, body, _ := fetch(t, base+"/labels"+href)
	if status != 200 {
		t.Fatalf("%s: %d\n%s", href, status, body)
	}
	var p registryPage
	for _, m := range recID.FindAllStringSubmatch(body, -1) {
		p.ids = append(p.ids, m[1])
	}
	if m := pageOf.FindStringSubmatch(body); m != nil {
		fmt.Sscan(m[1], &p.page)
		fmt.Sscan(m[2], &p.pages)
	}
	link := func(re *regexp.Regexp) string {
		if m := re.FindStringSubmatch(body); m != nil {
			u := html.UnescapeString(m[1])
			// Every link keeps the search's filter.
			if !strings.Contains(u, "scheme=sg-cls") {
				t.Errorf("from %s: a link lost the filter: %s", href, u)
			}
			return u
		}
		return ""
	}
	p.prev, p.next, p.last = link(pagerRel("prev")), link(pagerRel("next")), link(lastLink)
	return p
}

// The public registry walks by key: Next to the end and Previous back to
// the start show every label once each way, in the registry's order, with
// "page N of M" right throughout; Last shows the oldest labels; a deep
// ?page= is refused with what to do instead.
func TestRegistryWalksByKey(t *testing.T) {
	inst := bigRegistry(t)
	base := inst.URL
	all, total, err := inst.Store.Labels(context.Background(), store.LabelQuery{SchemeID: "sg-cls", Limit: 1000})
	if err != nil || total < 150 {
		t.Fatalf("%d sg-cls labels, %v", total, err)
	}
	var want []string
	for _, l := range all {
		want = append(want, l.ID)
	}
	pages := (total + 49) / 50

	// Forward by Next.
	var fwd []string
	p := readRegistry(t, base, "?scheme=sg-cls")
	first := p
	for n := 1; ; n++ {
		if p.page != n || p.pages != pages {
			t.Fatalf("forward: page %d of %d says %d of %d", n, pages, p.page, p.pages)
		}
		fwd = append(fwd, p.ids...)
		if p.next == "" {
			break
		}
		if !strings.Contains(p.next, "after=") {
			t.Errorf("Next is not by key: %s", p.next)
		}
		p = readRegistry(t, base, p.next)
	}
	if !slices.Equal(fwd, want) {
		t.Fatalf("forward by Next: %d labels, want the %d of the registry once each, in order", len(fwd), len(want))
	}
	if p.page != pages || p.last != "" {
		t.Errorf("the end: page %d, Last %q", p.page, p.last)
	}

	// Back by Previous, from where Next ended and from Last.
	back := func(p registryPage, from string) {
		t.Helper()
		var got []string
		for n := pages; ; n-- {
			if p.page != n {
				t.Fatalf("back from %s: page %d says %d", from, n, p.page)
			}
			got = append(p.ids, got...)
			if p.prev == "" {
				break
			}
			p = readRegistry(t, base, p.prev)
		}
		if !slices.Equal(got, want) {
			t.Errorf("back by Previous from %s: %d labels, want the %d of the registry once each, in order", from, len(got), len(want))
		}
	}
	back(p, "the end")
	if first.last == "" || !strings.Contains(first.last, "last=1") {
		t.Fatalf("the first page's Last link: %q", first.last)
	}
	last := readRegistry(t, base, first.last)
	if !slices.Equal(last.ids, want[(pages-1)*50:]) || last.page != pages || last.next != "" {
		t.Errorf("Last: page %d, %d labels, want the oldest %d", last.page, len(last.ids), total-(pages-1)*50)
	}
	back(last, "Last")

	// By number near the start; refused deep, with what to do instead.
	if p := readRegistry(t, base, "?scheme=sg-cls&page=2"); !slices.Equal(p.ids, want[50:100]) {
		t.Errorf("?page=2 shows other labels than the second page")
	}
	deep := fmt.Sprint(store.MaxOffset/50 + 2)
	status, body, _ := fetch(t, base+"/labels?scheme=sg-cls&page="+deep)
	if status != 400 || !strings.Contains(body, "too deep") || !strings.Contains(body, "Follow Next or Last") {
		t.Errorf("?page=%s: %d, want 400 saying what to do instead:\n%s", deep, status, body)
	}
	if status, _, _ := fetch(t, base+"/labels?before=not-a-cursor"); status != 400 {
		t.Errorf("a made-up cursor: %d, want 400", status)
	}
}
