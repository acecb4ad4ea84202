package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds one catalogue data file. The real files are tens of
// kilobytes; anything near this is a mistake or an attack.
const MaxFileSize = 4 << 20

// Load reads a catalogue directory: topics.yaml, requirements/*.yaml,
// frameworks/*.yaml, gaps.yaml and glossary.yaml. Decoding is strict (an
// unknown key is an error) and every error names its file and line.
func Load(fsys fs.FS, dir string) (*Catalog, error) {
	var errs Errors
	add := func(err error) {
		var e Error
		var es Errors
		switch {
		case errors.As(err, &es):
			errs = append(errs, es...)
		case errors.As(err, &e):
			errs = append(errs, e)
		default:
			errs = append(errs, Error{Msg: err.Error()})
		}
	}

	var topics topicsFile
	if err := decodeFile(fsys, path.Join(dir, "topics.yaml"), &topics); err != nil {
		add(err)
	}
	for i := range topics.Topics {
		topics.Topics[i].pos = pos{file: path.Join(dir, "topics.yaml"), line: lineAt(topics.lines, i)}
	}

	var reqs []Requirement
	reqFiles, err := fs.Glob(fsys, path.Join(dir, "requirements", "*.yaml"))
	if err != nil {
		add(err)
	}
	for _, name := range reqFiles {
		rs, err := decodeRequirements(fsys, name)
		if err != nil {
			add(err)
			continue
		}
		reqs = append(reqs, rs...)
	}

	var fws []Framework
	fwFiles, err := fs.Glob(fsys, path.Join(dir, "frameworks", "*.yaml"))
	if err != nil {
		add(err)
	}
	for _, name := range fwFiles {
		f, err := DecodeFramework(fsys, name)
		if err != nil {
			add(err)
			continue
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); f.ID != want {
			add(f.pos.errorf("framework id %q must match the file name %q", f.ID, want))
			continue
		}
		f.Source = SourceBuiltin
		fws = append(fws, f)
	}

	var gaps gapsFile
	gapsName := path.Join(dir, "gaps.yaml")
	if err := decodeFile(fsys, gapsName, &gaps); err != nil && !errors.Is(err, fs.ErrNotExist) {
		add(err)
	}
	for i, g := range gaps.Gaps {
		p := pos{file: gapsName, line: lineAt(gaps.lines, i)}
		fwID, itemID, ok := strings.Cut(g.Item, "#")
		found := false
		for fi := range fws {
			if !ok || fws[fi].ID != fwID {
				continue
			}
			for ii := range fws[fi].Items {
				if fws[fi].Items[ii].ID == itemID {
					if strings.TrimSpace(g.Reason) == "" {
						add(p.errorf("gap %s needs a reason", g.Item))
					}
					fws[fi].Items[ii].Gap = strings.TrimSpace(g.Reason)
					fws[fi].Items[ii].gapPos = p
					found = true
				}
			}
		}
		if !found {
			add(p.errorf("gap %q is not framework#item of a known framework", g.Item))
		}
	}

	var glossary glossaryFile
	if err := decodeFile(fsys, path.Join(dir, "glossary.yaml"), &glossary); err != nil {
		add(err)
	}
	for i := range glossary.Terms {
		glossary.Terms[i].pos = pos{file: path.Join(dir, "glossary.yaml"), line: lineAt(glossary.lines, i)}
	}

	// Frameworks in a stable, meaningful order: the file order is alphabetical.
	sort.SliceStable(fws, func(i, j int) bool { return fws[i].ID < fws[j].ID })
	c, err := New(topics.Topics, reqs, fws, glossary.Terms)
	if err != nil {
		add(err)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

type topicsFile struct {
	Topics []Topic `yaml:"topics"`
	lines  []int
}

func (f *topicsFile) setLines(root *yaml.Node) { f.lines = seqLines(root, "topics") }

type gapsFile struct {
	Gaps []struct {
		Item   string `yaml:"item"`
		Reason string `yaml:"reason"`
	} `yaml:"gaps"`
	lines []int
}

func (f *gapsFile) setLines(root *yaml.Node) { f.lines = seqLines(root, "gaps") }

type glossaryFile struct {
	Terms []Term `yaml:"terms"`
	lines []int
}

func (f *glossaryFile) setLines(root *yaml.Node) { f.lines = seqLines(root, "terms") }

type requirementsFile struct {
	Topic        string    `yaml:"topic"`
	Requirements []reqYAML `yaml:"requirements"`
}

type reqYAML struct {
	Requirement `yaml:",inline"`
	Mappings    []struct {
		To   string       `yaml:"to"`
		Rel  Relationship `yaml:"rel"`
		Note string       `yaml:"note"`
	} `yaml:"mappings"`
}

type frameworkFile struct {
	Framework `yaml:",inline"`
}

func decodeRequirements(fsys fs.FS, name string) ([]Requirement, error) {
	var f requirementsFile
	root, err := decodeNode(fsys, name, &f)
	if err != nil {
		return nil, err
	}
	reqNodes := seqNodes(root, "requirements")
	var out []Requirement
	var errs Errors
	for i, ry := range f.Requirements {
		r := ry.Requirement
		r.Topic = f.Topic
		var node *yaml.Node
		if i < len(reqNodes) {
			node = reqNodes[i]
			r.pos = pos{file: name, line: node.Line}
		}
		mapLines := seqLines(node, "mappings")
		for j, m := range ry.Mappings {
			p := pos{file: name, line: lineAt(mapLines, j)}
			fw, item, ok := strings.Cut(m.To, "#")
			if !ok || fw == "" || item == "" {
				errs = append(errs, p.errorf("requirement %s: mapping target %q must be framework#item", r.ID, m.To))
				continue
			}
			r.Mappings = append(r.Mappings, Mapping{Framework: fw, Item: item, Rel: m.Rel, Note: strings.TrimSpace(m.Note), pos: p})
		}
		r.Summary = strings.TrimSpace(r.Summary)
		r.Technical = strings.TrimSpace(r.Technical)
		r.Why = strings.TrimSpace(r.Why)
		r.UnsecurableNote = strings.TrimSpace(r.UnsecurableNote)
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// DecodeFramework reads one framework file.
func DecodeFramework(fsys fs.FS, name string) (Framework, error) {
	var f frameworkFile
	root, err := decodeNode(fsys, name, &f)
	if err != nil {
		return Framework{}, err
	}
	fw := f.Framework
	fw.pos = pos{file: name, line: 1}
	fw.Description = strings.TrimSpace(fw.Description)
	for i := range fw.Unverified {
		fw.Unverified[i].Note = strings.TrimSpace(fw.Unverified[i].Note)
	}
	for i := range fw.Items {
		fw.Items[i].Unverified = strings.TrimSpace(fw.Items[i].Unverified)
	}
	for i, n := range seqNodes(root, "items") {
		if i < len(fw.Items) {
			fw.Items[i].pos = pos{file: name, line: n.Line}
		}
	}
	return fw, nil
}

type lineSetter interface{ setLines(*yaml.Node) }

func decodeFile(fsys fs.FS, name string, v lineSetter) error {
	root, err := decodeNode(fsys, name, v)
	if err != nil {
		return err
	}
	v.setLines(root)
	return nil
}

// decodeNode strictly decodes one YAML document into v and returns its root
// mapping node, so callers can place later errors on a line.
func decodeNode(fsys fs.FS, name string, v any) (*yaml.Node, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, Error{File: name, Msg: err.Error()}
	}
	return DecodeYAML(name, b, v)
}

// DecodeYAML strictly decodes one YAML document from b into v; name is used
// only in error messages. It returns the root mapping node.
func DecodeYAML(name string, b []byte, v any) (root *yaml.Node, err error) {
	if len(b) > MaxFileSize {
		return nil, Error{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	// The YAML decoder has been known to panic on hostile input; a data
	// error must never take the process down.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, Error{File: name, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, Error{File: name, Msg: yamlMsg(err)}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, Error{File: name, Line: 1, Msg: "expected a YAML mapping at the top level"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return nil, Error{File: name, Msg: yamlMsg(err)}
	}
	return doc.Content[0], nil
}

// yamlMsg turns "yaml: line 3: field x not found in type catalog.reqYAML"
// into words an author can act on, keeping the line.
func yamlMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	for _, t := range []string{"catalog.reqYAML", "catalog.frameworkFile", "catalog.Item", "catalog.Source", "catalog.Unverified", "catalog.Topic", "catalog.Term", "catalog.requirementsFile", "catalog.topicsFile", "catalog.gapsFile", "catalog.glossaryFile"} {
		msg = strings.ReplaceAll(msg, " in type "+t, "")
	}
	msg = strings.ReplaceAll(msg, "not found", "is not a known key")
	return msg
}

// seqNodes returns the elements of the sequence under key in a mapping node.
func seqNodes(m *yaml.Node, key string) []*yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1].Content
		}
	}
	return nil
}

func seqLines(m *yaml.Node, key string) []int {
	nodes := seqNodes(m, key)
	lines := make([]int, len(nodes))
	for i, n := range nodes {
		lines[i] = n.Line
	}
	return lines
}

// lineAt tolerates a node list shorter than the decoded slice (YAML aliases
// can make them differ): the error then names the file without a line.
func lineAt(lines []int, i int) int {
	if i < len(lines) {
		return lines[i]
	}
	return 0
}
