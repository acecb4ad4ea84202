// Package registry holds the registry's domain: organisations and their
// users, products, product versions and the facts a manufacturer declares
// about them. It validates input and derives what follows from the facts
// (such as "un-securable"); it knows nothing of HTTP or SQL.
package registry

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
)

// OrgKind is what an organisation does in a scheme; the kinds and the
// roles valid in each are defined once, in package auth.
type OrgKind = auth.OrgKind

const (
	Authority    = auth.KindAuthority
	AssessorLab  = auth.KindAssessorLab
	Manufacturer = auth.KindManufacturer
)

// Organisation is an authority, an assessor lab or a manufacturer.
type Organisation struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Kind    OrgKind   `json:"kind"`
	Country string    `json:"country,omitempty"`
	Website string    `json:"website,omitempty"`
	Schemes []string  `json:"schemes,omitempty"` // for authorities: the schemes it administers
	Created time.Time `json:"created"`
}

// User is a person acting for an organisation.
type User struct {
	ID       int64     `json:"id"`
	OrgID    int64     `json:"org_id"`
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	OrgKind  OrgKind   `json:"org_kind,omitempty"` // read with the user, so a request needs one query
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created"`
}

// Categories of consumer connected products the registry knows.
var Categories = []string{
	"camera", "doorbell", "router", "smart-plug", "thermostat", "smart-lock", "baby-monitor", "toy",
	"smart-speaker", "wearable", "ev-charger", "smart-tv", "light", "alarm-system", "appliance", "hub",
}

// Product is a product model a manufacturer registers.
type Product struct {
	ID             int64     `json:"id"`
	ManufacturerID int64     `json:"manufacturer_id"`
	Manufacturer   string    `json:"manufacturer"`
	Name           string    `json:"name"`
	Brand          string    `json:"brand,omitempty"`
	Category       string    `json:"category"`
	ModelNumber    string    `json:"model_number"`
	GTIN           string    `json:"gtin,omitempty"`
	PURL           string    `json:"purl,omitempty"`
	CPE            string    `json:"cpe,omitempty"`
	Published      bool      `json:"published"`
	Created        time.Time `json:"created"`
}

// Update modes of the CTA-2120 data set.
var UpdateModes = []string{"automatic", "automatic-opt-out", "manual", "consent", "none", "not-disclosed", "other"}

// Password types: how the product's default credential is set.
var PasswordTypes = []string{"unique-per-device", "user-defined", "no-password", "shared-default", "not-disclosed"}

// Facts are what a manufacturer declares about a product version: the
// CTA-2120 data set a label's public page shows.
type Facts struct {
	SupportEnd           string   `json:"support_end_date,omitempty"` // YYYY-MM-DD
	UpdateMode           string   `json:"update_mode,omitempty"`
	PasswordType         string   `json:"password_type,omitempty"`
	PasswordChange       string   `json:"password_change_method,omitempty"`
	HowToSecure          string   `json:"how_to_secure,omitempty"`
	SecurityContact      string   `json:"security_contact,omitempty"`
	DisclosurePolicyURL  string   `json:"disclosure_policy_url,omitempty"`
	Sensors              []string `json:"sensors,omitempty"`
	DataDeletion         string   `json:"data_deletion,omitempty"`
	AccountDeactivation  string   `json:"account_deactivation,omitempty"`
	Encryption           string   `json:"encryption,omitempty"`
	SBOMAvailable        bool     `json:"sbom_available"`
	HBOMAvailable        bool     `json:"hbom_available"`
	UniqueCredentialsCap *bool    `json:"unique_credentials_capable,omitempty"`
	// FirmwareHashes are the digests of the firmware images of this
	// version, "sha256:<hex>" or "sha512:<hex>": an advisory naming an
	// image by its hash (CSAF's product identification helper) matches it
	// exactly.
	FirmwareHashes []string `json:"firmware_hashes,omitempty"`
}

// MaxFirmwareHashes bounds the images one version declares.
const MaxFirmwareHashes = 16

