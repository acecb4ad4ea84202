package server

import (
	"log/slog"
	"sync"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// builtinTexts are the requirements' titles and summaries in other
// languages, shipped with the built-in catalogue (data/catalog/translations).
var builtinTexts = sync.OnceValue(func() catalog.Translations {
	c, err := LoadBuiltin()
	if err != nil {
		return nil
	}
	tr, err := catalog.LoadTranslations(data.FS, "catalog", c)
	if err != nil {
		// A test insists they load; a broken file must not stop the pages.
		slog.Error("requirement translations", "err", err)
		return nil
	}
	return tr
})

// RequirementText is a requirement's title and plain summary in lang, or
// in English when there is none; in says which.
func (s *Server) RequirementText(r catalog.Requirement, lang string) (t catalog.Text, in string) {
	return builtinTexts().Text(r, lang)
}
