package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/hallmark-iot/hallmark/internal/label"
	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// errAudit marks a completed audit that found discrepancies: exit 3.
type auditFailed int

func (e auditFailed) Error() string { return fmt.Sprintf("the audit found %d problem(s)", int(e)) }
func (e auditFailed) ExitCode() int { return 3 }

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", "audit [flags] LOG",
		"Audits an authority's transparency log. LOG is the instance's URL (https://host) or a\n"+
			"log directory. The audit checks the checkpoint's signature, its consistency with the\n"+
			"last checkpoint this auditor saw (kept in --state), recomputes the whole tree from the\n"+
			"entries and compares every tile, and finds decision ids, label issues and status-list\n"+
			"indices logged twice. With a registry (the instance's URL, or --registry), it checks that\n"+
			"every label's current credential and status has a matching log entry, and that each\n"+
			"event of its public history is a logged decision with the reason whose hash was logged,\n"+
			"and that every declared target and transparency report is published as it was logged.\n"+
			"Exit status: 0 clean, 3 problems found, 1 the audit could not run.", stderr)
	verifiersFile := fs.String("verifiers", "", "file of the log's note verifier keys, one per line (default: from the instance's /.well-known/hallmark/log.json, or DIR/../logkeys/verifiers)")
	origin := fs.String("origin", "", "the log's origin (default: from the instance, or the verifier keys' name)")
	registry := fs.String("registry", "", "the instance whose labels to check against the log (default: LOG when it is a URL)")
	state := fs.String("state", defaultAuditState(), "directory where the last checkpoint seen is kept per log")
	grace := fs.Duration("pending-grace", 10*time.Minute, "a decision the registry shows but the log does not yet hold counts as pending, not as a problem, for this long after it was made")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("name one log: a URL or a directory")
	}
	target := fs.Arg(0)
	newClient := func(u string) (*peer.Client, error) {
		return peer.New(u, peer.Options{UserAgent: "hallmark-audit/" + version, Fresh: true, Warn: func(s string) { fmt.Fprintln(stderr, "Warning:", s) }})
	}

	var fetch tlog.Fetcher
	var vkeys []string
	switch {
	case isHTTPURL(target):
		c, err := newClient(target)
		if err != nil {
			return usagef("%v", err)
		}
		fetch = c.LogFetcher()
		if *registry == "" {
			*registry = c.BaseURL()
		}
		if *verifiersFile == "" {
			info, err := c.LogInfo(ctx)
			if err != nil {
				return fmt.Errorf("read the log's keys: %w", err)
			}
			vkeys = info.Verifiers
			if *origin == "" {
				*origin = info.Origin
			}
		}
	default:
		fetch = tlog.DirFetcher(target)
		if *verifiersFile == "" {
			*verifiersFile = filepath.Join(filepath.Dir(filepath.Clean(target)), "logkeys", tlog.VerifiersFile)
		}
	}
	if *verifiersFile != "" {
		b, err := os.ReadFile(*verifiersFile)
		if err != nil {
			return fmt.Errorf("read the verifier keys: %w", err)
		}
		vkeys = strings.Fields(string(b))
	}
	var vs []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return fmt.Errorf("verifier key %q: %w", k, err)
		}
		vs = append(vs, v)
		if *origin == "" {
			*origin = v.Name()
		}
	}
	if len(vs) == 0 {
		return errors.New("no verifier keys for the log: give --verifiers")
	}

	statePath := filepath.Join(*state, stateName(*origin), "checkpoint")
	last, _ := os.ReadFile(statePath)
	rep, err := tlog.Audit(ctx, fetch, note.VerifierList(vs...), *origin, last)
	if err != nil {
		return fmt.Errorf("audit %s: %w", target, err)
	}
	problems := append([]string{}, rep.Problems...)
	fmt.Fprintf(stdout, "Log          %s\nOrigin       %s\nSize         %d entries\nRoot         %x\n", target, *origin, rep.Size, rep.Root)
	if last != nil {
		fmt.Fprintln(stdout, "Consistency  checked against the last checkpoint this auditor saw")
	} else {
		fmt.Fprintln(stdout, "Consistency  first audit of this log: nothing earlier to compare with")
	}

	if *registry != "" {
		c, err := newClient(*registry)
		if err != nil {
			return usagef("--registry: %v", err)
		}
		n, pending, regProblems, err := checkRegistry(ctx, c, rep.Entries, time.Now().Add(-*grace))
		if err != nil {
			return fmt.Errorf("check the registry against the log: %w", err)
		}
		if pending > 0 {
			defer fmt.Fprintf(stdout, "Pending      %d decision(s) made in the last %v not yet in the log (they are logged behind the decision)\n", pending, *grace)
		}
		fmt.Fprintf(stdout, "Registry     %d labels checked against the log\n", n)
		problems = append(problems, regProblems...)
		nt, nr, declProblems, err := checkDeclarations(ctx, c, rep.Entries, time.Now().Add(-*grace))
		if err != nil {
			return fmt.Errorf("check the targets and reports against the log: %w", err)
		}
		fmt.Fprintf(stdout, "Targets      %d declared targets and %d transparency reports checked against the log\n", nt, nr)
		problems = append(problems, declProblems...)
	}

	if len(problems) == 0 {
		// Only a clean log moves the auditor's memory forward.
		if err := os.MkdirAll(filepath.Dir(statePath), 0o700); err == nil {
			os.WriteFile(statePath, rep.Checkpoint, 0o600)
		}
		fmt.Fprintln(stdout, "Result       OK: the log is consistent and complete")
		return nil
	}
	fmt.Fprintf(stdout, "Result       %d PROBLEM(S)\n", len(problems))
	for _, p := range problems {
		fmt.Fprintf(stdout, "  - %s\n", p)
	}
	return auditFailed(len(problems))
}

