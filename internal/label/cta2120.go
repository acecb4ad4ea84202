package label

import (
	"fmt"
	"slices"
	"time"
)

// PublicRecordSchemaVersion versions the PublicRecord JSON: bump it when a
// field changes meaning, so mirrors and aggregators can tell.
const PublicRecordSchemaVersion = "1.0"

// Facts are what is known about a labelled product: declared by the
// manufacturer (most fields) or set by the label (authorization date,
// certifying body, level, validity, status, QR URL). Empty strings, zero
// dates and nil booleans mean "not declared".
type Facts struct {
	ProductName          string
	Manufacturer         string
	Brand                string
	ModelNumber          string
	SoftwareVersion      string
	HardwareVersion      string
	ProductCategory      string
	AuthorizationDate    time.Time
	CertifyingBody       string
	TestingLab           string
	QRURL                string
	PasswordType         string // e.g. "unique per device", "user-set at setup", "none"
	PasswordChangeMethod string
	HowToSecure          string // link or short text: how the buyer secures the product
	UpdateMode           string // e.g. "automatic", "automatic with consent", "manual"
	SupportEndDate       time.Time
	Sensors              []string
	DataDeletion         string
	AccountDeactivation  string
	Encryption           string
	SecurityContact      string
	DisclosurePolicyURL  string
	SBOMAvailable        *bool // nil: not declared; false is a declared "no"
	HBOMAvailable        *bool
	LabelLevel           string
	ValidUntil           time.Time
	Status               string // the label's status: active, suspended, revoked, expired
	Created              time.Time
	Modified             time.Time
}

