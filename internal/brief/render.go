package brief

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"
)

//go:embed briefing.html
var pageTemplate string

//go:embed briefing.css
var style string

var page = template.Must(template.New("briefing").Funcs(template.FuncMap{
	"svg":   func(s string) template.HTML { return template.HTML(s) }, // charts escape their own text
	"css":   func() template.CSS { return template.CSS(style) },
	"date":  func(b Briefing) string { return b.Date.UTC().Format("2 January 2006 15:04 UTC") },
	"right": func(t *Table, i int) bool { return i < len(t.Numeric) && t.Numeric[i] },
}).Parse(pageTemplate))

// StyleHash is the CSP source of the briefing's inline style: a page
// serving the HTML allows exactly this style and nothing else inline.
func StyleHash() string {
	sum := sha256.Sum256([]byte(style))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// HTML is the briefing as one printable document: no script, its style
// inline, its charts inline SVG.
func (b Briefing) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Markdown is the briefing as Markdown: the same words and tables, the
// charts left to the HTML and PDF (their figures are in the tables).
func (b Briefing) Markdown() []byte {
	var w strings.Builder
	fmt.Fprintf(&w, "# %s\n\n", mdText(b.Title))
	fmt.Fprintf(&w, "*%s*\n\n", mdText(b.Question))
	fmt.Fprintf(&w, "As of %s, from %s (transparency log checkpoint %d, root `%s`).\n\n", b.Date.UTC().Format("2 January 2006 15:04 UTC"), b.Instance,
		b.Checkpoint.Size, b.Checkpoint.Root)
	w.WriteString("## In short\n\n")
	for _, s := range b.Summary {
		fmt.Fprintf(&w, "%s\n\n", mdText(s))
	}
	for _, s := range b.Sections {
		fmt.Fprintf(&w, "## %s\n\n", mdText(s.Heading))
		for _, t := range s.Text {
			fmt.Fprintf(&w, "%s\n\n", mdText(t))
		}
		if t := s.Table; t != nil && len(t.Rows) > 0 {
			if t.Caption != "" {
				fmt.Fprintf(&w, "%s:\n\n", mdText(t.Caption))
			}
			w.WriteString("|")
			for _, h := range t.Head {
				fmt.Fprintf(&w, " %s |", mdCell(h))
			}
			w.WriteString("\n|")
			for i := range t.Head {
				if i < len(t.Numeric) && t.Numeric[i] {
					w.WriteString("---:|")
				} else {
					w.WriteString("---|")
				}
			}
			w.WriteString("\n")
			for _, r := range t.Rows {
				w.WriteString("|")
				for _, c := range r {
					fmt.Fprintf(&w, " %s |", mdCell(c))
				}
				w.WriteString("\n")
			}
			w.WriteString("\n")
		}
	}
	if len(b.Caveats) > 0 {
		w.WriteString("## What the figures cannot say\n\n")
		for _, c := range b.Caveats {
			fmt.Fprintf(&w, "- %s\n", mdText(c))
		}
		w.WriteString("\n")
	}
	if len(b.Links) > 0 || len(b.Glossary) > 0 {
		w.WriteString("## Definitions, data and terms\n\n")
		for _, l := range b.Links {
			fmt.Fprintf(&w, "- [%s](%s)\n", mdText(l.Text), l.URL)
		}
		for _, l := range b.Glossary {
			fmt.Fprintf(&w, "- Glossary: [%s](%s)\n", mdText(l.Text), l.URL)
		}
		w.WriteString("\n")
	}
	fmt.Fprintf(&w, "## Cite as\n\n%s\n", mdText(b.Citation))
	return []byte(w.String())
}

// mdText keeps text from being read as Markdown markup it is not.
func mdText(s string) string {
	return strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;", "[", "\\[", "]", "\\]", "\n", " ").Replace(s)
}

func mdCell(s string) string { return strings.ReplaceAll(mdText(s), "|", "\\|") }
