package catalog_test

import (
	"testing"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// Every requirement has its plain title and summary in German.
func TestGermanSummaries(t *testing.T) {
	c, err := catalog.Load(data.FS, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := catalog.LoadTranslations(data.FS, "catalog", c)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Requirements {
		x, in := tr.Text(r, "de")
		if in != "de" || x.Summary == r.Summary {
			t.Errorf("%s has no German summary", r.ID)
		}
	}
	if x, in := tr.Text(c.Requirements[0], "fr"); in != "en" || x.Title != c.Requirements[0].Title {
		t.Errorf("a language without translations gives %q in %s, want the English", x.Title, in)
	}
}