// checkRegistry pages through the public registry and checks each label's
// current credential and status against the newest log entry about it. A
// label whose newest decision is not yet logged but was made after
// pendingSince is pending, not a problem: decisions are acknowledged once
// durable and appended to the log right behind.
func checkRegistry(ctx context.Context, client *peer.Client, entries []tlog.Entry, pendingSince time.Time) (int, int, []string, error) {
	// The newest decision is the one with the highest Ref (the authority's
	// decision number): decisions flushed together may be sequenced in the
	// log in any order.
	latest := map[string]tlog.Entry{}
	issued := map[string]tlog.Entry{}
	bySubject := map[string][]tlog.Entry{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Kind, "label.") {
			continue
		}
		bySubject[e.Subject] = append(bySubject[e.Subject], e)
		if cur, ok := latest[e.Subject]; !ok || refOf(e) > refOf(cur) {
			latest[e.Subject] = e
		}
		if e.Kind == tlog.KindLabelIssued {
			issued[e.Subject] = e
		}
	}
	var problems []string
	n, pendingCount := 0, 0
	seen := map[string]bool{}
	pending := map[string]bool{}
	var ids []string
	// By cursor: each page costs the server the same, so the walk is
	// linear in the registry (offsets made it quadratic). A server that
	// answers no cursor is walked by offset.
	cursor := ""
	for offset := 0; ; offset += 1000 {
		var page peer.LabelPage
		var err error
		if offset == 0 || cursor != "" {
			page, err = client.LabelsAfter(ctx, cursor, 1000)
		} else {
			page, err = client.Labels(ctx, offset, 1000)
		}
		if err != nil {
			return n, 0, nil, err
		}
		cursor = page.Cursor
		for _, l := range page.Items {
			n++
			if !seen[l.ID] {
				ids = append(ids, l.ID)
			}
			seen[l.ID] = true
			e, ok := latest[l.ID]
			if (!ok || e.Status != l.Status) && pendingCount < maxPendingLookups {
				young, err := youngPending(ctx, client, l.ID, l.Status, pendingSince)
				if err != nil {
					return n, 0, nil, err
				}
				if young {
					pendingCount++
					pending[l.ID] = true
					// What verifiers read must already show it.
					e = tlog.Entry{Kind: "pending", Subject: l.ID, Status: l.Status, StatusIndex: e.StatusIndex}
					if !ok {
						e.StatusIndex = -1 // not logged yet: its index is unknown here
					}
					latest[l.ID] = e
					continue
				}
			}
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("label %s is in the registry but no decision about it is in the log", l.ID))
			case e.Status != l.Status:
				problems = append(problems, fmt.Sprintf("label %s is %s in the registry, but its last logged decision (%s, entry ref %s) left it %s: the registry was changed behind the log's back",
					l.ID, l.Status, e.Kind, e.Ref, e.Status))
			}
			if is, ok := issued[l.ID]; ok && is.Digest != l.CredentialSHA {
				problems = append(problems, fmt.Sprintf("label %s's credential (sha256 %s) is not the one logged at issue (%s): the credential was replaced behind the log's back",
					l.ID, short(l.CredentialSHA), short(is.Digest)))
			}
		}
		if len(page.Items) == 0 || (cursor == "" && offset+len(page.Items) >= page.Total) {
			break
		}
	}
	// The other direction: every label the log knows must still exist.
	for id := range latest {
		if !seen[id] {
			problems = append(problems, fmt.Sprintf("label %s is in the log but missing from the registry: it was deleted behind the log's back", id))
		}
	}
	history, err := checkHistories(ctx, client, ids, bySubject, pending, pendingSince)
	if err != nil {
		return n, 0, nil, err
	}
	problems = append(problems, history...)
	sort.Strings(problems)
	more, err := checkStatusLists(ctx, client, latest)
	if err != nil {
		return n, 0, nil, err
	}
	return n, pendingCount, append(problems, more...), nil
}

