package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hallmark-iot/hallmark/internal/registry"
)

// CreateProduct stores a product for its manufacturer.
func (s *Store) CreateProduct(ctx context.Context, p registry.Product, actor int64, now time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO products (manufacturer_id, name, brand, category, model_number, gtin, purl, cpe, published, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			p.ManufacturerID, p.Name, p.Brand, p.Category, p.ModelNumber, p.GTIN, p.PURL, p.CPE, p.Published, ts(now)).Scan(&id)
		if isUnique(err) {
			return fmt.Errorf("%w: you already registered model number %q", ErrConflict, p.ModelNumber)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, p.ManufacturerID, "product.create", "product", fmt.Sprint(id), p.Name)
	})
	return id, err
}

const productCols = `p.id, p.manufacturer_id, o.name, p.name, p.brand, p.category, p.model_number, p.gtin, p.purl, p.cpe, p.published, p.created_at`

func scanProduct(r interface{ Scan(...any) error }) (registry.Product, error) {
	var p registry.Product
	var created string
	err := r.Scan(&p.ID, &p.ManufacturerID, &p.Manufacturer, &p.Name, &p.Brand, &p.Category, &p.ModelNumber, &p.GTIN, &p.PURL, &p.CPE, &p.Published, &created)
	p.Created = parseTS(created)
	return p, err
}

