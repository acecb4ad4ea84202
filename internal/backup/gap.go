// Package backup holds what keeps a Hallmark instance restorable: the
// comparison of a database with its transparency log (a database restored
// from an older backup is behind the log, and must not decide until it is
// not), and the backup format itself, a directory with a manifest of
// every file's SHA-256. It knows nothing of SQL or HTTP.
package backup

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// MaxListed bounds how many missing or conflicting decisions a Gap names.
const MaxListed = 10

// Gap is how a database stands against its log. The zero Gap is a database
// that holds everything the log does.
type Gap struct {
	LogSize uint64
	// Missing counts log entries whose decision the database does not
	// hold; Listed names the first MaxListed of them and of Conflicts.
	Missing int
	// Conflicts counts log entries whose decision id the database gives
	// to another decision.
	Conflicts int
	Listed    []string
	// LogBehind: the database holds receipts for entries past the log's
	// end (the log directory is older than the database).
	LogBehind   bool
	LastReceipt int64 // the highest log index the database has a receipt for, -1 for none
	// Unscanned counts entries past the scanned ones (a very long gap).
	Unscanned uint64
	// Foreign: the entry at the database's last receipt is another
	// decision (database and log are of different histories).
	Foreign string
}

// OK reports whether the database may decide: nothing the log holds is
// missing from it or contradicts it.
func (g Gap) OK() bool {
	return g.Missing == 0 && g.Conflicts == 0 && !g.LogBehind && g.Foreign == "" && g.Unscanned == 0
}

// Error says what is wrong and what to do, in one paragraph.
func (g Gap) Error() string {
	if g.OK() {
		return ""
	}
	const what = " New decisions are refused until then (anything decided now would reuse decision ids and status-list positions the log has already published); pages, labels, status lists and the log are still served."
	if g.LogBehind {
		return fmt.Sprintf("the transparency log is behind the database: the database holds receipts up to log entry %d but the log has %d entries: "+
			"the log directory is older than the database. Restore the database and the log from the same backup (hallmark restore).", g.LastReceipt, g.LogSize) + what
	}
	if g.Foreign != "" {
		return fmt.Sprintf("the database and the transparency log are of different histories: %s. Point --data and --db at the same instance's files, or restore both from one backup (hallmark restore).", g.Foreign) + what
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the database is behind the transparency log: ")
	var parts []string
	if n := g.Missing + int(g.Unscanned); n > 0 {
		parts = append(parts, fmt.Sprintf("the log holds %d decision(s) the database does not", n))
	}
	if g.Conflicts > 0 {
		parts = append(parts, fmt.Sprintf("%d decision id(s) the log holds are other decisions in the database", g.Conflicts))
	}
	b.WriteString(strings.Join(parts, ", and "))
	if len(g.Listed) > 0 {
		fmt.Fprintf(&b, " (%s", strings.Join(g.Listed, "; "))
		if more := g.Missing + g.Conflicts + int(g.Unscanned) - len(g.Listed); more > 0 {
			fmt.Fprintf(&b, "; and %d more", more)
		}
		b.WriteString(")")
	}
	b.WriteString(". The database was probably restored from a backup older than the log: restore a newer backup of the database, one taken after these decisions.")
	return b.String() + what
}

// Compare checks the log's entries from index from on (tail, ending at
// the log's size) against the database: each must be a decision the
// database holds, identical but for the authority (the log's origin,
// which the database does not keep). db holds the database's decisions
// with the ids the tail names. last is the decision with the database's
// highest receipt (ok false for none): its entry, the first of the tail
// when the database has one, anchors the database in this log's history.
// unscanned counts entries after the tail that were not read.
func Compare(logSize uint64, from uint64, tail []tlog.Entry, unscanned uint64, last registry.Decision, hasLast bool, db map[int64]registry.Decision) Gap {
	g := Gap{LogSize: logSize, LastReceipt: -1, Unscanned: unscanned}
	if hasLast {
		g.LastReceipt = last.LogIndex
		if uint64(last.LogIndex) >= logSize {
			g.LogBehind = true
			return g
		}
	}
	for i, e := range tail {
		idx := from + uint64(i)
		if hasLast && int64(idx) == last.LogIndex && !Same(e, last) {
			g.Foreign = fmt.Sprintf("log entry %d is %s, but the database's receipt for entry %d is decision %d (%s %s)", idx, describe(e), idx, last.ID, last.Kind, last.Subject)
			return g
		}
		id, err := strconv.ParseInt(e.Ref, 10, 64)
		d, ok := db[id]
		switch {
		case err != nil || !ok:
			g.Missing++
			if len(g.Listed) < MaxListed {
				g.Listed = append(g.Listed, fmt.Sprintf("entry %d: %s", idx, describe(e)))
			}
		case !Same(e, d):
			g.Conflicts++
			if len(g.Listed) < MaxListed {
				g.Listed = append(g.Listed, fmt.Sprintf("entry %d: %s, but decision %d in the database is %s %s", idx, describe(e), id, d.Kind, d.Subject))
			}
		}
	}
	return g
}

// Same reports whether a log entry records decision d.
func Same(e tlog.Entry, d registry.Decision) bool {
	return e.Ref == strconv.FormatInt(d.ID, 10) && e.Kind == d.Kind && e.Subject == d.Subject && e.Digest == d.Digest &&
		e.Status == d.Status && e.StatusIndex == d.StatusIndex && e.Reason == d.ReasonHash &&
		e.At.Equal(d.At.UTC().Truncate(time.Second))
}

func describe(e tlog.Entry) string {
	return fmt.Sprintf("%s %s at %s (decision %s)", e.Kind, e.Subject, e.At.UTC().Format(time.RFC3339), e.Ref)
}
