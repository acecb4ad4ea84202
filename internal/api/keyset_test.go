package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// /api/v1/products pages by key as /api/v1/labels does: following next
// from the first page yields every product the full listing has, once, in
// its order, the filter kept; and no list skips more than store.MaxOffset
// rows by offset, the refusal naming the way on.
func TestProductsByCursorAndTheOffsetBound(t *testing.T) {
	for _, d := range servertest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			inst := servertest.Start(t, d)
			base := inst.URL
			levels := []demo.SynthLevel{{Scheme: "sg-cls", Level: "1", Requirements: []string{"HM-UPD-1"}, Weight: 1}}
			if _, err := inst.Store.LoadSynthetic(context.Background(), 120, 9, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), levels, nil); err != nil {
				t.Fatal(err)
			}
			type page struct {
				Items []struct {
					ID       int64  `json:"id"`
					Category string `json:"category"`
				} `json:"items"`
				Total  int    `json:"total"`
				Next   string `json:"next"`
				Cursor string `json:"cursor"`
			}
			for _, filter := range []string{"", "&category=camera"} {
				var all page
				getJSON(t, base+"/api/v1/products?limit=1000"+filter, &all)
				if all.Total < 6 || len(all.Items) != all.Total || all.Next != "" {
					t.Fatalf("products%s: %d of %d, next %q", filter, len(all.Items), all.Total, all.Next)
				}
				var want, got []int64
				for _, p := range all.Items {
					want = append(want, p.ID)
				}
				u := base + "/api/v1/products?limit=5" + filter
				for pages := 0; u != ""; pages++ {
					if pages > 100 {
						t.Fatal("the walk does not end")
					}
					var p page
					getJSON(t, u, &p)
					for _, it := range p.Items {
						got = append(got, it.ID)
						if filter != "" && it.Category != "camera" {
							t.Errorf("the filter was lost on the way: a %s", it.Category)
						}
					}
					if p.Next != "" && (!strings.Contains(p.Next, "cursor="+p.Cursor) || !strings.Contains(p.Next, "limit=5")) {
						t.Errorf("next %q does not carry cursor %q and the limit", p.Next, p.Cursor)
					}
					u = p.Next
				}
				if !slices.Equal(got, want) {
					t.Errorf("products%s by cursor: %d products, want the %d of the listing once each, in order", filter, len(got), len(want))
				}
			}
			// The bound: at it a list answers, past it it refuses and says how to go on.
			if resp, _ := get(t, fmt.Sprintf("%s/api/v1/products?offset=%d", base, store.MaxOffset)); resp.StatusCode != 200 {
				t.Errorf("offset %d: %d", store.MaxOffset, resp.StatusCode)
			}
			for _, path := range []string{"/api/v1/products", "/api/v1/labels"} {
				resp, body := get(t, fmt.Sprintf("%s%s?offset=%d", base, path, store.MaxOffset+1))
				var prob struct {
					Detail string `json:"detail"`
				}
				json.Unmarshal(body, &prob)
				if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" ||
					!strings.Contains(prob.Detail, "cursor") || !strings.Contains(prob.Detail, "filter") {
					t.Errorf("%s past the bound: %d %s %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), prob.Detail)
				}
			}
			if resp, _ := get(t, base+"/api/v1/products?cursor=bm90IGEgY3Vyc29y"); resp.StatusCode != 400 {
				t.Errorf("a made-up product cursor: %d, want 400", resp.StatusCode)
			}
		})
	}
}
