package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/peer"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// maxDeclarationLookups bounds the requests the declarations check makes:
// one per logged target and report.
const maxDeclarationLookups = 20000

// checkDeclarations checks the declared targets and published transparency
// reports against the log: each logged target is still published with the
// declaration whose digest was logged (a target cannot be quietly
// rewritten or withdrawn); each target published is logged (unless
// declared after pendingSince); each logged report is served byte for byte
// as it was published.
func checkDeclarations(ctx context.Context, client *peer.Client, entries []tlog.Entry, pendingSince time.Time) (targets, reports int, problems []string, err error) {
	type logged struct {
		index  int
		digest string
	}
	loggedTargets := map[string][]logged{}
	var targetOrder, reportOrder []string
	loggedReports := map[string]logged{}
	for i, e := range entries {
		switch e.Kind {
		case tlog.KindTargetDeclared:
			id := strings.TrimPrefix(e.Subject, "target:")
			if _, ok := loggedTargets[id]; !ok {
				targetOrder = append(targetOrder, id)
			}
			loggedTargets[id] = append(loggedTargets[id], logged{i, e.Digest})
		case tlog.KindReportPublished:
			id := strings.TrimPrefix(e.Subject, "report:")
			if _, ok := loggedReports[id]; !ok {
				reportOrder = append(reportOrder, id)
			}
			loggedReports[id] = logged{i, e.Digest}
		}
	}
	lookups := 0
	for _, id := range targetOrder {
		if lookups++; lookups > maxDeclarationLookups {
			problems = append(problems, fmt.Sprintf("only the first %d logged targets and reports were checked", maxDeclarationLookups))
			break
		}
		t, found, err := client.Target(ctx, id)
		if err != nil {
			return targets, reports, problems, err
		}
		ls := loggedTargets[id]
		if !found {
			problems = append(problems, fmt.Sprintf("target %s was declared in the log (entry %d) but is no longer published", id, ls[0].index))
			continue
		}
		targets++
		got := t.Digest()
		match := false
		for _, l := range ls {
			match = match || l.digest == got
		}
		if !match {
			problems = append(problems, fmt.Sprintf("target %s is published with a declaration (SHA-256 %s) that differs from the one logged in entry %d (%s): it was changed after it was declared", id, short(got), ls[len(ls)-1].index, short(ls[len(ls)-1].digest)))
		}
	}
	// Every target published must be logged; the listing is read whole,
	// page by page, within the same bound.
	for offset := 0; offset < maxDeclarationLookups; offset += 200 {
		page, err := client.Targets(ctx, offset, 200)
		if err != nil {
			return targets, reports, problems, err
		}
		for _, t := range page.Items {
			if _, ok := loggedTargets[t.ID]; !ok && t.DeclaredAt.Before(pendingSince) {
				problems = append(problems, fmt.Sprintf("target %s is published but its declaration is not in the log", t.ID))
			}
		}
		if len(page.Items) < 200 {
			break
		}
	}
	for _, id := range reportOrder {
		if lookups++; lookups > maxDeclarationLookups {
			problems = append(problems, fmt.Sprintf("only the first %d logged targets and reports were checked", maxDeclarationLookups))
			break
		}
		l := loggedReports[id]
		body, found, err := client.PublishedReport(ctx, id)
		if err != nil {
			return targets, reports, problems, err
		}
		if !found {
			problems = append(problems, fmt.Sprintf("report %s was published in the log (entry %d) but is no longer served", id, l.index))
			continue
		}
		reports++
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); got != l.digest {
			problems = append(problems, fmt.Sprintf("report %s is served with content (SHA-256 %s) that differs from what was logged in entry %d (%s)", id, short(got), l.index, short(l.digest)))
		}
	}
	return targets, reports, problems, nil
}
