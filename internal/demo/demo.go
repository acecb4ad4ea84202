// Package demo plans Hallmark's demo market: a realistic, deterministic set
// of manufacturers, products, versions with SBOMs, and applications ending
// in every state, spread over the real schemes. It only plans; the server
// applies the plan through the same code paths real users take.
package demo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// Size scales the market.
type Size struct {
	Manufacturers int
	Products      int
}

// Full is the demo `serve --demo` loads; Small keeps tests quick.
var (
	Full  = Size{Manufacturers: 100, Products: 2000}
	Small = Size{Manufacturers: 6, Products: 30}
)

// Component is one SBOM entry.
type Component struct {
	PURL, Name, Version, Ecosystem string
}

// Market is the whole plan.
type Market struct {
	Authorities   []Org
	Labs          []Org
	Manufacturers []Manufacturer
}

// Org is an organisation with one user.
type Org struct {
	Org  registry.Organisation
	User registry.User
}

// Manufacturer and what it makes.
type Manufacturer struct {
	Org
	Products []Product
}

// Product is a product with its versions.
type Product struct {
	Product  registry.Product
	Versions []Version
}

// Version is a product version, its SBOM and what happened to its application.
type Version struct {
	Version    registry.Version
	Components []Component
	Apply      *Application
}

// Outcome is how far an application got.
type Outcome string

// Application plans an application and, if labelled, the label's fate.
type Application struct {
	Scheme, Level string
	Stop          string // the application state it ends in
	Fate          string // for approved: active, suspended, revoked, surrendered, expired
	DaysAgo       int    // when the application was decided
}

// Password is every demo account's password (documented in the README).
const Password = "hallmark-demo-2026"

// schemeLevels lists where demo applications go, weighted by how many
// consumer products each scheme plausibly sees.
var schemeLevels = []struct {
	scheme, level string
	weight        int
}{
	{"sg-cls", "1", 14}, {"sg-cls", "2", 10}, {"sg-cls", "3", 5}, {"sg-cls", "4", 2},
	{"de-bsi-label", "label", 14}, {"us-cyber-trust-mark", "mark", 18}, {"fi-traficom", "label", 4},
	{"etsi-baseline", "baseline", 8}, {"uk-psti", "compliance", 12}, {"eu-cra-default", "default", 9},
	{"eu-cra-important-1", "important-1", 4},
}

// Owners maps each scheme to the authority that runs it in the demo.
var Owners = map[string]string{
	"sg-cls":              "Cyber Security Agency of Singapore",
	"de-bsi-label":        "Bundesamt für Sicherheit in der Informationstechnik",
	"fi-traficom":         "Traficom National Cyber Security Centre",
	"us-cyber-trust-mark": "US Cybersecurity Label Administrator",
	"uk-psti":             "UK Office for Product Safety and Standards",
	"eu-cra-default":      "EU Market Surveillance Network",
	"eu-cra-important-1":  "EU Market Surveillance Network",
	"etsi-baseline":       "Hallmark Reference Authority",
}

var countryOf = map[string]string{
	"Cyber Security Agency of Singapore":                  "SG",
	"Bundesamt für Sicherheit in der Informationstechnik": "DE",
	"Traficom National Cyber Security Centre":             "FI",
	"US Cybersecurity Label Administrator":                "US",
	"UK Office for Product Safety and Standards":          "GB",
	"EU Market Surveillance Network":                      "BE",
	"Hallmark Reference Authority":                        "CH",
}

var (
	prefixes = []string{"Aster", "Norvik", "Lumo", "Kestrel", "Brightwave", "Tessel", "Orbit", "Halden", "Quill", "Vireo",
		"Cobalt", "Fennec", "Marlow", "Nimbus", "Polaris", "Rook", "Sable", "Tandem", "Umber", "Wren", "Yarrow", "Zephyr",
		"Alder", "Birch", "Cedar", "Delta", "Ember", "Fjord", "Garnet", "Harbor", "Indigo", "Juniper", "Kite", "Lark"}
	suffixes  = []string{"Devices", "Home", "Labs", "Electronics", "Connect", "Systems", "Smart", "Technologies", "Living", "Works"}
	countries = []string{"CN", "DE", "US", "KR", "JP", "TW", "GB", "FR", "SE", "NL", "SG", "FI", "IT", "ES", "PL"}
	lines     = map[string][]string{
		"camera": {"Cam", "Eye", "Watch", "Sight"}, "doorbell": {"Bell", "Door", "Ring"}, "router": {"Router", "Mesh", "Gateway"},
		"smart-plug": {"Plug", "Socket"}, "thermostat": {"Thermo", "Climate"}, "smart-lock": {"Lock", "Bolt"},
		"baby-monitor": {"Nursery", "Baby"}, "toy": {"Buddy", "Bot", "Pal"}, "smart-speaker": {"Speaker", "Voice"},
		"wearable": {"Band", "Watch", "Fit"}, "ev-charger": {"Charge", "Volt"}, "smart-tv": {"Vision", "Screen"},
		"light": {"Bulb", "Glow"}, "alarm-system": {"Guard", "Alarm"}, "appliance": {"Fridge", "Washer", "Oven"}, "hub": {"Hub", "Bridge"},
	}
	sensorsOf = map[string][]string{
		"camera": {"video", "audio", "motion"}, "doorbell": {"video", "audio", "motion"}, "baby-monitor": {"video", "audio"},
		"smart-speaker": {"audio"}, "wearable": {"health", "location", "motion"}, "toy": {"audio"}, "thermostat": {"environmental", "motion"},
		"alarm-system": {"motion", "video"}, "smart-lock": {"biometric"},
	}
)

