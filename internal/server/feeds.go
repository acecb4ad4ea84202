package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/hallmark-iot/hallmark/internal/advisory"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/feed"
)

// CSAF providers feed the watch on a schedule: each poll's documents are
// ingested as the system, and the poll's state is kept in DataDir/feeds so
// that the next poll (or the next run) asks only for what changed.

// feedBatch is how many documents one watch pass acts on.
const feedBatch = 1000

// FeedStateDir is where the state of each provider's polls is kept.
func (s *Server) FeedStateDir() string { return filepath.Join(s.cfg.DataDir, "feeds") }

// PollProvider polls one CSAF provider through c and ingests its new and
// changed documents as the system, in batches. The state is saved after
// each batch is ingested, never before: a document marked done is one
// the watch has. progress, when not nil, is told of each document.
func (s *Server) PollProvider(ctx context.Context, c *feed.Client, provider string, opts IngestOptions, progress func(n int, doc *advisory.Document)) (feed.Report, IngestReport, error) {
	var total IngestReport
	if err := s.CheckIngest(auth.System); err != nil {
		return feed.Report{}, total, err
	}
	path := feed.StatePath(s.FeedStateDir(), provider)
	state, err := feed.LoadState(path)
	if err != nil {
		return feed.Report{}, total, err
	}
	var batch []*advisory.Document
	ingested := false
	flush := func() error {
		if len(batch) > 0 {
			rep, err := s.Ingest(ctx, auth.System, batch, opts)
			if err != nil {
				return err
			}
			total, batch, ingested = total.Add(rep), nil, true
		}
		// The document being handed over when this runs is not marked done
		// yet although it is in the batch: after a crash it is fetched
		// again, and ingesting it again changes nothing.
		return state.Save(path)
	}
	n := 0
	rep, pollErr := c.Poll(ctx, provider, state, func(doc *advisory.Document) error {
		n++
		if err := checkDocument(doc); err != nil {
			// One bad document must not hold back the rest of the feed.
			slog.Warn("feed document refused", "provider", provider, "document", doc.ID, "err", err)
			return nil
		}
		batch = append(batch, doc)
		if progress != nil {
			progress(n, doc)
		}
		if len(batch) == feedBatch {
			return flush()
		}
		return nil
	})
	// What was handed over before a failure is good: keep it.
	if err := flush(); err != nil {
		return rep, total, errors.Join(pollErr, err)
	}
	if pollErr == nil && !ingested && opts.Confirm {
		// Nothing new, but the authority confirms changes an earlier
		// ingest held: judge every finding again.
		run, err := s.RunWatch(ctx, auth.System, opts)
		total.WatchRun = run
		return rep, total, err
	}
	return rep, total, pollErr
}

// PollFeeds polls each provider every interval until ctx ends, one at a
// time so that two watch passes never race, and logs a line per poll. A
// provider that fails is retried sooner, backing off from a minute up to
// the interval; one stopped at the document limit goes on a minute later.
func (s *Server) PollFeeds(ctx context.Context, c *feed.Client, providers []string, every time.Duration) {
	if len(providers) == 0 || every <= 0 {
		return
	}
	next := make([]time.Time, len(providers)) // zero: poll now
	fails := make([]int, len(providers))
	for {
		i := 0
		for j := range next {
			if next[j].Before(next[i]) {
				i = j
			}
		}
		t := time.NewTimer(time.Until(next[i]))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !s.IsWriter() { // in a cluster the writer polls; look again in a while
			next[i] = time.Now().Add(time.Minute)
			continue
		}
		// A poll may take long (thousands of documents) but not forever.
		pctx, cancel := context.WithTimeout(ctx, max(every, 10*time.Minute))
		rep, ing, err := s.PollProvider(pctx, c, providers[i], IngestOptions{}, nil)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fails[i]++
			wait := min(time.Minute<<min(fails[i]-1, 16), every)
			next[i] = time.Now().Add(wait)
			slog.Warn("csaf provider poll failed", "provider", providers[i], "err", err, "failures", fails[i], "retry_in", wait)
			continue
		}
		fails[i] = 0
		next[i] = time.Now().Add(every)
		if rep.Truncated {
			next[i] = time.Now().Add(time.Minute)
		}
		level := slog.LevelInfo
		if len(rep.Refused) > 0 || ing.Held {
			level = slog.LevelWarn
		}
		slog.Log(ctx, level, "csaf provider polled", "summary", rep.String(), "advisories", ing.Advisories,
			"findings", ing.Findings, "suspended", ing.Suspended, "held", ing.Held, "refused", refusals(rep.Refused))
	}
}

// refusals names the first few refusals, for a log line of bounded length.
func refusals(rs []feed.Refusal) string {
	const shown = 3
	out := ""
	for i, r := range rs[:min(len(rs), shown)] {
		if i > 0 {
			out += "; "
		}
		out += r.String()
	}
	if len(rs) > shown {
		out += fmt.Sprintf("; and %d more", len(rs)-shown)
	}
	return out
}
