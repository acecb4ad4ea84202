package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// The synthetic market: a deterministic market of any size (100,000 or
// 1,000,000 products) for the scale benchmarks. Unlike Plan, which the
// demo plays through the application's own paths, it is generated one
// product at a time and written in bulk (store.LoadSynthetic), since a
// million approvals through the gate would take days. Its shape follows
// the demo's: the same categories, facts and scheme levels, labels issued
// over three years with some suspended, revoked, surrendered or expired,
// and post-market findings on a third of the labelled versions.

// SynthLevel is a scheme level synthetic labels are issued at, with the
// requirements its assessments record verdicts on.
type SynthLevel struct {
	Scheme, Level string
	Requirements  []string
	Weight        int
}

// SynthEvent is one status change of a synthetic label after its issue.
type SynthEvent struct {
	At     time.Time
	Status string // suspended, active (restored), revoked, surrendered, expired
	Action string // suspend, restore, revoke, surrender, expire
}

// SynthLabel is a synthetic product version's label.
type SynthLabel struct {
	Level    SynthLevel
	Issued   time.Time
	Events   []SynthEvent
	Verdicts []string // requirements its assessment passed
	Failed   string   // one requirement it failed, if any (then it was not issued)
}

// SynthFinding is a post-market finding on a synthetic version.
type SynthFinding struct {
	Flaw      string // one of SynthFlaws
	FirstSeen time.Time
	State     string
	Updated   time.Time
}

// SynthProduct is one product with its one version.
type SynthProduct struct {
	Index        int // from 0
	Manufacturer int // index into the manufacturers
	Product      registry.Product
	Version      registry.Version
	SBOM         bool
	Label        *SynthLabel
	Findings     []SynthFinding
}

// SynthFlaw is a flaw synthetic findings name.
type SynthFlaw struct {
	ID        string
	Severity  string
	Published time.Time
}

// SynthFlaws are the flaws of the synthetic market (fixed: a few hundred
// distinct flaws serve a million products, as real markets share libraries).
func SynthFlaws(now time.Time) []SynthFlaw {
	r := rand.New(rand.NewPCG(7, 11))
	sev := []string{"critical", "high", "high", "medium", "medium", "medium", "low"}
	out := make([]SynthFlaw, 300)
	for i := range out {
		out[i] = SynthFlaw{ID: fmt.Sprintf("CVE-2026-9%04d", i), Severity: sev[r.IntN(len(sev))], Published: now.AddDate(0, 0, -30-r.IntN(1000))}
	}
	return out
}

// SynthManufacturers is how many manufacturers a market of n products has:
// one per hundred products, at least ten.
func SynthManufacturers(n int) int { return max(10, n/100) }

// Synth generates n products deterministically from seed and hands each to
// fn in order; labels go to the levels by weight. now anchors every date.
func Synth(n int, seed uint64, now time.Time, levels []SynthLevel, fn func(SynthProduct) error) error {
	if len(levels) == 0 {
		return fmt.Errorf("synthetic market: no levels to label at")
	}
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	total := 0
	for _, l := range levels {
		total += max(1, l.Weight)
	}
	flaws := SynthFlaws(now)
	manus := SynthManufacturers(n)
	for i := 0; i < n; i++ {
		p := SynthProduct{Index: i, Manufacturer: r.IntN(manus)}
		cat := registry.Categories[r.IntN(len(registry.Categories))]
		p.Product = registry.Product{Name: fmt.Sprintf("Synthetic %s %d", cat, i), Brand: fmt.Sprintf("Brand%d", p.Manufacturer), Category: cat,
			ModelNumber: fmt.Sprintf("SYN-%07d", i), Published: true}
		release := now.AddDate(0, 0, -r.IntN(1500))
		support := release.AddDate(1+r.IntN(8), r.IntN(12), 0)
		f := registry.Facts{SupportEnd: support.Format(time.DateOnly),
			UpdateMode:      pick(r, []string{"automatic", "automatic", "automatic-opt-out", "manual", "consent", "none", "not-disclosed"}),
			PasswordType:    pick(r, []string{"unique-per-device", "unique-per-device", "user-defined", "no-password", "shared-default"}),
			SecurityContact: "security@example.test", SBOMAvailable: r.IntN(3) != 0}
		if r.IntN(5) != 0 {
			f.DisclosurePolicyURL = "https://example.test/security"
		}
		if r.IntN(20) == 0 {
			f.SupportEnd = "" // some declare none
		}
		p.Version = registry.Version{SoftwareVersion: fmt.Sprintf("1.%d.%d", r.IntN(10), r.IntN(20)), ReleaseDate: release.Format(time.DateOnly), Facts: f}
		p.SBOM = f.SBOMAvailable
		// Four in five products hold a label.
		if r.IntN(5) != 0 {
			x := r.IntN(total)
			lv := levels[0]
			for _, l := range levels {
				if x < max(1, l.Weight) {
					lv = l
					break
				}
				x -= max(1, l.Weight)
			}
			issued := release.AddDate(0, 0, 10+r.IntN(120))
			if issued.After(now) {
				issued = now.AddDate(0, 0, -1)
			}
			l := &SynthLabel{Level: lv, Issued: issued, Verdicts: lv.Requirements}
			switch y := r.IntN(100); {
			case y < 8:
				l.Events = []SynthEvent{{At: between(r, issued, now), Status: "suspended", Action: "suspend"}}
				if r.IntN(3) == 0 {
					l.Events = append(l.Events, SynthEvent{At: between(r, l.Events[0].At, now), Status: "active", Action: "restore"})
				}
			case y < 11:
				l.Events = []SynthEvent{{At: between(r, issued, now), Status: "revoked", Action: "revoke"}}
			case y < 13:
				l.Events = []SynthEvent{{At: between(r, issued, now), Status: "surrendered", Action: "surrender"}}
			case y < 20 && !support.After(now):
				l.Events = []SynthEvent{{At: support.AddDate(0, 0, 1), Status: "expired", Action: "expire"}}
			}
			p.Label = l
			// A third of labelled versions carry findings.
			if r.IntN(3) == 0 {
				for k := 0; k < 1+r.IntN(2); k++ {
					fl := flaws[r.IntN(len(flaws))]
					seen := maxTime(issued, fl.Published).AddDate(0, 0, r.IntN(30))
					if seen.After(now) {
						seen = now
					}
					sf := SynthFinding{Flaw: fl.ID, FirstSeen: seen, State: "open", Updated: seen}
					switch z := r.IntN(10); {
					case z < 3:
						sf.State, sf.Updated = "fixed", between(r, seen, now)
					case z < 4:
						sf.State, sf.Updated = "not-affected", between(r, seen, now)
					}
					p.Findings = append(p.Findings, sf)
				}
			}
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func between(r *rand.Rand, a, b time.Time) time.Time {
	d := b.Sub(a)
	if d <= 0 {
		return b
	}
	return a.Add(time.Duration(r.Int64N(int64(d))))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