func refOf(e tlog.Entry) int64 { n, _ := strconv.ParseInt(e.Ref, 10, 64); return n }

// historyWorkers bounds the label pages one audit reads at once.
const historyWorkers = 8

// checkHistories compares each label's public history with the log: every
// event is one logged decision, in the same order, and the log holds the
// SHA-256 of the reason the event shows, so an edited, added or deleted
// reason or event is found. A label whose newest decision is still
// pending may show events the log does not hold yet.
func checkHistories(ctx context.Context, client *peer.Client, ids []string, logged map[string][]tlog.Entry, pending map[string]bool, pendingSince time.Time) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		problems []string
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for range historyWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				d, err := client.Label(ctx, id)
				young := pending[id]
				if err == nil && !young && len(d.History) > len(logged[id]) {
					// Decisions not yet logged (say a suspension and its
					// restoration, which leave the status as logged).
					young, err = youngDecisions(ctx, client, id, len(d.History)-len(logged[id]), pendingSince)
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("read label %s: %w", id, err)
						cancel()
					}
				} else {
					problems = append(problems, compareHistory(id, d.History, logged[id], young)...)
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return problems, firstErr
}

// compareHistory pairs a label's events with its logged decisions, both
// oldest first (decisions by their id: the log may sequence a batch in any
// order).
func compareHistory(id string, events []peer.LabelEvent, entries []tlog.Entry, pending bool) []string {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b tlog.Entry) int { return cmp.Compare(refOf(a), refOf(b)) })
	var problems []string
	for i := range min(len(events), len(entries)) {
		ev, e := events[i], entries[i]
		when := ev.At.UTC().Format(time.RFC3339)
		if tlog.ReasonHash(ev.Reason) != e.Reason {
			problems = append(problems, fmt.Sprintf("label %s: the reason its page shows for the %s of %s is not the reason logged (entry ref %s holds another reason's hash): the public reason was edited behind the log's back",
				id, ev.Action, when, e.Ref))
		}
		if ev.To != e.Status {
			problems = append(problems, fmt.Sprintf("label %s: its history says the %s of %s left it %s, but the log (entry ref %s, %s) says %s: the history was edited behind the log's back",
				id, ev.Action, when, ev.To, e.Ref, e.Kind, e.Status))
		}
	}
	switch {
	case len(events) < len(entries):
		problems = append(problems, fmt.Sprintf("label %s: its history shows %d event(s) but the log holds %d decision(s) about it: events were deleted behind the log's back",
			id, len(events), len(entries)))
	case len(events) > len(entries) && !pending:
		problems = append(problems, fmt.Sprintf("label %s: its history shows %d event(s) but the log holds only %d decision(s) about it: events were added behind the log's back",
			id, len(events), len(entries)))
	}
	return problems
}

