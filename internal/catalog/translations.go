package catalog

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Text is a requirement's title and plain summary in another language
// (the engineers' description is written once, in English).
type Text struct {
	Title   string `yaml:"title"`
	Summary string `yaml:"summary"`
}

// Translations holds, per language, each requirement's Text.
type Translations map[string]map[string]Text

type translationFile struct {
	Language     string          `yaml:"language"`
	Requirements map[string]Text `yaml:"requirements"`
}

// LoadTranslations reads dir/translations/<lang>.yaml. Every entry must
// name a requirement of c and give both a title and a summary.
func LoadTranslations(fsys fs.FS, dir string, c *Catalog) (Translations, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "translations", "*.yaml"))
	if err != nil {
		return nil, err
	}
	out := Translations{}
	var errs Errors
	for _, name := range names {
		var f translationFile
		if _, err := decodeNode(fsys, name, &f); err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); f.Language != want {
			errs = append(errs, Error{File: name, Msg: fmt.Sprintf("language is %q; the file name says %q", f.Language, want)})
		}
		for id, t := range f.Requirements {
			if _, ok := c.Requirement(id); !ok {
				errs = append(errs, Error{File: name, Msg: fmt.Sprintf("%s is not a requirement of the catalogue", id)})
			}
			if strings.TrimSpace(t.Title) == "" || strings.TrimSpace(t.Summary) == "" {
				errs = append(errs, Error{File: name, Msg: fmt.Sprintf("%s needs a title and a summary", id)})
			}
		}
		out[f.Language] = f.Requirements
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// Text returns the requirement's title and summary in lang, falling back
// to the catalogue's English; in says which language was found.
func (tr Translations) Text(r Requirement, lang string) (t Text, in string) {
	if x, ok := tr[lang][r.ID]; ok {
		return x, lang
	}
	return Text{Title: r.Title, Summary: r.Summary}, "en"
}
