package registry

import (
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
)

// Component is one SBOM entry of a product version.
type Component struct {
	Name, Version, PURL, CPE, Ecosystem, Type, Supplier string
}

// Application is an application for a label, with what it concerns.
type Application struct {
	ID               int64
	VersionID        int64
	ProductID        int64
	ProductName      string
	ManufacturerID   int64
	Manufacturer     string
	SoftwareVersion  string
	SchemeID         string
	SchemeVersion    int
	LevelID          string
	State            assess.State
	AssessorOrgID    int64
	AssessorOrg      string
	CreatedBy        int64
	Created, Updated time.Time
	DecisionReason   string
	LabelID          string
}

// AppEvent is one step in an application's history.
type AppEvent struct {
	At       time.Time
	UserID   int64
	UserName string
	Step     string
	From, To assess.State
	Note     string
}

// Evidence is a file attached to an application, stored by content hash.
type Evidence struct {
	ID            int64
	ApplicationID int64
	Name          string
	ContentType   string
	Size          int64
	SHA256        string
	UploadedBy    int64
	Created       time.Time
}

// Label is an issued label.
type Label struct {
	ID             string
	ApplicationID  int64
	VersionID      int64
	SchemeID       string
	SchemeVersion  int
	LevelID        string
	Status         assess.LabelStatus
	StatusIndex    int
	Issued         time.Time
	ValidUntil     time.Time // zero: no fixed end
	Credential     string
	CredentialHash string
	KID            string
	// Joined for display and search.
	ProductID       int64
	ProductName     string
	ModelNumber     string
	Category        string
	Manufacturer    string
	ManufacturerID  int64
	SoftwareVersion string
	TestingLab      string // the lab that assessed it
	GTIN, PURL      string // the product's identifiers: what links it to its labels at other authorities
}

// LabelEvent is one lifecycle step of a label.
type LabelEvent struct {
	At       time.Time
	UserID   int64
	Action   string
	From, To assess.LabelStatus
	Reason   string
}

// Decision is a decision as recorded for the transparency log: the
// outbox row written in the same transaction as the change it records,
// appended to the log behind it and then given its receipt.
type Decision struct {
	ID          int64
	Kind        string // one of tlog's Kind* constants
	Subject     string // label id, scheme@version, agreement id, key id
	Digest      string // hex SHA-256 of what was decided on
	Status      string
	StatusIndex int // -1 when not a label
	ReasonHash  string
	At          time.Time
	Logged      bool
	LogIndex    int64
	Receipt     string
}

// APIToken is an API token as its owner sees it: never the token itself,
// which only its hash in the store could match.
type APIToken struct {
	ID       int64     `json:"id"`
	UserID   int64     `json:"user_id"`
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
}

// TokenState is what a token is worth at now: "active", "expired" or
// "revoked".
func (t APIToken) State(now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return "revoked"
	case !now.Before(t.Expires):
		return "expired"
	}
	return "active"
}

// AuditEntry is one line of the audit trail.
type AuditEntry struct {
	At         time.Time
	UserID     int64
	OrgID      int64
	Action     string
	ObjectType string
	ObjectID   string
	Detail     string
}

// StoredAdvisory is one flaw as the watch keeps it: the advisory model as
// JSON, and the document it came from.
type StoredAdvisory struct {
	ID, Format, DocID, Revision, DocSHA256 string
	// Flaw is the canonical id of the flaw (advisory.Aliases.Key): what
	// findings name, so one flaw reached through several ids acts once.
	Flaw      string
	Withdrawn bool
	Body      []byte
}

// VEXStatement is a VEX statement resolved to a registered product version.
type VEXStatement struct {
	Vulnerability string
	VersionID     int64
	Component     string // "" for the whole product version
	Status        string // not_affected, affected, fixed, under_investigation
	Justification string
	DocSHA256     string
	At            time.Time
}

// Finding states.
const (
	FindingOpen        = "open"         // affected, acted on by the scheme's rules
	FindingReview      = "review"       // a fuzzy match waiting for a person
	FindingNotAffected = "not-affected" // cleared by a VEX statement
	FindingFixed       = "fixed"        // a fixed version was registered, or VEX says fixed
	FindingRetracted   = "retracted"    // the advisory was withdrawn, or the match rejected
	FindingDisputed    = "disputed"     // the manufacturer disputes a fuzzy match
)

// Finding is one flaw found in one product version, with how it was found.
type Finding struct {
	ID         int64
	VersionID  int64
	AdvisoryID string
	Basis      string // purl-exact, cpe-exact, model-number, sku, hash, name-fuzzy
	Confidence float64
	Component  string // the component or product identifier matched
	Fixed      []string
	State      string
	Response   string               // the manufacturer's answer: none, acknowledged, fixed, disputed, not-affected
	Clocks     map[string]time.Time // remediation clocks by rule id
	DocSHA256  string               // the document that caused it
	FirstSeen  time.Time
	Updated    time.Time
}

// WatchTarget is a labelled product version the watch matches advisories
// against, with its label.
type WatchTarget struct {
	VersionID       int64
	ProductID       int64
	ManufacturerID  int64
	Manufacturer    string
	ProductName     string
	ModelNumber     string
	GTIN            string
	CPE             string
	PURL            string // the product's registered purl, without version
	SoftwareVersion string
	SupportEnd      string
	FirmwareHashes  []string // "alg:hex", from the version's facts
	Label           Label
	Components      []Component
}

// Notification is a message the watch sent an organisation.
type Notification struct {
	ID        int64
	FindingID int64
	RuleID    string
	Message   string
	At        time.Time
}
