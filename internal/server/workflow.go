package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/registry"
	"github.com/hallmark-iot/hallmark/internal/sbom"
	"github.com/hallmark-iot/hallmark/internal/scheme"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// MaxEvidenceSize bounds one evidence file.
const MaxEvidenceSize = 20 << 20

// EvidenceTypes are the content types accepted as evidence.
var EvidenceTypes = []string{"application/pdf", "image/png", "image/jpeg", "text/plain", "application/json", "text/csv"}

// CreateProduct registers a product for the principal's organisation.
func (s *Server) CreateProduct(ctx context.Context, p Principal, prod registry.Product) (int64, error) {
	if err := allow(p, auth.ActionProductCreate, auth.Object{}); err != nil {
		return 0, err
	}
	if err := registry.ValidateProduct(&prod); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	prod.ManufacturerID = p.OrgID
	return s.store.CreateProduct(ctx, prod, p.UserID, s.now())
}

// Product returns a product the principal may see.
func (s *Server) Product(ctx context.Context, p Principal, id int64) (registry.Product, error) {
	prod, err := s.store.Product(ctx, id)
	if err != nil {
		return prod, err
	}
	o := auth.Object{Manufacturer: prod.ManufacturerID, Published: prod.Published}
	if !prod.Published && !p.IsAnonymous() && !auth.SameOrg(p, prod.ManufacturerID) {
		// Who else may see it depends on its applications: the labs
		// assigned to them and the schemes they are for.
		if o.Labs, o.Schemes, err = s.store.ProductApplications(ctx, id); err != nil {
			return registry.Product{}, err
		}
	}
	if err := allow(p, auth.ActionProductRead, o); err != nil {
		return registry.Product{}, err
	}
	return prod, nil
}

// Products lists the products the principal may see.
func (s *Server) Products(ctx context.Context, p Principal, q store.ProductQuery) ([]registry.Product, int, error) {
	if len(q.Text) > MaxSearchText {
		return nil, 0, fmt.Errorf("%w: the search text is longer than %d characters", ErrInvalid, MaxSearchText)
	}
	if err := checkFields(input.Field{Name: "search text", Value: q.Text, Kind: input.Line}, input.Field{Name: "category", Value: q.Category, Kind: input.Line}); err != nil {
		return nil, 0, err
	}
	if !p.IsAnonymous() {
		switch p.Role {
		case auth.RoleManufacturer:
			q.OwnerOrg = p.OrgID
		case auth.RoleAuthorityAdmin:
			q.Overseer = p.OrgID
		case auth.RoleAssessor:
			q.Lab = p.OrgID
		}
	}
	return s.store.Products(ctx, q)
}

// ParsedSBOM is an uploaded SBOM ready to store.
type ParsedSBOM struct {
	Format     string
	Digest     string
	Bytes      int64
	Components []registry.Component
	Warnings   []string
}

// ParseSBOM parses an uploaded SBOM with the default component cap; a
// malformed one is an ErrInvalid. Uploads go through ReceiveSBOM, which
// applies the server's cap and quotas.
func ParseSBOM(b []byte) (*ParsedSBOM, error) { return parseSBOM(b, sbom.Limits{}) }

