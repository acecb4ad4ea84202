package server_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/feed"
	"github.com/hallmark-iot/hallmark/internal/feed/feedtest"
	"github.com/hallmark-iot/hallmark/internal/server/servertest"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// The schedule polls every provider, a failing one not stopping the
// others, ingests what verifies, keeps the state, and ends with ctx.
func TestPollFeeds(t *testing.T) {
	p := feedtest.Serve(t, feedtest.ROLIETree)
	srv := servertest.Start(t, store.SQLite).Server
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := feed.New(feed.Options{HTTPClient: p.Client()})
	done := make(chan struct{})
	go func() {
		srv.PollFeeds(ctx, c, []string{"https://127.0.0.1:1/provider-metadata.json", p.MetadataURL()}, time.Hour)
		close(done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(feed.StatePath(srv.FeedStateDir(), p.MetadataURL())); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no provider state saved within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The corpus document is CSAF VEX about products nobody labelled: the
	// state says it was ingested.
	st, err := feed.LoadState(feed.StatePath(srv.FeedStateDir(), p.MetadataURL()))
	if seen := st.Seen[p.URL+"/white/"+feedtest.Corpus]; err != nil || seen == nil || seen.SHA256 == "" {
		t.Errorf("the document is not in the saved state: %v, %+v", err, seen)
	}
	if p.Hits("white/"+feedtest.Corpus+".asc") != 1 {
		t.Errorf("signature fetched %d times", p.Hits("white/"+feedtest.Corpus+".asc"))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PollFeeds did not end with its context")
	}
}