// PublicRecord is a label's public registry data in the field names of the
// US registry's CTA-2120 data set. A field is present when the scheme lists
// it as public and its value was declared. Dates are YYYY-MM-DD; created and
// modified are RFC 3339.
type PublicRecord struct {
	ProductName          string   `json:"product_name,omitempty"`
	Manufacturer         string   `json:"manufacturer,omitempty"`
	Brand                string   `json:"brand,omitempty"`
	ModelNumber          string   `json:"model_number,omitempty"`
	SoftwareVersion      string   `json:"software_version,omitempty"`
	HardwareVersion      string   `json:"hardware_version,omitempty"`
	ProductCategory      string   `json:"product_category,omitempty"`
	AuthorizationDate    string   `json:"authorization_date,omitempty"`
	CertifyingBody       string   `json:"certifying_body,omitempty"`
	TestingLab           string   `json:"testing_lab,omitempty"`
	QRURL                string   `json:"qr_url,omitempty"`
	PasswordType         string   `json:"password_type,omitempty"`
	PasswordChangeMethod string   `json:"password_change_method,omitempty"`
	HowToSecure          string   `json:"how_to_secure,omitempty"`
	UpdateMode           string   `json:"update_mode,omitempty"`
	SupportEndDate       string   `json:"support_end_date,omitempty"`
	Sensors              []string `json:"sensors,omitempty"`
	DataDeletion         string   `json:"data_deletion,omitempty"`
	AccountDeactivation  string   `json:"account_deactivation,omitempty"`
	Encryption           string   `json:"encryption,omitempty"`
	SecurityContact      string   `json:"security_contact,omitempty"`
	DisclosurePolicyURL  string   `json:"disclosure_policy_url,omitempty"`
	SBOMAvailable        *bool    `json:"sbom_available,omitempty"`
	HBOMAvailable        *bool    `json:"hbom_available,omitempty"`
	LabelLevel           string   `json:"label_level,omitempty"`
	ValidUntil           string   `json:"valid_until,omitempty"`
	Status               string   `json:"status,omitempty"`
	// Record metadata, always present: they describe the record, not the
	// product, and a reader needs them to parse and cache it.
	Created       string `json:"created,omitempty"`
	Modified      string `json:"modified,omitempty"`
	SchemaVersion string `json:"schema_version"`
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func boolPtr(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

type recordField struct {
	name string
	set  func(*PublicRecord, *Facts)
}

// recordFields are the public fields in output order, each with how it is
// filled from the facts.
var recordFields = []recordField{
	{"product_name", func(r *PublicRecord, f *Facts) { r.ProductName = f.ProductName }},
	{"manufacturer", func(r *PublicRecord, f *Facts) { r.Manufacturer = f.Manufacturer }},
	{"brand", func(r *PublicRecord, f *Facts) { r.Brand = f.Brand }},
	{"model_number", func(r *PublicRecord, f *Facts) { r.ModelNumber = f.ModelNumber }},
	{"software_version", func(r *PublicRecord, f *Facts) { r.SoftwareVersion = f.SoftwareVersion }},
	{"hardware_version", func(r *PublicRecord, f *Facts) { r.HardwareVersion = f.HardwareVersion }},
	{"product_category", func(r *PublicRecord, f *Facts) { r.ProductCategory = f.ProductCategory }},
	{"authorization_date", func(r *PublicRecord, f *Facts) { r.AuthorizationDate = date(f.AuthorizationDate) }},
	{"certifying_body", func(r *PublicRecord, f *Facts) { r.CertifyingBody = f.CertifyingBody }},
	{"testing_lab", func(r *PublicRecord, f *Facts) { r.TestingLab = f.TestingLab }},
	{"qr_url", func(r *PublicRecord, f *Facts) { r.QRURL = f.QRURL }},
	{"password_type", func(r *PublicRecord, f *Facts) { r.PasswordType = f.PasswordType }},
	{"password_change_method", func(r *PublicRecord, f *Facts) { r.PasswordChangeMethod = f.PasswordChangeMethod }},
	{"how_to_secure", func(r *PublicRecord, f *Facts) { r.HowToSecure = f.HowToSecure }},
	{"update_mode", func(r *PublicRecord, f *Facts) { r.UpdateMode = f.UpdateMode }},
	{"support_end_date", func(r *PublicRecord, f *Facts) { r.SupportEndDate = date(f.SupportEndDate) }},
	{"sensors", func(r *PublicRecord, f *Facts) { r.Sensors = slices.Clone(f.Sensors) }},
	{"data_deletion", func(r *PublicRecord, f *Facts) { r.DataDeletion = f.DataDeletion }},
	{"account_deactivation", func(r *PublicRecord, f *Facts) { r.AccountDeactivation = f.AccountDeactivation }},
	{"encryption", func(r *PublicRecord, f *Facts) { r.Encryption = f.Encryption }},
	{"security_contact", func(r *PublicRecord, f *Facts) { r.SecurityContact = f.SecurityContact }},
	{"disclosure_policy_url", func(r *PublicRecord, f *Facts) { r.DisclosurePolicyURL = f.DisclosurePolicyURL }},
	{"sbom_available", func(r *PublicRecord, f *Facts) { r.SBOMAvailable = boolPtr(f.SBOMAvailable) }},
	{"hbom_available", func(r *PublicRecord, f *Facts) { r.HBOMAvailable = boolPtr(f.HBOMAvailable) }},
	{"label_level", func(r *PublicRecord, f *Facts) { r.LabelLevel = f.LabelLevel }},
	{"valid_until", func(r *PublicRecord, f *Facts) { r.ValidUntil = date(f.ValidUntil) }},
	{"status", func(r *PublicRecord, f *Facts) { r.Status = f.Status }},
	// Listing the metadata is allowed (it is always there anyway).
	{"created", func(*PublicRecord, *Facts) {}},
	{"modified", func(*PublicRecord, *Facts) {}},
	{"schema_version", func(*PublicRecord, *Facts) {}},
}

// fieldAliases accepts the British spelling the scheme files use.
var fieldAliases = map[string]string{"authorisation_date": "authorization_date"}

// PublicRecordFields are the field names NewPublicRecord knows, in order.
func PublicRecordFields() []string {
	names := make([]string, len(recordFields))
	for i, f := range recordFields {
		names[i] = f.name
	}
	return names
}

// NewPublicRecord builds the public record from the facts, keeping only the
// fields the scheme lists as public. An unknown field name is an error, so a
// typo in a scheme cannot silently hide a field.
func NewPublicRecord(f Facts, public []string) (PublicRecord, error) {
	want := map[string]bool{}
	for _, name := range public {
		if a, ok := fieldAliases[name]; ok {
			name = a
		}
		if !slices.ContainsFunc(recordFields, func(rf recordField) bool { return rf.name == name }) {
			return PublicRecord{}, fmt.Errorf("public record: unknown field %q", name)
		}
		want[name] = true
	}
	r := PublicRecord{SchemaVersion: PublicRecordSchemaVersion}
	for _, rf := range recordFields {
		if want[rf.name] {
			rf.set(&r, &f)
		}
	}
	if !f.Created.IsZero() {
		r.Created = rfc3339(f.Created)
	}
	if !f.Modified.IsZero() {
		r.Modified = rfc3339(f.Modified)
	}
	return r, nil
}