// Product returns one product.
func (s *Store) Product(ctx context.Context, id int64) (registry.Product, error) {
	p, err := scanProduct(s.db.QueryRowContext(ctx, `SELECT `+productCols+` FROM products p JOIN organisations o ON o.id = p.manufacturer_id WHERE p.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// ProductQuery filters a product listing. Unpublished products are listed
// only for their own manufacturer (OwnerOrg), the authority running a
// scheme they applied for (Overseer) and a lab assigned to one of their
// applications (Lab): the listing form of auth.Allow's product rule.
type ProductQuery struct {
	Text     string
	Category string
	OwnerOrg int64 // show this manufacturer's unpublished products too
	OnlyOrg  int64 // only this manufacturer's products
	Overseer int64 // an authority: unpublished products applied to its schemes too
	Lab      int64 // an assessor lab: unpublished products it was assigned
	All      bool  // every product: for operators' tools, never a request
	Limit    int
	Offset   int
	// After continues the listing after this product, Before lists the
	// Limit products just before it, and Last the final Limit products:
	// keyset paging, so a page costs no more for being deep. Offset is
	// then unused.
	After, Before ProductKey
	Last          bool
}

// ProductKey is a product's place in a listing's order (manufacturer,
// product name, id).
type ProductKey struct {
	Manufacturer, Name string
	ID                 int64
}

// ProductKeyOf is p's place in a listing.
func ProductKeyOf(p registry.Product) ProductKey {
	return ProductKey{Manufacturer: p.Manufacturer, Name: p.Name, ID: p.ID}
}

// IsZero reports whether k names no place (the start).
func (k ProductKey) IsZero() bool { return k.ID == 0 }

// Encode makes k an opaque cursor for a URL.
func (k ProductKey) Encode() string {
	return encodeCursor(strconv.FormatInt(k.ID, 10), k.Manufacturer, k.Name)
}

// ParseProductKey reads a cursor Encode made; anything else is refused.
func ParseProductKey(c string) (ProductKey, error) {
	f, err := decodeCursor(c, 3)
	if err != nil {
		return ProductKey{}, err
	}
	id, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || id <= 0 || !utf8.ValidString(f[1]) || !utf8.ValidString(f[2]) {
		return ProductKey{}, errCursor
	}
	return ProductKey{ID: id, Manufacturer: f[1], Name: f[2]}, nil
}

// Products lists products matching q, and how many match in all.
func (s *Store) Products(ctx context.Context, q ProductQuery) ([]registry.Product, int, error) {
	// Who may see a product is one fixed rule ($1 overseer, $2 owner,
	// $3 lab, $4 every product); the optional filters are in the statement
	// only when asked for, as in Labels (a generic plan of "$n is empty OR
	// ..." keeps what was not asked for).
	args := []any{q.Overseer, q.OwnerOrg, q.Lab, q.All}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	conds := []string{`(p.published OR $4 OR p.manufacturer_id = $2
			OR ($1 <> 0 AND EXISTS (SELECT 1 FROM applications a JOIN product_versions v ON v.id = a.product_version_id
				JOIN authority_schemes au ON au.scheme_id = a.scheme_id WHERE v.product_id = p.id AND au.org_id = $1))
			OR ($3 <> 0 AND EXISTS (SELECT 1 FROM applications a JOIN product_versions v ON v.id = a.product_version_id
				WHERE v.product_id = p.id AND a.assessor_org_id = $3)))`}
	if q.OnlyOrg != 0 {
		conds = append(conds, "p.manufacturer_id = "+arg(q.OnlyOrg))
	}
	if q.Category != "" {
		conds = append(conds, "p.category = "+arg(q.Category))
	}
	if q.Text != "" {
		// The text is matched in product_search (migration 00023), a
		// trigram index: the same substring match as LIKE on each field.
		pat := arg("%" + likeEscape(q.Text) + "%")
		if s.dialect == Postgres {
			conds = append(conds, `p.id IN (SELECT product_id FROM product_search WHERE body LIKE `+pat+`)`)
		} else {
			conds = append(conds, `p.id IN (SELECT rowid FROM product_search WHERE body LIKE `+pat+`)`)
		}
	}
	from := ` FROM products p JOIN organisations o ON o.id = p.manufacturer_id WHERE `
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+from+strings.Join(conds, " AND "), args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order, back, offset := ` ORDER BY o.name, p.name, p.id`, false, q.Offset
	// A row value compares the three columns in the listing's order, with
	// the same collation as ORDER BY, on both engines.
	switch {
	case q.Last:
		order, back, offset = ` ORDER BY o.name DESC, p.name DESC, p.id DESC`, true, 0
	case !q.Before.IsZero():
		conds = append(conds, `(o.name, p.name, p.id) < (`+arg(q.Before.Manufacturer)+`, `+arg(q.Before.Name)+`, `+arg(q.Before.ID)+`)`)
		order, back, offset = ` ORDER BY o.name DESC, p.name DESC, p.id DESC`, true, 0
	case !q.After.IsZero():
		conds = append(conds, `(o.name, p.name, p.id) > (`+arg(q.After.Manufacturer)+`, `+arg(q.After.Name)+`, `+arg(q.After.ID)+`)`)
		offset = 0
	}
	page := ` LIMIT ` + arg(q.Limit) + ` OFFSET ` + arg(offset)
	var out []registry.Product
	err := s.each(ctx, `SELECT `+productCols+from+strings.Join(conds, " AND ")+order+page, func(r *sql.Rows) error {
		p, err := scanProduct(r)
		out = append(out, p)
		return err
	}, args...)
	if back {
		slices.Reverse(out)
	}
	return out, total, err
}

// likeEscape lower-cases a search text and keeps LIKE wildcards literal.
func likeEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '%', '_':
			r = ' '
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		out = append(out, r)
	}
	return string(out)
}

// CreateVersion stores a product version with its facts and, when sb is
// given, its SBOM. The version appears with its whole SBOM or not at all:
// a large SBOM's components are staged first (see putSBOM).
func (s *Store) CreateVersion(ctx context.Context, v registry.Version, sb *SBOM, actor, org int64, now time.Time) (int64, error) {
	v.SBOMFormat, v.SBOMDigest = "", ""
	if sb != nil {
		v.SBOMFormat, v.SBOMDigest = sb.Format, sb.Digest
	}
	facts, err := json.Marshal(v.Facts)
	if err != nil {
		return 0, err
	}
	var id int64
	insert := func(tx *sql.Tx, upload int64) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO product_versions (product_id, software_version, hardware_version, release_date, facts, sbom_format, sbom_digest, sbom_upload_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			v.ProductID, v.SoftwareVersion, v.HardwareVersion, v.ReleaseDate, string(facts), v.SBOMFormat, v.SBOMDigest, nullID(upload), ts(now)).Scan(&id)
		if isUnique(err) {
			return fmt.Errorf("%w: version %q of this product is already registered", ErrConflict, v.SoftwareVersion)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, org, "version.create", "version", fmt.Sprint(id), v.SoftwareVersion)
	}
	if sb == nil {
		err = s.tx(ctx, func(tx *sql.Tx) error { return insert(tx, 0) })
	} else {
		err = s.putSBOM(ctx, org, *sb, now, insert)
	}
	return id, err
}

const versionCols = `v.id, v.product_id, v.software_version, v.hardware_version, v.release_date, v.facts, v.sbom_format, v.sbom_digest, v.created_at,
	COALESCE((SELECT u.items FROM uploads u WHERE u.id = v.sbom_upload_id), 0)`

func scanVersion(r interface{ Scan(...any) error }) (registry.Version, error) {
	var v registry.Version
	var facts, created string
	err := r.Scan(&v.ID, &v.ProductID, &v.SoftwareVersion, &v.HardwareVersion, &v.ReleaseDate, &facts, &v.SBOMFormat, &v.SBOMDigest, &created, &v.Components)
	if err == nil {
		err = json.Unmarshal([]byte(facts), &v.Facts)
	}
	v.Created = parseTS(created)
	return v, err
}

// Version returns one product version.
func (s *Store) Version(ctx context.Context, id int64) (registry.Version, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, `SELECT `+versionCols+` FROM product_versions v WHERE v.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// Versions lists a product's versions, newest first.
func (s *Store) Versions(ctx context.Context, productID int64) ([]registry.Version, error) {
	var out []registry.Version
	err := s.each(ctx, `SELECT `+versionCols+` FROM product_versions v WHERE v.product_id = $1 ORDER BY v.id DESC`, func(r *sql.Rows) error {
		v, err := scanVersion(r)
		out = append(out, v)
		return err
	}, productID)
	return out, err
}

// Components lists a version's SBOM components, one page at a time.
func (s *Store) Components(ctx context.Context, versionID int64, limit, offset int) ([]registry.Component, error) {
	var out []registry.Component
	err := s.each(ctx, `SELECT c.name, c.version, c.purl, c.cpe, c.ecosystem, c.type, c.supplier FROM components c
		JOIN product_versions v ON v.sbom_upload_id = c.upload_id WHERE v.id = $1 ORDER BY c.position LIMIT $2 OFFSET $3`,
		func(r *sql.Rows) error {
			var c registry.Component
			err := r.Scan(&c.Name, &c.Version, &c.PURL, &c.CPE, &c.Ecosystem, &c.Type, &c.Supplier)
			out = append(out, c)
			return err
		}, versionID, limit, offset)
	return out, err
}
