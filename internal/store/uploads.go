package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// componentChunk is how many components one transaction writes or
// deletes. It bounds how long storing an SBOM holds the database: a
// decision or a login waits at most one chunk (tens of milliseconds, a
// few hundred on a loaded machine), whatever the SBOM's size.
const componentChunk = 500

// rowsPerInsert is how many rows one INSERT statement carries (9
// parameters each, far below both engines' limits): one round trip per
// hundred rows instead of per row.
const rowsPerInsert = 100

// staleStaging is how old an upload still staging must be before a sweep
// takes it for abandoned (a crash mid-upload): far longer than any upload
// takes, which the HTTP server's timeouts bound.
const staleStaging = time.Hour

// SBOM is an uploaded SBOM to store with a version.
type SBOM struct {
	Format, Digest string
	Bytes          int64 // the file's size, counted in the upload quotas
	Components     []registry.Component
}

// UploadUsage is what an organisation uploaded in a window, and how many
// SBOM components it keeps stored.
type UploadUsage struct {
	Uploads          int
	Bytes            int64
	Oldest           time.Time // the oldest upload in the window (zero if none)
	StoredComponents int
}

// UploadUsage counts an organisation's uploads (SBOMs and evidence, since
// since) and the components of its SBOMs stored or being stored.
func (s *Store) UploadUsage(ctx context.Context, org int64, since time.Time) (UploadUsage, error) {
	var u UploadUsage
	var oldest sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(bytes), 0), MIN(created_at) FROM uploads WHERE org_id = $1 AND created_at >= $2`,
		org, ts(since)).Scan(&u.Uploads, &u.Bytes, &oldest)
	if err != nil {
		return u, err
	}
	if oldest.Valid {
		u.Oldest = parseTS(oldest.String)
	}
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(items), 0) FROM uploads WHERE org_id = $1 AND kind = 'sbom' AND state <> 'purged'`,
		org).Scan(&u.StoredComponents)
	return u, err
}

// SetChunkHook installs fn, called after each chunk of a staged SBOM is
// committed (outside any transaction) with how many components are
// written of how many. For tests that show what happens meanwhile.
func (s *Store) SetChunkHook(fn func(done, total int)) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.chunkHook = fn
}

func (s *Store) afterChunk(done, total int) {
	s.hookMu.Lock()
	fn := s.chunkHook
	s.hookMu.Unlock()
	if fn != nil {
		fn(done, total)
	}
}

// hooks is the Store's test hook and its staging turn, kept apart from
// its database fields.
type hooks struct {
	hookMu    sync.Mutex
	chunkHook func(done, total int)
	staging   chan struct{} // one large SBOM staged at a time
}

func newHooks() hooks { return hooks{staging: make(chan struct{}, 1)} }

// putSBOM writes an SBOM's components under a new upload and returns its
// id. A small SBOM is written by fn's transaction together with the
// change naming it (one transaction in all); a large one is staged first,
// chunk by chunk, and fn then runs in a transaction of its own, which
// only points at the staged upload.
func (s *Store) putSBOM(ctx context.Context, org int64, sb SBOM, now time.Time, fn func(tx *sql.Tx, upload int64) error) error {
	if len(sb.Components) <= componentChunk {
		return s.tx(ctx, func(tx *sql.Tx) error {
			id, err := insertUpload(ctx, tx, org, "sbom", sb.Bytes, len(sb.Components), "stored", now)
			if err != nil {
				return err
			}
			if err := insertComponents(ctx, tx, id, 0, sb.Components); err != nil {
				return err
			}
			return fn(tx, id)
		})
	}
	// One large SBOM is staged at a time: the database has one writer
	// anyway, and this way another write waits for at most one chunk, not
	// one chunk of every upload in progress.
	select {
	case s.staging <- struct{}{}:
		defer func() { <-s.staging }()
	case <-ctx.Done():
		return ctx.Err()
	}
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		id, err = insertUpload(ctx, tx, org, "sbom", sb.Bytes, len(sb.Components), "staging", now)
		return err
	})
	if err != nil {
		return err
	}
	for from := 0; from < len(sb.Components); from += componentChunk {
		chunk := sb.Components[from:min(from+componentChunk, len(sb.Components))]
		err := s.tx(ctx, func(tx *sql.Tx) error { return insertComponents(ctx, tx, id, from, chunk) })
		if err != nil {
			s.purgeUpload(context.WithoutCancel(ctx), id, len(sb.Components))
			return err
		}
		s.afterChunk(from+len(chunk), len(sb.Components))
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE uploads SET state = 'stored' WHERE id = $1 AND state = 'staging'`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: the upload took so long that it was taken for abandoned; send it again", ErrConflict)
		}
		return fn(tx, id)
	})
	if err != nil {
		// Nothing names the staged components: take them away now rather
		// than at the next sweep.
		s.purgeUpload(context.WithoutCancel(ctx), id, len(sb.Components))
	}
	return err
}

func insertUpload(ctx context.Context, tx *sql.Tx, org int64, kind string, bytes int64, items int, state string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO uploads (org_id, kind, bytes, items, state, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		org, kind, bytes, items, state, ts(now)).Scan(&id)
	return id, err
}

// insertComponents writes comps at positions from, from+1, ... of an upload.
func insertComponents(ctx context.Context, tx *sql.Tx, upload int64, from int, comps []registry.Component) error {
	for len(comps) > 0 {
		n := min(len(comps), rowsPerInsert)
		var q strings.Builder
		q.WriteString(`INSERT INTO components (upload_id, position, name, version, purl, cpe, ecosystem, type, supplier) VALUES `)
		args := make([]any, 0, 9*n)
		for i, c := range comps[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			k := len(args)
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8, k+9)
			args = append(args, upload, from+i, c.Name, c.Version, c.PURL, c.CPE, c.Ecosystem, c.Type, c.Supplier)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		comps, from = comps[n:], from+n
	}
	return nil
}

// purgeUpload deletes an upload's components, chunk by chunk, and marks
// it purged. Only uploads no version names may be purged.
func (s *Store) purgeUpload(ctx context.Context, id int64, items int) error {
	for from := 0; from < items; from += componentChunk {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM components WHERE upload_id = $1 AND position >= $2 AND position < $3`, id, from, from+componentChunk)
			return err
		})
		if err != nil {
			return err
		}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM components WHERE upload_id = $1`, id) // whatever lay past items
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE uploads SET state = 'purged' WHERE id = $1`, id)
		}
		return err
	})
}

