package scheme

import (
	"strings"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// OSCALProfileDoc is an OSCAL profile: a level as a selection of controls
// from the Hallmark catalogue, each tagged with its assessment method.
type OSCALProfileDoc struct {
	Profile OSCALProfile `json:"profile"`
}

type OSCALProfile struct {
	UUID       string                   `json:"uuid"`
	Metadata   catalog.OSCALMetadata    `json:"metadata"`
	Imports    []OSCALImport            `json:"imports"`
	Merge      *OSCALMerge              `json:"merge,omitempty"`
	Modify     *OSCALModify             `json:"modify,omitempty"`
	BackMatter *catalog.OSCALBackMatter `json:"back-matter,omitempty"`
}

type OSCALImport struct {
	Href            string            `json:"href"`
	IncludeControls []OSCALSelectByID `json:"include-controls"`
}

type OSCALSelectByID struct {
	WithIDs []string `json:"with-ids"`
}

type OSCALMerge struct {
	AsIs bool `json:"as-is"`
}

type OSCALModify struct {
	Alters []OSCALAlter `json:"alters,omitempty"`
}

type OSCALAlter struct {
	ControlID string     `json:"control-id"`
	Adds      []OSCALAdd `json:"adds"`
}

type OSCALAdd struct {
	Position string              `json:"position"`
	Props    []catalog.OSCALProp `json:"props"`
}

// OSCALProfile renders a resolved level as an OSCAL profile over the
// Hallmark catalogue (href points at its OSCAL export).
func (r Resolved) OSCALProfile(catalogHref string) OSCALProfileDoc {
	md := catalog.OSCALMetadata{
		Title:        r.Name(),
		LastModified: catalog.Modified.Format("2006-01-02T15:04:05Z07:00"),
		Version:      r.Scheme.Version,
		OSCALVersion: catalog.OSCALVersion,
		Props: []catalog.OSCALProp{
			{Name: "scheme", NS: catalog.OSCALNamespace, Value: r.Scheme.ID},
			{Name: "level", NS: catalog.OSCALNamespace, Value: r.Level.ID},
			{Name: "assessment-method", NS: catalog.OSCALNamespace, Value: string(r.Level.Method)},
		},
		Remarks: strings.TrimSpace(r.Level.Summary),
	}
	p := OSCALProfile{
		UUID:     catalog.NameUUID("profile:" + r.Label() + ":" + r.Scheme.Version),
		Metadata: md,
		Merge:    &OSCALMerge{AsIs: true},
	}
	var ids []string
	var alters []OSCALAlter
	for _, n := range r.Needs {
		id := strings.ToLower(n.Requirement.ID)
		ids = append(ids, id)
		alters = append(alters, OSCALAlter{ControlID: id, Adds: []OSCALAdd{{Position: "ending",
			Props: []catalog.OSCALProp{{Name: "assessment-method", NS: catalog.OSCALNamespace, Value: string(n.Method)}}}}})
	}
	p.Imports = []OSCALImport{{Href: catalogHref, IncludeControls: []OSCALSelectByID{{WithIDs: ids}}}}
	p.Modify = &OSCALModify{Alters: alters}
	return OSCALProfileDoc{Profile: p}
}
