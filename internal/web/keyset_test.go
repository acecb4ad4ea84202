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
	// Past the end (but not deep), the page says so and links to Last by key.
	if _, body, _ := fetch(t, base+"/labels?scheme=sg-cls&page=99"); !strings.Contains(body, "There is no page 99") ||
		!strings.Contains(body, `<a href="?last=1&amp;page=`+fmt.Sprint(pages)+`&amp;scheme=sg-cls">Go to the last page</a>`) {
		t.Errorf("?page=99 does not link to the last page by key")
	}
	if status, _, _ := fetch(t, base+"/labels?before=not-a-cursor"); status != 400 {
		t.Errorf("a made-up cursor: %d, want 400", status)
	}
}

// The console's product list pages by key too: Next to the end, Previous
// back, and Last, each product once, the search kept in every link.
func TestConsoleProductsWalkByKey(t *testing.T) {
	inst := bigRegistry(t)
	site := newSecSite(t, inst)
	c := site.client()
	c.login(demo.Email(demo.Owners["sg-cls"]))
	prodID := regexp.MustCompile(`<td><a href="/console/products/(\d+)">`)
	read := func(href string) (ids []string, page int, prev, next, last string) {
		t.Helper()
		resp, body := c.get("/console/products" + href)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", href, resp.StatusCode)
		}
		for _, m := range prodID.FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		if m := pageOf.FindStringSubmatch(body); m != nil {
			fmt.Sscan(m[1], &page)
		}
		link := func(re *regexp.Regexp) string {
			if m := re.FindStringSubmatch(body); m != nil {
				u := html.UnescapeString(m[1])
				if !strings.Contains(u, "q=synthetic") {
					t.Errorf("a link lost the search: %s", u)
				}
				return u
			}
			return ""
		}
		return ids, page, link(pagerRel("prev")), link(pagerRel("next")), link(lastLink)
	}
	var fwd []string
	seen := map[string]bool{}
	ids, page, _, next, firstLast := read("?q=synthetic")
	for n := 1; ; n++ {
		if page != n {
			t.Fatalf("forward: page %d says %d", n, page)
		}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("product %s shown twice", id)
			}
			seen[id] = true
		}
		fwd = append(fwd, ids...)
		if next == "" {
			break
		}
		ids, page, _, next, _ = read(next)
	}
	if len(fwd) < 150 {
		t.Fatalf("forward: %d products, want the 180 synthetic ones", len(fwd))
	}
	if !strings.Contains(firstLast, "last=1") {
		t.Fatalf("the first page's Last link: %q", firstLast)
	}
	ids, page, prev, _, _ := read(firstLast)
	var back []string
	for {
		back = append(ids, back...)
		if prev == "" {
			break
		}
		ids, page, prev, _, _ = read(prev)
	}
	if page != 1 || !slices.Equal(back, fwd) {
		t.Errorf("back from Last to page %d: %d products, want the %d in the same order", page, len(back), len(fwd))
	}
}
