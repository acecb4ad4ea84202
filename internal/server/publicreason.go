package server

import "strings"

// WatchReason is a decision of the post-market watch read back from its
// public reason (see watchReason): the rule's description, the rule and
// the flaws. Pages use it to say "suspended under the scheme's
// post-market rules" in the reader's language, not the raw sentence.
type WatchReason struct {
	Description string
	Rule        string
	Flaws       []string
}

// ParseWatchReason reads a reason written by watchReason; ok is false for
// any other reason (an authority's own words).
func ParseWatchReason(reason string) (WatchReason, bool) {
	rest, ok := strings.CutPrefix(reason, watchReasonPrefix)
	if !ok {
		return WatchReason{}, false
	}
	var w WatchReason
	i := strings.LastIndex(rest, " (rule ")
	if i < 0 || !strings.HasSuffix(rest, ")") {
		w.Description = strings.TrimSpace(rest)
		return w, true
	}
	w.Description = strings.TrimSpace(rest[:i])
	for n, part := range strings.Split(strings.TrimSuffix(rest[i+2:], ")"), "; ") {
		switch {
		case n == 0:
			w.Rule = strings.TrimPrefix(part, "rule ")
		case strings.HasPrefix(part, "source sha256 "):
			// The documents' hashes are for auditors; the page links the
			// findings instead.
		default:
			for _, f := range strings.Split(part, ", ") {
				if f = strings.TrimSpace(f); f != "" {
					w.Flaws = append(w.Flaws, f)
				}
			}
		}
	}
	return w, true
}
