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
