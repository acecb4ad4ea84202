package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"

	"github.com/hallmark-iot/hallmark/data"
	"github.com/hallmark-iot/hallmark/internal/catalog"
	"github.com/hallmark-iot/hallmark/internal/store"
)

// LoadDemo adds the demo dataset on first start and leaves it alone after:
// for now, an example authority's own requirements imported from OSCAL
// (data/demo/*.oscal.json, the file name giving the framework id), so the
// import path and imported frameworks can be seen at once.
func (s *Server) LoadDemo(ctx context.Context) error {
	names, err := fs.Glob(data.FS, "demo/*.oscal.json")
	if err != nil {
		return err
	}
	for _, name := range names {
		id := strings.TrimSuffix(path.Base(name), ".oscal.json")
		if _, ok := s.Catalog().Framework(id); ok {
			continue
		}
		b, err := fs.ReadFile(data.FS, name)
		if err != nil {
			return err
		}
		f, err := catalog.ImportOSCAL(id, bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := s.ImportFramework(ctx, f, false); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		slog.Info("demo framework imported", "id", id, "items", len(f.Items))
	}
	return nil
}