// PurgeUploads deletes the components no version names: those of SBOMs
// replaced, and those a crash left staging for longer than an hour. The
// server runs it at start-up; replacing an SBOM purges the old one at once.
func (s *Store) PurgeUploads(ctx context.Context, now time.Time) (int, error) {
	type garbage struct {
		id    int64
		items int
	}
	var list []garbage
	err := s.each(ctx, `SELECT u.id, u.items FROM uploads u WHERE u.kind = 'sbom' AND (
			(u.state = 'stored' AND NOT EXISTS (SELECT 1 FROM product_versions v WHERE v.sbom_upload_id = u.id))
			OR (u.state = 'staging' AND u.created_at < $1)) ORDER BY u.id`, func(r *sql.Rows) error {
		var g garbage
		err := r.Scan(&g.id, &g.items)
		list = append(list, g)
		return err
	}, ts(now.Add(-staleStaging)))
	if err != nil {
		return 0, err
	}
	for _, g := range list {
		if err := s.purgeUpload(ctx, g.id, g.items); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

// ReplaceSBOM replaces a version's SBOM. The new components are written
// (in chunks when many) before the one short transaction that points the
// version at them; the old ones are deleted afterwards, in chunks.
func (s *Store) ReplaceSBOM(ctx context.Context, versionID int64, sb SBOM, actor, org int64, now time.Time) error {
	for attempt := 0; ; attempt++ {
		var old int64
		err := s.db.QueryRowContext(ctx, `SELECT COALESCE(sbom_upload_id, 0) FROM product_versions WHERE id = $1`, versionID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		raced := false
		err = s.putSBOM(ctx, org, sb, now, func(tx *sql.Tx, upload int64) error {
			// On condition the version still names the SBOM read above:
			// another upload may have replaced it meanwhile.
			res, err := tx.ExecContext(ctx, `UPDATE product_versions SET sbom_format = $1, sbom_digest = $2, sbom_upload_id = $3
				WHERE id = $4 AND COALESCE(sbom_upload_id, 0) = $5`, sb.Format, sb.Digest, upload, versionID, old)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				raced = true
				return errRaced
			}
			return audit(ctx, tx, now, actor, org, "version.sbom", "version", fmt.Sprint(versionID), fmt.Sprintf("%s, %d components", sb.Format, len(sb.Components)))
		})
		if raced && attempt < 3 {
			continue // store it again against the SBOM now current
		}
		if err != nil {
			return err
		}
		if old != 0 {
			var items int
			if err := s.db.QueryRowContext(ctx, `SELECT items FROM uploads WHERE id = $1`, old).Scan(&items); err != nil {
				return err
			}
			// The new SBOM is stored; a failure here leaves garbage for
			// the next sweep, not a wrong answer.
			s.purgeUpload(context.WithoutCancel(ctx), old, items)
		}
		return nil
	}
}

var errRaced = errors.New("the version's SBOM changed meanwhile")

// RecordRefusedUpload counts an upload that was received and refused
// (unreadable, over the cap) in the organisation's daily quota.
func (s *Store) RecordRefusedUpload(ctx context.Context, org, bytes int64, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := insertUpload(ctx, tx, org, "sbom", bytes, 0, "purged", now)
		return err
	})
}
