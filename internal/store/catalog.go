package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/catalog"
)

// catalogHash fingerprints the built-in catalogue, so start-up rewrites the
// tables only when the binary's data changed.
func catalogHash(c *catalog.Catalog) (string, error) {
	var builtin []catalog.Framework
	for _, f := range c.Frameworks {
		if f.Source == catalog.SourceBuiltin {
			builtin = append(builtin, f)
		}
	}
	b, err := json.Marshal(struct {
		T []catalog.Topic
		R []catalog.Requirement
		F []catalog.Framework
		G []catalog.Term
	}{c.Topics, c.Requirements, builtin, c.Glossary})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// SyncCatalog makes the stored built-in catalogue equal to c, in one
// transaction, and reports whether anything changed. Imported frameworks are
// left as they are.
func (s *Store) SyncCatalog(ctx context.Context, c *catalog.Catalog) (bool, error) {
	hash, err := catalogHash(c)
	if err != nil {
		return false, err
	}
	var stored string
	err = s.db.QueryRowContext(ctx, `SELECT value FROM catalog_meta WHERE key = 'builtin_hash'`).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if stored == hash {
		return false, nil
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM mappings`,
			`DELETE FROM requirements`,
			`DELETE FROM topics`,
			`DELETE FROM glossary`,
			`DELETE FROM framework_items WHERE framework_id IN (SELECT id FROM frameworks WHERE source = 'builtin')`,
			`DELETE FROM frameworks WHERE source = 'builtin'`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		for i, t := range c.Topics {
			if _, err := tx.ExecContext(ctx, `INSERT INTO topics (id, position, name, description) VALUES ($1, $2, $3, $4)`,
				t.ID, i, t.Name, t.Description); err != nil {
				return fmt.Errorf("topic %s: %w", t.ID, err)
			}
		}
		for i, f := range c.Frameworks {
			if f.Source != catalog.SourceBuiltin {
				continue
			}
			if err := insertFramework(ctx, tx, f, i); err != nil {
				return err
			}
		}
		for i, r := range c.Requirements {
			methods := make([]string, len(r.Verification))
			for j, m := range r.Verification {
				methods[j] = string(m)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO requirements
				(id, position, topic_id, title, summary, technical, why, incident, verification, unsecurable, unsecurable_note)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				r.ID, i, r.Topic, r.Title, r.Summary, r.Technical, r.Why, r.Incident,
				strings.Join(methods, ","), r.Unsecurable, r.UnsecurableNote); err != nil {
				return fmt.Errorf("requirement %s: %w", r.ID, err)
			}
			for j, m := range r.Mappings {
				if _, err := tx.ExecContext(ctx, `INSERT INTO mappings
					(requirement_id, framework_id, item_id, position, relationship, rationale)
					VALUES ($1, $2, $3, $4, $5, $6)`,
					r.ID, m.Framework, m.Item, j, string(m.Rel), m.Note); err != nil {
					return fmt.Errorf("mapping %s -> %s: %w", r.ID, m.Ref(), err)
				}
			}
		}
		for i, t := range c.Glossary {
			if _, err := tx.ExecContext(ctx, `INSERT INTO glossary (term, position, expansion, definition, see) VALUES ($1, $2, $3, $4, $5)`,
				t.Term, i, t.Expansion, t.Definition, strings.Join(t.See, "\n")); err != nil {
				return fmt.Errorf("glossary %s: %w", t.Term, err)
			}
		}
		return setMeta(ctx, tx, "builtin_hash", hash)
	})
	return err == nil, err
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM catalog_meta WHERE key = $1`, key); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO catalog_meta (key, value) VALUES ($1, $2)`, key, value)
	return err
}

// provenance is how a framework's sources and unverified facts are kept: one
// JSON column, since they are only ever read with the framework.
type provenance struct {
	Sources    []catalog.Source     `json:"sources,omitempty"`
	Unverified []catalog.Unverified `json:"unverified,omitempty"`
}

func insertFramework(ctx context.Context, tx *sql.Tx, f catalog.Framework, position int) error {
	var prov string
	if len(f.Sources) > 0 || len(f.Unverified) > 0 {
		b, err := json.Marshal(provenance{f.Sources, f.Unverified})
		if err != nil {
			return err
		}
		prov = string(b)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO frameworks
		(id, position, title, short, publisher, version, published, url, description, source, provenance)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		f.ID, position, f.Title, f.Short, f.Publisher, f.Version, f.Published, f.URL, f.Description, f.Source, prov); err != nil {
		return fmt.Errorf("framework %s: %w", f.ID, err)
	}
	for j, it := range f.Items {
		if _, err := tx.ExecContext(ctx, `INSERT INTO framework_items
			(framework_id, item_id, position, clause, clause_title, status, condition, title, gap, unverified, deemed_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			f.ID, it.ID, j, it.Clause, it.ClauseTitle, string(it.Status), it.Condition, it.Title, it.Gap, it.Unverified, strings.Join(it.DeemedBy, "\n")); err != nil {
			return fmt.Errorf("framework %s item %s: %w", f.ID, it.ID, err)
		}
	}
	return nil
}