// maxPendingLookups bounds the receipt look-ups one audit makes for
// labels that disagree with the log: beyond it they are problems.
const maxPendingLookups = 20000

// youngPending reports whether a label's newest decision, as its receipts
// list shows, is not yet logged, leaves it in status, and was made after since.
func youngPending(ctx context.Context, client *peer.Client, id, status string, since time.Time) (bool, error) {
	doc, err := client.Receipts(ctx, id)
	if err != nil {
		return false, err
	}
	if len(doc.Receipts) == 0 {
		return false, nil
	}
	last := doc.Receipts[len(doc.Receipts)-1]
	return !last.Logged && last.Status == status && last.At.After(since), nil
}

// youngDecisions reports whether a label's newest n decisions, as its
// receipts list shows, were all made after since: too young to be in the
// log this audit read (pending, or logged since).
func youngDecisions(ctx context.Context, client *peer.Client, id string, n int, since time.Time) (bool, error) {
	doc, err := client.Receipts(ctx, id)
	if err != nil || len(doc.Receipts) < n {
		return false, err
	}
	for _, r := range doc.Receipts[len(doc.Receipts)-n:] {
		if !r.At.After(since) {
			return false, nil
		}
	}
	return true, nil
}

// checkStatusLists compares what verifiers actually consult, the signed
// status lists, with each label's newest logged status: a revoked,
// surrendered or suspended label whose bits do not say so would pass
// verification. A surrendered label sets its revocation bit, and the
// message list holds every label's status in two bits.
func checkStatusLists(ctx context.Context, client *peer.Client, latest map[string]tlog.Entry) ([]string, error) {
	keys, _, err := client.Keys(ctx)
	if err != nil {
		return nil, err
	}
	lists := map[string]*label.StatusListSnapshot{}
	list := func(purpose string, n int) (*label.StatusListSnapshot, error) {
		u := fmt.Sprintf("%s/status/%s/%d", client.BaseURL(), purpose, n)
		if l, ok := lists[u]; ok {
			return l, nil
		}
		snap, err := client.StatusList(ctx, u, keys)
		if err != nil {
			return nil, err
		}
		lists[u] = snap
		return snap, nil
	}
	messages := map[string]uint{"suspended": label.MessageSuspended, "revoked": label.MessageRevoked, "surrendered": label.MessageSurrendered}
	var problems []string
	for id, e := range latest {
		if e.StatusIndex < 0 {
			continue
		}
		n, bit := e.StatusIndex/label.MinListBits, e.StatusIndex%label.MinListBits
		for _, purpose := range []string{label.PurposeRevocation, label.PurposeSuspension, label.PurposeMessage} {
			snap, err := list(purpose, n)
			if err != nil {
				return nil, err
			}
			got, err := snap.Bits.Value(bit)
			if err != nil {
				return nil, err
			}
			var want uint
			switch purpose {
			case label.PurposeRevocation:
				if e.Status == "revoked" || e.Status == "surrendered" {
					want = 1
				}
			case label.PurposeSuspension:
				if e.Status == "suspended" {
					want = 1
				}
			case label.PurposeMessage:
				want = messages[e.Status]
			}
			if got != want {
				noun := "bit"
				if purpose == label.PurposeMessage {
					noun = "value"
				}
				problems = append(problems, fmt.Sprintf("label %s is %s in the log, but its %s %s (entry %d of /status/%s/%d) is %d, not %d: verifiers would be told otherwise",
					id, e.Status, purpose, noun, bit, purpose, n, got, want))
			}
		}
	}
	sort.Strings(problems)
	return problems, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

func defaultAuditState() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "hallmark", "audit")
	}
	return ".hallmark-audit"
}

// stateName turns a log origin into a directory name.
func stateName(origin string) string {
	sum := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(sum[:8])
}
