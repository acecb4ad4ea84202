package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
	"github.com/pressly/goose/v3"
)

// Migration 00008 keeps every SBOM stored before it: the components move
// under an upload per version, in order, and the sequence goes on past
// the ids it took.
func TestMigrationKeepsSBOMs(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "hallmark.db")
			if d == Postgres {
				dsn = pgtest.DSN(t)
			}
			s, err := open(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sub, _ := fs.Sub(migrations, "migrations/"+string(d))
			gd := goose.DialectSQLite3
			if d == Postgres {
				gd = goose.DialectPostgres
			}
			p, err := goose.NewProvider(gd, s.db, sub)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 7); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`INSERT INTO organisations (id, name, kind, country, website, created_at) VALUES (1, 'Acme', 'manufacturer', '', '', '2026-01-01T00:00:00.000000Z')`,
				`INSERT INTO products (id, manufacturer_id, name, brand, category, model_number, gtin, purl, cpe, published, created_at)
					VALUES (1, 1, 'Cam', '', 'camera', 'C1', '', '', '', false, '2026-01-01T00:00:00.000000Z')`,
				`INSERT INTO product_versions (id, product_id, software_version, hardware_version, release_date, facts, sbom_format, sbom_digest, created_at)
					VALUES (5, 1, '1.0', '', '', '{}', 'cyclonedx-json 1.6', 'abc', '2026-01-01T00:00:00.000000Z'),
					(6, 1, '2.0', '', '', '{}', '', '', '2026-01-01T00:00:00.000000Z')`,
				`INSERT INTO components (version_id, position, name, version, purl, cpe, ecosystem, type, supplier)
					VALUES (5, 0, 'zlib', '1.3', '', '', '', 'library', ''), (5, 1, 'busybox', '1.36', '', '', '', 'application', '')`,
			} {
				if _, err := s.db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := s.migrate(ctx); err != nil {
				t.Fatal(err)
			}
			v, err := s.Version(ctx, 5)
			if err != nil || v.Components != 2 || v.SBOMDigest != "abc" {
				t.Fatalf("version 5 after the migration: %+v %v", v, err)
			}
			cs, err := s.Components(ctx, 5, 10, 0)
			if err != nil || len(cs) != 2 || cs[0].Name != "zlib" || cs[1].Name != "busybox" {
				t.Fatalf("components %+v %v", cs, err)
			}
			if v, _ := s.Version(ctx, 6); v.Components != 0 {
				t.Errorf("version 6 has %d components", v.Components)
			}
			// New uploads do not collide with the migrated ids.
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			id, err := insertUpload(ctx, tx, 1, "evidence", 1, 1, "stored", parseTS("2026-01-02T00:00:00.000000Z"))
			tx.Rollback()
			if err != nil || id <= 5 {
				t.Errorf("a new upload after the migration: id %d, %v", id, err)
			}
		})
	}
}