// normalizeFirmwareHash checks one "alg:hex" digest and lower-cases it.
func normalizeFirmwareHash(h string) (string, bool) {
	alg, hexv, ok := strings.Cut(strings.ToLower(strings.TrimSpace(h)), ":")
	if !ok {
		return "", false
	}
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if want == 0 || len(hexv) != want {
		return "", false
	}
	for _, c := range hexv {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return alg + ":" + hexv, true
}

// Sensors a product may declare.
var Sensors = []string{"audio", "video", "image", "location", "motion", "biometric", "environmental", "health"}

// Version is one software version of a product.
type Version struct {
	ID              int64     `json:"id"`
	ProductID       int64     `json:"product_id"`
	SoftwareVersion string    `json:"software_version"`
	HardwareVersion string    `json:"hardware_version,omitempty"`
	ReleaseDate     string    `json:"release_date,omitempty"`
	Facts           Facts     `json:"facts"`
	SBOMFormat      string    `json:"sbom_format,omitempty"`
	SBOMDigest      string    `json:"sbom_digest,omitempty"`
	Components      int       `json:"component_count"`
	Created         time.Time `json:"created"`
}

// Unsecurable says in which respects a version cannot be made secure, from
// its declared facts: no way to receive updates, or no capacity for unique
// credentials. Indicators count these.
type Unsecurable struct {
	NoUpdatePath        bool `json:"no_update_path"`
	NoUniqueCredentials bool `json:"no_unique_credentials"`
}

// Any reports whether the version is un-securable in any respect.
func (u Unsecurable) Any() bool { return u.NoUpdatePath || u.NoUniqueCredentials }

// Derive computes the un-securable flags. "Not disclosed" is not evidence
// of incapacity, so only explicit declarations count.
func (f Facts) Derive() Unsecurable {
	return Unsecurable{
		NoUpdatePath:        f.UpdateMode == "none",
		NoUniqueCredentials: f.PasswordType == "shared-default" || (f.UniqueCredentialsCap != nil && !*f.UniqueCredentialsCap),
	}
}

// FieldError is one invalid field, named as the form or JSON names it.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
	cause error  // what the refusal came from, when it was a rule of its own (input.ErrText)
}

// Errors collects invalid fields.
type Errors []FieldError

