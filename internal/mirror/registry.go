package mirror

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/tlog"
)

// RegistryLabel is a label as a peer's public registry shows it.
type RegistryLabel struct {
	ID            string
	Status        string
	CredentialSHA string
	// Product identifiers, for linking (not compared with the log).
	Manufacturer, ModelNumber, GTIN, PURL string
}

// Disagreement kinds.
const (
	// KindStatus: the registry shows a status the newest logged decision
	// did not leave (changed behind the log's back, or not yet logged).
	KindStatus = "registry-status"
	// KindUnlogged: the registry shows a label the log never mentions.
	KindUnlogged = "registry-unlogged"
	// KindMissing: the log holds a label the registry no longer shows.
	KindMissing = "registry-missing"
	// KindCredential: the registry's credential is not the one logged at
	// issue.
	KindCredential = "registry-credential"
	// KindFork: two views of the log that cannot both be true.
	KindFork = "log-fork"
	// KindLog: the log itself is faulty (inconsistent with the mirror's
	// last checkpoint, altered tiles or entries).
	KindLog = "log-inconsistent"
)

// Disagreement is one label on which a registry and its log disagree.
type Disagreement struct {
	Kind    string
	Label   string
	Summary string
	// Logged is the newest logged decision about the label (zero if none).
	Logged tlog.Entry
}

// Latest is each label's newest logged decision: the one with the highest
// decision number (Ref), since decisions appended together may be
// sequenced in any order.
func Latest(entries []tlog.Entry) map[string]tlog.Entry {
	latest := map[string]tlog.Entry{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Kind, "label.") {
			continue
		}
		if cur, ok := latest[e.Subject]; !ok || ref(e) > ref(cur) {
			latest[e.Subject] = e
		}
	}
	return latest
}

func ref(e tlog.Entry) int64 { n, _ := strconv.ParseInt(e.Ref, 10, 64); return n }

// CompareRegistry checks every label of a registry against the newest
// logged decision about it, and every logged label against the registry.
// The result is sorted by label.
func CompareRegistry(entries []tlog.Entry, labels []RegistryLabel) []Disagreement {
	latest := Latest(entries)
	issued := map[string]tlog.Entry{}
	for _, e := range entries {
		if e.Kind == tlog.KindLabelIssued {
			issued[e.Subject] = e
		}
	}
	var out []Disagreement
	seen := map[string]bool{}
	for _, l := range labels {
		seen[l.ID] = true
		e, ok := latest[l.ID]
		switch {
		case !ok:
			out = append(out, Disagreement{Kind: KindUnlogged, Label: l.ID,
				Summary: fmt.Sprintf("label %s is %s in the registry, but no decision about it is in the log", l.ID, l.Status)})
		case e.Status != l.Status:
			out = append(out, Disagreement{Kind: KindStatus, Label: l.ID, Logged: e,
				Summary: fmt.Sprintf("label %s is %s in the registry, but its newest logged decision (%s, decision %s, %s) left it %s",
					l.ID, l.Status, e.Kind, e.Ref, e.At.UTC().Format("2006-01-02T15:04:05Z"), e.Status)})
		}
		if is, ok := issued[l.ID]; ok && l.CredentialSHA != "" && is.Digest != l.CredentialSHA {
			out = append(out, Disagreement{Kind: KindCredential, Label: l.ID, Logged: is,
				Summary: fmt.Sprintf("label %s's credential (sha256 %s) is not the one logged at its issue (sha256 %s)", l.ID, l.CredentialSHA, is.Digest)})
		}
	}
	for id, e := range latest {
		if !seen[id] {
			out = append(out, Disagreement{Kind: KindMissing, Label: id, Logged: e,
				Summary: fmt.Sprintf("label %s is in the log (last %s, %s) but not in the registry", id, e.Kind, e.Status)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Label != out[j].Label {
			return out[i].Label < out[j].Label
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}