// Plan builds the market for size, deterministically from seed, with SBOM
// components drawn from pool (see ParsePool). now anchors dates.
func Plan(size Size, seed uint64, pool []Component, now time.Time) Market {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var m Market
	seen := map[string]bool{}
	for _, sl := range schemeLevels {
		name := Owners[sl.scheme]
		if seen[name] {
			continue
		}
		seen[name] = true
		var schemes []string
		for id, owner := range Owners {
			if owner == name {
				schemes = append(schemes, id)
			}
		}
		slices.Sort(schemes)
		m.Authorities = append(m.Authorities, org(name, registry.Authority, countryOf[name], "authority-admin", schemes))
	}
	for _, lab := range []struct{ name, country string }{{"TÜV Example Cyber Lab", "DE"}, {"Lion City Test House", "SG"}, {"Great Lakes CyberLAB", "US"}, {"Nordic Device Assurance", "FI"}} {
		m.Labs = append(m.Labs, org(lab.name, registry.AssessorLab, lab.country, "assessor", nil))
	}
	names := map[string]bool{}
	for i := 0; i < size.Manufacturers; i++ {
		var name string
		for {
			name = prefixes[r.IntN(len(prefixes))] + " " + suffixes[r.IntN(len(suffixes))]
			if !names[name] {
				break
			}
			name = fmt.Sprintf("%s %d", name, i)
			if !names[name] {
				break
			}
		}
		names[name] = true
		m.Manufacturers = append(m.Manufacturers, Manufacturer{Org: org(name, registry.Manufacturer, countries[r.IntN(len(countries))], "manufacturer", nil)})
	}
	for i := 0; i < size.Products; i++ {
		mi := i % size.Manufacturers
		if r.IntN(4) == 0 { // some makers have larger ranges
			mi = r.IntN(max(1, size.Manufacturers/5))
		}
		mf := &m.Manufacturers[mi]
		p := product(r, mf.Org.Org.Name, len(mf.Products), now)
		nv := 1 + r.IntN(3)
		for v := 0; v < nv; v++ {
			p.Versions = append(p.Versions, version(r, p.Product, v, nv, pool, now))
		}
		mf.Products = append(mf.Products, p)
	}
	return m
}

func org(name string, kind registry.OrgKind, country, role string, schemes []string) Org {
	return Org{
		Org:  registry.Organisation{Name: name, Kind: kind, Country: country, Schemes: schemes},
		User: registry.User{Email: Email(name), Name: name + " team", Role: role},
	}
}

// Email is the demo account of the organisation with this name.
func Email(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == 'ü':
			b.WriteString("ue")
		case r == ' ' || r == '-':
			if !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return "demo@" + strings.Trim(b.String(), "-") + ".example"
}

func product(r *rand.Rand, maker string, n int, now time.Time) Product {
	cats := registry.Categories
	cat := cats[r.IntN(len(cats))]
	base := strings.Fields(maker)[0]
	line := lines[cat][r.IntN(len(lines[cat]))]
	model := fmt.Sprintf("%s-%s%d", strings.ToUpper(base[:min(3, len(base))]), strings.ToUpper(line[:min(2, len(line))]), 100+n*7+r.IntN(5))
	name := fmt.Sprintf("%s %s %d", base, line, 1+r.IntN(5))
	if r.IntN(3) == 0 {
		name += " Pro"
	}
	body := fmt.Sprintf("40%010d", r.Int64N(1e10))
	gtin := body + string(registry.GTINCheckDigit(body))
	slug := strings.ToLower(strings.ReplaceAll(maker, " ", "-"))
	return Product{Product: registry.Product{
		Name: name, Brand: base, Category: cat, ModelNumber: model, GTIN: gtin,
		PURL:      fmt.Sprintf("pkg:generic/%s/%s", slug, strings.ToLower(model)),
		CPE:       fmt.Sprintf("cpe:2.3:h:%s:%s:-:*:*:*:*:*:*:*", strings.ReplaceAll(slug, "-", "_"), strings.ToLower(strings.ReplaceAll(model, "-", "_"))),
		Published: r.IntN(10) != 0,
	}}
}