func parseSBOM(b []byte, l sbom.Limits) (*ParsedSBOM, error) {
	doc, err := sbom.ParseWith(b, l)
	if err != nil {
		return nil, fmt.Errorf("%w: the SBOM could not be read: %v", ErrInvalid, err)
	}
	sum := sha256.Sum256(b)
	out := &ParsedSBOM{Format: string(doc.Format) + " " + doc.SpecVersion, Digest: hex.EncodeToString(sum[:]), Bytes: int64(len(b)), Warnings: doc.Warnings,
		Components: make([]registry.Component, len(doc.Components))}
	for i, c := range doc.Components {
		out.Components[i] = registry.Component{Name: c.Name, Version: c.Version, PURL: c.PURL, CPE: c.CPE,
			Ecosystem: c.Ecosystem, Type: c.Type, Supplier: c.Supplier}
	}
	if err := checkComponents(out.Format, out.Components); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateVersion registers a product version with its declared facts and,
// optionally, its SBOM.
func (s *Server) CreateVersion(ctx context.Context, p Principal, v registry.Version, sb *ParsedSBOM) (int64, error) {
	if err := s.CheckProductOwner(ctx, p, v.ProductID); err != nil {
		return 0, err
	}
	if err := registry.ValidateVersion(&v, s.now()); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// What the SBOM fields say comes only from an SBOM actually received.
	v.SBOMFormat, v.SBOMDigest, v.Facts.SBOMAvailable = "", "", false
	var stored *store.SBOM
	if sb != nil {
		if err := s.checkStoredQuota(ctx, p, 0, sb); err != nil {
			return 0, err
		}
		v.Facts.SBOMAvailable = true
		st := sb.store()
		stored = &st
	}
	id, err := s.store.CreateVersion(ctx, v, stored, p.UserID, p.OrgID, s.now())
	if err != nil || sb == nil {
		return id, err
	}
	return id, s.noteFixes(ctx, v.ProductID, id, sb.Components)
}

// CheckProductOwner says whether the principal's organisation makes the
// product, before anything expensive is done on its behalf.
func (s *Server) CheckProductOwner(ctx context.Context, p Principal, productID int64) error {
	if err := allow(p, auth.ActionProductCreate, auth.Object{}); err != nil {
		return err
	}
	prod, err := s.store.Product(ctx, productID)
	if err != nil {
		return err
	}
	return allow(p, auth.ActionProductCreate, auth.Object{Manufacturer: prod.ManufacturerID})
}

// CheckVersionOwner says whether the principal's organisation makes the
// version, before anything expensive (such as parsing an SBOM) is done.
func (s *Server) CheckVersionOwner(ctx context.Context, p Principal, versionID int64) error {
	if err := allow(p, auth.ActionProductCreate, auth.Object{}); err != nil {
		return err
	}
	v, err := s.store.Version(ctx, versionID)
	if err != nil {
		return err
	}
	return s.CheckProductOwner(ctx, p, v.ProductID)
}

// UploadSBOM replaces a version's SBOM.
func (s *Server) UploadSBOM(ctx context.Context, p Principal, versionID int64, sb *ParsedSBOM) error {
	if err := s.CheckVersionOwner(ctx, p, versionID); err != nil {
		return err
	}
	v, err := s.store.Version(ctx, versionID)
	if err != nil {
		return err
	}
	if err := s.checkStoredQuota(ctx, p, v.Components, sb); err != nil {
		return err
	}
	if err := s.store.ReplaceSBOM(ctx, versionID, sb.store(), p.UserID, p.OrgID, s.now()); err != nil {
		return err
	}
	return s.noteFixes(ctx, v.ProductID, versionID, sb.Components)
}

// Apply opens an application for a scheme level for a product version.
func (s *Server) Apply(ctx context.Context, p Principal, versionID int64, schemeRef string) (int64, error) {
	if err := allow(p, auth.ActionApplicationSubmit, auth.Object{}); err != nil {
		return 0, err
	}
	v, err := s.store.Version(ctx, versionID)
	if err != nil {
		return 0, err
	}
	prod, err := s.store.Product(ctx, v.ProductID)
	if err != nil {
		return 0, err
	}
	if err := allow(p, auth.ActionApplicationSubmit, auth.Object{Manufacturer: prod.ManufacturerID}); err != nil {
		return 0, err
	}
	res, err := s.Schemes().ResolveRef(s.Catalog(), schemeRef)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !res.Scheme.Status.TakesApplications() {
		return 0, fmt.Errorf("%w: %s is %s: it takes no new applications", ErrInvalid, res.Scheme.Name, res.Scheme.Status)
	}
	_, version := s.SchemeInfo(res.Scheme.ID)
	return s.store.CreateApplication(ctx, versionID, res.Scheme.ID, version, res.Level.ID, p.UserID, p.OrgID, s.now())
}

// Application returns an application the principal may see: the
// manufacturer that made it, the authority running its scheme, the lab
// assigned to it.
func (s *Server) Application(ctx context.Context, p Principal, id int64) (registry.Application, error) {
	a, err := s.store.Application(ctx, id)
	if err != nil {
		return a, err
	}
	if err := allow(p, auth.ActionApplicationRead, appObject(a)); err != nil {
		return registry.Application{}, err
	}
	return a, nil
}

// Applications lists the applications the principal works on.
func (s *Server) Applications(ctx context.Context, p Principal, q store.AppQuery) ([]registry.Application, int, error) {
	switch {
	case p.IsAnonymous():
		return nil, 0, ErrDenied
	case p.Role == auth.RoleManufacturer:
		q.ManufacturerID = p.OrgID
	case p.Role == auth.RoleAssessor:
		q.AssessorOrgID = p.OrgID
	case p.Role == auth.RoleAuthorityAdmin:
		q.Schemes = append([]string{}, p.Schemes...)
	default:
		return nil, 0, ErrDenied
	}
	return s.store.Applications(ctx, q)
}

// Needs returns the requirements an application's level needs, from the
// scheme version it was made under.
func (s *Server) Needs(ctx context.Context, a registry.Application) (scheme.Resolved, error) {
	sc, err := s.schemeVersion(ctx, a.SchemeID, a.SchemeVersion)
	if err != nil {
		return scheme.Resolved{}, err
	}
	return scheme.Resolve(s.Catalog(), sc, a.LevelID)
}

func (s *Server) schemeVersion(ctx context.Context, id string, version int) (*scheme.Scheme, error) {
	if _, cur := s.SchemeInfo(id); cur == version {
		if sc, ok := s.Schemes()[id]; ok {
			return sc, nil
		}
	}
	hist, err := s.store.SchemeHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, h := range hist {
		if h.Version == version {
			return h.Scheme, nil
		}
	}
	return nil, fmt.Errorf("scheme %s version %d is not stored", id, version)
}

// Step takes a workflow step on an application. lab names the lab for
// Assign (ignored otherwise); note is the reason for a decision or a return.
func (s *Server) Step(ctx context.Context, p Principal, id int64, step assess.Step, note string, lab int64) (Outcome, error) {
	if step != assess.Assign {
		lab = 0 // only the authority's assignment names a lab
	}
	return s.decideOne(ctx, p, Request{App: id, Step: step, Reason: note, Lab: lab})
}

func needIDs(r scheme.Resolved) []string {
	out := make([]string, len(r.Needs))
	for i, n := range r.Needs {
		out[i] = n.Requirement.ID
	}
	return out
}

// RecordFinding records an assessor's verdict on one requirement.
func (s *Server) RecordFinding(ctx context.Context, p Principal, appID int64, f assess.Finding) error {
	a, err := s.Application(ctx, p, appID)
	if err != nil {
		return err
	}
	if err := allow(p, auth.ActionFindingRecord, appObject(a)); err != nil {
		return err
	}
	needs, err := s.Needs(ctx, a)
	if err != nil {
		return err
	}
	req := map[string]bool{}
	for _, id := range needIDs(needs) {
		req[id] = true
	}
	if err := checkFields(input.Field{Name: "requirement", Value: f.Requirement, Kind: input.Line},
		input.Field{Name: "rationale", Value: f.Rationale, Kind: input.Text}); err != nil {
		return err
	}
	if err := assess.ValidateFinding(f, req); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	ev, err := s.store.EvidenceList(ctx, appID)
	if err != nil {
		return err
	}
	for _, id := range f.Evidence {
		if !slices.ContainsFunc(ev, func(e registry.Evidence) bool { return e.ID == id }) {
			return fmt.Errorf("%w: evidence %d is not attached to this application", ErrInvalid, id)
		}
	}
	return s.store.RecordFinding(ctx, appID, f, p.UserID, p.OrgID, s.now())
}

// AddEvidence stores an evidence file content-addressed in the data
// directory and attaches it to an application. Only the manufacturer that
// applies attaches evidence, before or during assessment.
func (s *Server) AddEvidence(ctx context.Context, p Principal, appID int64, name, contentType string, r io.Reader) (int64, error) {
	a, err := s.Application(ctx, p, appID)
	if err != nil {
		return 0, err
	}
	if err := allow(p, auth.ActionApplicationSubmit, appObject(a)); err != nil {
		return 0, err
	}
	if a.State != assess.Draft && a.State != assess.Submitted && a.State != assess.InAssessment {
		return 0, fmt.Errorf("%w: evidence can be added until the assessment is complete", ErrInvalid)
	}
	ct := strings.TrimSpace(strings.Split(contentType, ";")[0])
	if !slices.Contains(EvidenceTypes, ct) {
		return 0, fmt.Errorf("%w: evidence must be one of %s, not %q", ErrInvalid, strings.Join(EvidenceTypes, ", "), ct)
	}
	name = filepath.Base(strings.TrimSpace(name))
	if name == "" || name == "." || len(name) > 200 {
		return 0, fmt.Errorf("%w: give the file a name of at most 200 characters", ErrInvalid)
	}
	if err := checkText("evidence name", name, input.Name); err != nil {
		return 0, err
	}
	u, err := s.usage(ctx, p)
	if err != nil {
		return 0, err
	}
	if err := s.cfg.Uploads.Upload(u, 0, s.now()); err != nil {
		return 0, err
	}
	// Read no more than the day's quota leaves, so a refused file is
	// never written.
	left := s.cfg.Uploads.DailyBytes - u.Bytes
	sum, size, err := s.putBlob(r, min(left, MaxEvidenceSize))
	if errors.Is(err, errOverLimit) {
		if left < MaxEvidenceSize {
			return 0, s.cfg.Uploads.Upload(u, left+1, s.now())
		}
		return 0, fmt.Errorf("%w: an evidence file is at most %d MiB", ErrInvalid, MaxEvidenceSize>>20)
	}
	if err != nil {
		return 0, err
	}
	return s.store.AddEvidence(ctx, registry.Evidence{ApplicationID: appID, Name: name, ContentType: ct, Size: size, SHA256: sum, UploadedBy: p.UserID}, p.OrgID, s.now())
}

// putBlob streams r into the content-addressed store (evidence/ab/abcd…),
// refusing more than MaxEvidenceSize bytes; a refused upload leaves no file.
// The file and the directory entry naming it are fsynced before it
// returns, so the row the caller then commits never names a file a power
// loss could take away.
func (s *Server) putBlob(r io.Reader, limit int64) (string, int64, error) {
	dir := filepath.Join(s.cfg.DataDir, "evidence")
	if err := mkdirSynced(dir); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if err == nil && n <= limit {
		err = syncFile(tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	if n > limit {
		return "", 0, errOverLimit
	}
	if n == 0 {
		return "", 0, fmt.Errorf("%w: the file is empty", ErrInvalid)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	final := s.blobPath(sum)
	if err := mkdirSynced(filepath.Dir(final)); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, err
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return "", 0, err
	}
	return sum, n, nil
}

// errOverLimit is putBlob's refusal of a file over its limit.
var errOverLimit = errors.New("over the size limit")

func (s *Server) blobPath(sum string) string {
	return filepath.Join(s.cfg.DataDir, "evidence", sum[:2], sum)
}

// OpenEvidence opens an evidence file for a principal who may see the application.
func (s *Server) OpenEvidence(ctx context.Context, p Principal, appID, evidenceID int64) (registry.Evidence, io.ReadCloser, error) {
	a, err := s.Application(ctx, p, appID)
	if err != nil {
		return registry.Evidence{}, nil, err
	}
	if err := allow(p, auth.ActionEvidenceRead, appObject(a)); err != nil {
		return registry.Evidence{}, nil, err
	}
	list, err := s.store.EvidenceList(ctx, appID)
	if err != nil {
		return registry.Evidence{}, nil, err
	}
	for _, e := range list {
		if e.ID == evidenceID {
			f, err := os.Open(s.blobPath(e.SHA256))
			return e, f, err
		}
	}
	return registry.Evidence{}, nil, store.ErrNotFound
}

// now is the server's clock; tests and the demo may set it.
func (s *Server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now().UTC()
}

// IsNotFound reports whether err means "no such thing (that you may see)".
func IsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// AppView is everything the application page shows.
type AppView struct {
	App      registry.Application
	Needs    scheme.Resolved
	Findings map[string]assess.Finding
	Events   []registry.AppEvent
	Evidence []registry.Evidence
	Steps    []assess.Step // what the principal may do now
	Labs     []registry.Organisation
	Version  registry.Version
}

// ApplicationView gathers an application for the principal.
func (s *Server) ApplicationView(ctx context.Context, p Principal, id int64) (AppView, error) {
	a, err := s.Application(ctx, p, id)
	if err != nil {
		return AppView{}, err
	}
	v := AppView{App: a, Findings: map[string]assess.Finding{}}
	for _, st := range assess.Allowed(a.State, actorOf(p)) {
		if allow(p, stepActions[st], appObject(a)) == nil {
			v.Steps = append(v.Steps, st)
		}
	}
	if v.Needs, err = s.Needs(ctx, a); err != nil {
		return v, err
	}
	fs, err := s.store.Findings(ctx, id)
	if err != nil {
		return v, err
	}
	for _, f := range fs {
		v.Findings[f.Requirement] = f
	}
	if v.Events, err = s.store.AppEvents(ctx, id); err != nil {
		return v, err
	}
	if v.Evidence, err = s.store.EvidenceList(ctx, id); err != nil {
		return v, err
	}
	if v.Version, err = s.store.Version(ctx, a.VersionID); err != nil {
		return v, err
	}
	if slices.Contains(v.Steps, assess.Assign) {
		if v.Labs, err = s.store.Organisations(ctx, registry.AssessorLab); err != nil {
			return v, err
		}
	}
	return v, nil
}

// ProductView is a product with its versions, for the principal.
type ProductView struct {
	Product  registry.Product
	Versions []registry.Version
	Owner    bool
}

// ProductView gathers a product the principal may see.
func (s *Server) ProductView(ctx context.Context, p Principal, id int64) (ProductView, error) {
	prod, err := s.Product(ctx, p, id)
	if err != nil {
		return ProductView{}, err
	}
	vs, err := s.store.Versions(ctx, id)
	return ProductView{Product: prod, Versions: vs, Owner: auth.SameOrg(p, prod.ManufacturerID)}, err
}

// Components lists a version's SBOM components.
func (s *Server) Components(ctx context.Context, versionID int64, limit, offset int) ([]registry.Component, error) {
	return s.store.Components(ctx, versionID, limit, offset)
}

// Version returns one product version.
func (s *Server) Version(ctx context.Context, id int64) (registry.Version, error) {
	return s.store.Version(ctx, id)
}

// LabelsFor lists labels the principal manages: a manufacturer's own, or
// those of the schemes an authority runs.
func (s *Server) LabelsFor(ctx context.Context, p Principal, q store.LabelQuery) ([]registry.Label, int, error) {
	if len(q.Text) > MaxSearchText {
		return nil, 0, fmt.Errorf("%w: the search text is longer than %d characters", ErrInvalid, MaxSearchText)
	}
	if err := checkFields(input.Field{Name: "search text", Value: q.Text, Kind: input.Line}, input.Field{Name: "scheme", Value: q.SchemeID, Kind: input.Line},
		input.Field{Name: "status", Value: string(q.Status), Kind: input.Line}, input.Field{Name: "category", Value: q.Category, Kind: input.Line}); err != nil {
		return nil, 0, err
	}
	switch p.Role {
	case auth.RoleManufacturer:
		q.ManufacturerID = p.OrgID
	case auth.RoleAuthorityAdmin:
		if q.SchemeID == "" && len(p.Schemes) > 0 {
			q.SchemeID = p.Schemes[0]
		}
		if !slices.Contains(p.Schemes, q.SchemeID) {
			return nil, 0, fmt.Errorf("%w: your authority does not run %s", ErrDenied, q.SchemeID)
		}
	default:
		return nil, 0, ErrDenied
	}
	return s.store.Labels(ctx, q)
}

// OrganisationOf returns the principal's organisation.
func (s *Server) OrganisationOf(ctx context.Context, p Principal) (registry.Organisation, error) {
	return s.store.Organisation(ctx, p.OrgID)
}

// Labs lists the assessor labs an authority can assign.
func (s *Server) Labs(ctx context.Context) ([]registry.Organisation, error) {
	return s.store.Organisations(ctx, registry.AssessorLab)
}
