package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// checkEvidence refuses an approval when the level asks for evidence and
// none is attached to the application: a label must not be issued on the
// word of an assessment that had nothing to look at.
func (s *Server) checkEvidence(ctx context.Context, a registry.Application) error {
	res, err := s.Needs(ctx, a)
	if err != nil {
		return err
	}
	kinds := res.Level.Evidence
	if len(kinds) == 0 {
		return nil
	}
	ev, err := s.store.EvidenceList(ctx, a.ID)
	if err != nil {
		return err
	}
	if len(ev) == 0 {
		return fmt.Errorf("%w: %s asks for evidence (%s) and none is attached to this application; return it to the assessor or ask the manufacturer to attach it",
			ErrInvalid, res.Name(), strings.Join(kinds, "; "))
	}
	return nil
}
