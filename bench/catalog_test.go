// Package bench holds Hallmark's benchmarks. Each compares Hallmark with a
// named peer or limit in the same run; bench/README.md keeps the figures.
package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/httpd"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// BenchmarkCrosswalkAllPairs computes every framework-to-framework
// crosswalk, the work behind a full comparison matrix.
func BenchmarkCrosswalkAllPairs(b *testing.B) {
	c, err := server.LoadBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, f := range c.Frameworks {
			for _, g := range c.Frameworks {
				if _, err := c.Crosswalk(f.ID, g.ID); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkLoadCatalogFromStore is start-up work: read and validate the
// whole catalogue from SQLite.
func BenchmarkLoadCatalogFromStore(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "h.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := server.New(ctx, st, server.Config{DataDir: b.TempDir(), WithoutLog: true}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.LoadCatalog(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCrosswalkPage renders the PSTI/EN crosswalk page through the real
// handler stack, next to a static file handler serving a page of the same
// size: the ratio says what the dynamic page costs over the cheapest answer.
func BenchmarkCrosswalkPage(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "h.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(ctx, st, server.Config{DataDir: b.TempDir(), WithoutLog: true})
	if err != nil {
		b.Fatal(err)
	}
	h, err := httpd.Handler(srv)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/crosswalk?from=etsi-en-303-645-v2.1.1&to=eu-cra-annex-i", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	page := rec.Body.Bytes()
	b.Run("hallmark", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("static", func(b *testing.B) {
		static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) })
		for b.Loop() {
			static.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}