// ImportFramework stores an authority's own framework. It refuses to replace
// a built-in framework, and replaces an imported one only when asked.
func (s *Store) ImportFramework(ctx context.Context, f catalog.Framework, replace bool) error {
	if f.Source != catalog.SourceImported {
		return fmt.Errorf("framework %s: only imported frameworks can be stored this way", f.ID)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var source string
		err := tx.QueryRowContext(ctx, `SELECT source FROM frameworks WHERE id = $1`, f.ID).Scan(&source)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case source == catalog.SourceBuiltin:
			return fmt.Errorf("%w: %s is a built-in framework; choose another id", ErrConflict, f.ID)
		case !replace:
			return fmt.Errorf("%w: a framework %s was already imported; to overwrite it, ask for a replacement (--replace on the command line, ?replace=true in the API)", ErrConflict, f.ID)
		default:
			if _, err := tx.ExecContext(ctx, `DELETE FROM frameworks WHERE id = $1`, f.ID); err != nil {
				return err
			}
		}
		// Imported frameworks list after the built-in ones, in import order.
		var next int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 999) + 1 FROM frameworks WHERE source = 'imported'`).Scan(&next); err != nil {
			return err
		}
		return insertFramework(ctx, tx, f, next)
	})
}

// LoadCatalog reads the whole catalogue (built-in and imported) and builds a
// validated catalog.Catalog from it.
func (s *Store) LoadCatalog(ctx context.Context) (*catalog.Catalog, error) {
	var topics []catalog.Topic
	if err := s.each(ctx, `SELECT id, name, description FROM topics ORDER BY position`, func(r *sql.Rows) error {
		var t catalog.Topic
		if err := r.Scan(&t.ID, &t.Name, &t.Description); err != nil {
			return err
		}
		topics = append(topics, t)
		return nil
	}); err != nil {
		return nil, err
	}

	var fws []catalog.Framework
	fwIdx := map[string]int{}
	if err := s.each(ctx, `SELECT id, title, short, publisher, version, published, url, description, source, provenance
		FROM frameworks ORDER BY position, id`, func(r *sql.Rows) error {
		var f catalog.Framework
		var prov string
		if err := r.Scan(&f.ID, &f.Title, &f.Short, &f.Publisher, &f.Version, &f.Published, &f.URL, &f.Description, &f.Source, &prov); err != nil {
			return err
		}
		if prov != "" {
			var p provenance
			if err := json.Unmarshal([]byte(prov), &p); err != nil {
				return fmt.Errorf("framework %s: stored provenance: %w", f.ID, err)
			}
			f.Sources, f.Unverified = p.Sources, p.Unverified
		}
		fwIdx[f.ID] = len(fws)
		fws = append(fws, f)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.each(ctx, `SELECT framework_id, item_id, clause, clause_title, status, condition, title, gap, unverified, deemed_by
		FROM framework_items ORDER BY framework_id, position`, func(r *sql.Rows) error {
		var fid, status, deemed string
		var it catalog.Item
		if err := r.Scan(&fid, &it.ID, &it.Clause, &it.ClauseTitle, &status, &it.Condition, &it.Title, &it.Gap, &it.Unverified, &deemed); err != nil {
			return err
		}
		if deemed != "" {
			it.DeemedBy = strings.Split(deemed, "\n")
		}
		it.Status = catalog.Status(status)
		i, ok := fwIdx[fid]
		if !ok {
			return fmt.Errorf("item %s of unknown framework %s", it.ID, fid)
		}
		fws[i].Items = append(fws[i].Items, it)
		return nil
	}); err != nil {
		return nil, err
	}

	var reqs []catalog.Requirement
	reqIdx := map[string]int{}
	if err := s.each(ctx, `SELECT id, topic_id, title, summary, technical, why, incident, verification, unsecurable, unsecurable_note
		FROM requirements ORDER BY position`, func(r *sql.Rows) error {
		var q catalog.Requirement
		var methods string
		if err := r.Scan(&q.ID, &q.Topic, &q.Title, &q.Summary, &q.Technical, &q.Why, &q.Incident, &methods, &q.Unsecurable, &q.UnsecurableNote); err != nil {
			return err
		}
		for _, m := range strings.Split(methods, ",") {
			if m != "" {
				q.Verification = append(q.Verification, catalog.Method(m))
			}
		}
		reqIdx[q.ID] = len(reqs)
		reqs = append(reqs, q)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.each(ctx, `SELECT requirement_id, framework_id, item_id, relationship, rationale
		FROM mappings ORDER BY requirement_id, position`, func(r *sql.Rows) error {
		var rid string
		var m catalog.Mapping
		var rel string
		if err := r.Scan(&rid, &m.Framework, &m.Item, &rel, &m.Note); err != nil {
			return err
		}
		m.Rel = catalog.Relationship(rel)
		reqs[reqIdx[rid]].Mappings = append(reqs[reqIdx[rid]].Mappings, m)
		return nil
	}); err != nil {
		return nil, err
	}

	var terms []catalog.Term
	if err := s.each(ctx, `SELECT term, expansion, definition, see FROM glossary ORDER BY position`, func(r *sql.Rows) error {
		var t catalog.Term
		var see string
		if err := r.Scan(&t.Term, &t.Expansion, &t.Definition, &see); err != nil {
			return err
		}
		if see != "" {
			t.See = strings.Split(see, "\n")
		}
		terms = append(terms, t)
		return nil
	}); err != nil {
		return nil, err
	}
	c, err := catalog.New(topics, reqs, fws, terms)
	if err != nil {
		return nil, fmt.Errorf("the stored catalogue is inconsistent: %w", err)
	}
	return c, nil
}

func (s *Store) each(ctx context.Context, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
