package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/demo"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
)

// BenchmarkPropagation measures how long a suspension at authority A
// takes to be visible at authority B through B's mirror: from the
// decision request at A to B's store showing the label suspended in A's
// registry and in B's audited copy of A's log, with B
// mirroring back to back (a pass as soon as the last one ends; with
// serve's --mirror-interval the interval adds to this). Compared with the
// floor: the time until A's log publishes the decision (its receipt),
// which no mirror can beat. Two real servers on loopback, SQLite.
func BenchmarkPropagation(b *testing.B) {
	ctx := context.Background()
	a := servertest.Start(b, "sqlite")
	bb := servertest.Start(b, "sqlite")
	if _, err := bb.Server.RecognisePeer(ctx, a.URL); err != nil {
		b.Fatal(err)
	}
	if _, err := bb.Server.MirrorPeers(ctx); err != nil {
		b.Fatal(err)
	}
	resp, err := http.Get(a.URL + "/api/v1/labels?status=active&limit=1000")
	if err != nil {
		b.Fatal(err)
	}
	var page struct{ Items []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	var prop, logged []time.Duration
	i := 0
	for b.Loop() {
		if i >= len(page.Items) {
			b.Fatalf("only %d active labels to suspend", len(page.Items))
		}
		id := page.Items[i].ID
		i++
		l, err := a.Server.LabelRecord(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		_, authority, err := a.Server.Login(ctx, demo.Email(demo.Owners[l.SchemeID]), demo.Password, "127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := a.Server.ChangeLabel(ctx, authority, id, assess.SuspendLabel, "benchmark"); err != nil {
			b.Fatal(err)
		}
		done := make(chan time.Duration, 1)
		go func() {
			a.Server.WaitLogged(ctx)
			done <- time.Since(t0)
		}()
		for {
			if _, err := bb.Server.MirrorPeers(ctx); err != nil {
				b.Fatal(err)
			}
			// Seen, and confirmed by A's log in B's copy of it (the
			// registry alone runs ahead of the log by the publication time).
			if m, err := bb.Server.MirroredLabel(ctx, id); err == nil && m.Status == "suspended" && m.DisagreesSince.IsZero() {
				prop = append(prop, time.Since(t0))
				break
			}
			if time.Since(t0) > time.Minute {
				b.Fatalf("label %s not seen suspended at B after a minute", id)
			}
		}
		logged = append(logged, <-done)
	}
	b.ReportMetric(quantile(prop, 0.5).Seconds()*1000, "p50-ms")
	b.ReportMetric(quantile(prop, 0.99).Seconds()*1000, "p99-ms")
	b.ReportMetric(quantile(logged, 0.5).Seconds()*1000, "logged-p50-ms")
	b.ReportMetric(quantile(logged, 0.99).Seconds()*1000, "logged-p99-ms")
}