func version(r *rand.Rand, p registry.Product, i, n int, pool []Component, now time.Time) Version {
	release := now.AddDate(0, 0, -30*(n-i)*(2+r.IntN(6)))
	support := release.AddDate(2+r.IntN(7), r.IntN(12), 0)
	f := registry.Facts{
		SupportEnd:          support.Format(time.DateOnly),
		UpdateMode:          pick(r, []string{"automatic", "automatic", "automatic-opt-out", "manual", "consent", "none", "not-disclosed"}),
		PasswordType:        pick(r, []string{"unique-per-device", "unique-per-device", "user-defined", "user-defined", "no-password", "shared-default"}),
		PasswordChange:      "In the companion app under Settings › Security.",
		HowToSecure:         "Install updates when offered, set a strong password during setup, and keep the device on your home network only.",
		SecurityContact:     "security@" + strings.ToLower(strings.Fields(p.Brand)[0]) + ".example",
		DisclosurePolicyURL: "https://" + strings.ToLower(p.Brand) + ".example/security",
		Sensors:             sensorsOf[p.Category],
		DataDeletion:        "Factory reset removes all personal data; account data can be deleted in the app.",
		Encryption:          "TLS 1.2 or later for all network traffic; keys stored in a secure element.",
		SBOMAvailable:       r.IntN(3) != 0,
	}
	if r.IntN(12) == 0 { // a few truly un-updatable devices
		f.UpdateMode = "none"
	}
	sw := fmt.Sprintf("%d.%d.%d", 1+i, r.IntN(10), r.IntN(20))
	// The digest of a firmware image that does not exist, stable across
	// loads, so a CSAF advisory can name the image by hash.
	img := sha256.Sum256([]byte("hallmark demo firmware " + p.ModelNumber + " " + sw))
	f.FirmwareHashes = []string{"sha256:" + hex.EncodeToString(img[:])}
	v := Version{Version: registry.Version{SoftwareVersion: sw, ReleaseDate: release.Format(time.DateOnly), Facts: f}}
	if len(pool) > 0 {
		k := 8 + r.IntN(25)
		seen := map[int]bool{}
		for len(v.Components) < min(k, len(pool)) {
			j := r.IntN(len(pool))
			if !seen[j] {
				seen[j] = true
				v.Components = append(v.Components, pool[j])
			}
		}
	}
	// Most latest versions apply for a label; some older ones were labelled.
	if i == n-1 || r.IntN(3) == 0 {
		v.Apply = application(r)
	}
	return v
}

func application(r *rand.Rand) *Application {
	total := 0
	for _, s := range schemeLevels {
		total += s.weight
	}
	x := r.IntN(total)
	var sl = schemeLevels[0]
	for _, s := range schemeLevels {
		if x < s.weight {
			sl = s
			break
		}
		x -= s.weight
	}
	a := &Application{Scheme: sl.scheme, Level: sl.level, DaysAgo: 1 + r.IntN(900)}
	if sl.scheme == "fi-traficom" {
		// Closed to new labels: only old, decided applications exist.
		a.DaysAgo = 700 + r.IntN(600)
	}
	switch x := r.IntN(100); {
	case x < 6:
		a.Stop = "draft"
	case x < 12:
		a.Stop = "submitted"
	case x < 18:
		a.Stop = "in-assessment"
	case x < 22:
		a.Stop = "assessed"
	case x < 28:
		a.Stop = "rejected"
	case x < 31:
		a.Stop = "withdrawn"
	default:
		a.Stop = "approved"
		switch y := r.IntN(100); {
		case y < 8:
			a.Fate = "suspended"
		case y < 12:
			a.Fate = "revoked"
		case y < 14:
			a.Fate = "surrendered"
		default:
			a.Fate = "active"
		}
	}
	if sl.scheme == "fi-traficom" && a.Stop != "approved" && a.Stop != "rejected" {
		a.Stop = "rejected"
	}
	return a
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// ParsePool reads the component pool (data/demo/components.csv).
func ParsePool(b []byte) ([]Component, error) {
	var out []Component
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Split(t, ",")
		if len(f) < 4 || !strings.HasPrefix(f[0], "pkg:") {
			return nil, fmt.Errorf("components.csv:%d: want purl,name,version,ecosystem[,source]", line)
		}
		out = append(out, Component{PURL: f[0], Name: f[1], Version: f[2], Ecosystem: f[3]})
	}
	return out, sc.Err()
}