func (es Errors) Error() string {
	var parts []string
	for _, e := range es {
		parts = append(parts, e.Field+": "+e.Msg)
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets errors.Is find the rules behind the fields (input.ErrText
// for text Hallmark does not accept, which is a 400 like everywhere else).
func (es Errors) Unwrap() []error {
	var out []error
	for _, e := range es {
		if e.cause != nil {
			out = append(out, e.cause)
		}
	}
	return out
}

func (es *Errors) add(field, format string, args ...any) {
	*es = append(*es, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

var (
	gtinRE    = regexp.MustCompile(`^\d{8}$|^\d{12,14}$`)
	cpeRE     = regexp.MustCompile(`^cpe:2\.3:[aho\*\-](:[^:]+){10}$|^cpe:/[aho]:`)
	dateRE    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// text checks one field against input's rules (the same on both
// databases) and its length.
func text(es *Errors, field, v string, required bool, max int, kind input.Kind) {
	var ie *input.Error
	switch err := input.Check(field, v, kind); {
	case errors.As(err, &ie):
		*es = append(*es, FieldError{Field: field, Msg: fmt.Sprintf("%s (at byte %d)", ie.Reason, ie.Offset), cause: err})
	case required && strings.TrimSpace(v) == "":
		es.add(field, "is required")
	case len(v) > max:
		es.add(field, "is longer than %d characters", max)
	}
}

// ValidateOrganisation checks a new organisation.
func ValidateOrganisation(o Organisation) error {
	var es Errors
	text(&es, "name", o.Name, true, 200, input.Name)
	switch o.Kind {
	case Authority, AssessorLab, Manufacturer:
	default:
		es.add("kind", "must be authority, assessor-lab or manufacturer")
	}
	if o.Country != "" && !countryRE.MatchString(o.Country) {
		es.add("country", "use a two-letter ISO 3166 code such as DE")
	}
	text(&es, "website", o.Website, false, 500, input.Line)
	if o.Website != "" {
		if err := httpURL(o.Website); err != nil {
			es.add("website", "%v", err)
		}
	}
	return es.err()
}

// ValidateEmail checks an e-mail address and returns it normalised.
func ValidateEmail(s string) (string, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if input.Check("email", s, input.Line) != nil {
		return "", fmt.Errorf("%q is not an e-mail address", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return "", fmt.Errorf("%q is not an e-mail address", s)
	}
	return s, nil
}

// ValidateProduct checks a product and normalises its identifiers.
func ValidateProduct(p *Product) error {
	var es Errors
	text(&es, "name", p.Name, true, 200, input.Name)
	text(&es, "brand", p.Brand, false, 100, input.Name)
	text(&es, "model_number", p.ModelNumber, true, 100, input.Name)
	for name, v := range map[string]string{"gtin": p.GTIN, "purl": p.PURL, "cpe": p.CPE} {
		text(&es, name, v, false, 500, input.Line)
	}
	if !slices.Contains(Categories, p.Category) {
		es.add("category", "must be one of %s", strings.Join(Categories, ", "))
	}
	if p.GTIN != "" && !gtinRE.MatchString(p.GTIN) {
		es.add("gtin", "a GTIN has 8, 12, 13 or 14 digits")
	} else if p.GTIN != "" && !gtinCheck(p.GTIN) {
		es.add("gtin", "the check digit is wrong")
	}
	if p.PURL != "" {
		if _, err := packageurl.FromString(p.PURL); err != nil {
			es.add("purl", "not a package URL (pkg:type/namespace/name@version): %v", err)
		}
	}
	if p.CPE != "" && !cpeRE.MatchString(p.CPE) {
		es.add("cpe", "not a CPE 2.3 name (cpe:2.3:h:vendor:product:version:...) or a CPE 2.2 URI")
	}
	return es.err()
}

// gtinCheck verifies a GTIN's GS1 check digit.
func gtinCheck(s string) bool {
	sum := 0
	for i := len(s) - 2; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-2-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

// GTINCheckDigit returns the digit that completes a GTIN body.
func GTINCheckDigit(body string) byte {
	for d := byte('0'); d <= '9'; d++ {
		if gtinCheck(body + string(d)) {
			return d
		}
	}
	return '0'
}

// ValidateVersion checks a product version and its declared facts.
func ValidateVersion(v *Version, now time.Time) error {
	var es Errors
	text(&es, "software_version", v.SoftwareVersion, true, 64, input.Name)
	text(&es, "hardware_version", v.HardwareVersion, false, 64, input.Name)
	if v.ReleaseDate != "" {
		if _, err := time.Parse(time.DateOnly, v.ReleaseDate); err != nil || !dateRE.MatchString(v.ReleaseDate) {
			es.add("release_date", "use YYYY-MM-DD")
		}
	}
	f := &v.Facts
	if f.SupportEnd != "" {
		end, err := time.Parse(time.DateOnly, f.SupportEnd)
		switch {
		case err != nil || !dateRE.MatchString(f.SupportEnd):
			es.add("support_end_date", "use YYYY-MM-DD")
		case end.After(now.AddDate(30, 0, 0)):
			es.add("support_end_date", "is more than 30 years away")
		}
	}
	if f.UpdateMode != "" && !slices.Contains(UpdateModes, f.UpdateMode) {
		es.add("update_mode", "must be one of %s", strings.Join(UpdateModes, ", "))
	}
	if f.PasswordType != "" && !slices.Contains(PasswordTypes, f.PasswordType) {
		es.add("password_type", "must be one of %s", strings.Join(PasswordTypes, ", "))
	}
	for _, s := range f.Sensors {
		if !slices.Contains(Sensors, s) {
			es.add("sensors", "%q is not one of %s", s, strings.Join(Sensors, ", "))
		}
	}
	text(&es, "security_contact", f.SecurityContact, false, 500, input.Line)
	text(&es, "disclosure_policy_url", f.DisclosurePolicyURL, false, 500, input.Line)
	if f.SecurityContact != "" {
		if _, err := ValidateEmail(f.SecurityContact); err != nil {
			if err2 := httpURL(f.SecurityContact); err2 != nil {
				es.add("security_contact", "give an e-mail address or an https URL")
			}
		}
	}
	if len(f.FirmwareHashes) > MaxFirmwareHashes {
		es.add("firmware_hashes", "give at most %d image digests", MaxFirmwareHashes)
	} else {
		for i, h := range f.FirmwareHashes {
			n, ok := normalizeFirmwareHash(h)
			if !ok {
				es.add("firmware_hashes", "%q: write each digest as sha256:<64 hex digits> or sha512:<128 hex digits>", truncate(h, 40))
				continue
			}
			f.FirmwareHashes[i] = n
		}
	}
	if f.DisclosurePolicyURL != "" {
		if err := httpURL(f.DisclosurePolicyURL); err != nil {
			es.add("disclosure_policy_url", "%v", err)
		}
	}
	for name, v := range map[string]string{"password_change_method": f.PasswordChange, "how_to_secure": f.HowToSecure,
		"data_deletion": f.DataDeletion, "account_deactivation": f.AccountDeactivation, "encryption": f.Encryption} {
		text(&es, name, v, false, 1000, input.Text)
	}
	return es.err()
}

func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > 500 {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
