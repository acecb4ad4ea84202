package store_test

// Migration parity: the SQLite and PostgreSQL migrations must build the
// same schema, or a query that works on one engine breaks (or silently
// differs) on the other. The test migrates a fresh database of each dialect
// with store.Open, reads back what the engines actually built, and compares.
//
// What is compared, and how loosely:
//   - tables: the same names (goose's own goose_db_version is left out: goose
//     defines it per dialect, with different types, and Hallmark never reads it);
//   - columns per table: the same names, the same NOT NULL, the same
//     primary key (columns in order), and the same type *class*:
//     integer (INTEGER, BIGINT, SMALLINT, INT), text (TEXT, VARCHAR, CHAR),
//     bool (BOOLEAN), real (REAL, DOUBLE PRECISION, NUMERIC), blob (BLOB,
//     BYTEA), timestamp (TIMESTAMP, TIMESTAMPTZ, DATE). INTEGER vs BIGINT is
//     the same class (SQLite integers are 64-bit). A timestamp is its own
//     class, not text: the store writes times as fixed-width UTC text and
//     compares them as text on both engines, so a TIMESTAMP column on one
//     engine only would sort and compare differently there. A SQLite primary
//     key column counts as NOT NULL (PostgreSQL enforces it; SQLite's
//     INTEGER PRIMARY KEY is the rowid and cannot be NULL either).
//   - indexes per table: the same (columns in order, unique, partial) set,
//     whatever their names. Primary-key indexes are left out (the primary
//     key is compared with the columns); UNIQUE constraints count, since
//     both engines back them with an index (sqlite_autoindex_* vs *_key).
//     Differing names of explicitly created indexes are reported in the log,
//     not failed on; defaults and CHECK constraints are not compared.

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/store"
	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

type column struct {
	class   string
	notNull bool
}

type index struct {
	name     string
	explicit bool // created by CREATE INDEX (its name is the migration's)
}

// schema is what a database defines: table -> column -> column, table ->
// primary key, and table -> index key -> index.
type schema struct {
	columns map[string]map[string]column
	pk      map[string][]string
	indexes map[string]map[string]index
}

func newSchema() schema {
	return schema{columns: map[string]map[string]column{}, pk: map[string][]string{}, indexes: map[string]map[string]index{}}
}

// typeClass maps a declared (SQLite) or reported (PostgreSQL) type to its class.
func typeClass(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case strings.Contains(t, "int"), t == "serial", t == "bigserial":
		return "integer"
	case strings.Contains(t, "char"), strings.Contains(t, "text"), strings.Contains(t, "clob"):
		return "text"
	case strings.HasPrefix(t, "bool"):
		return "bool"
	case strings.HasPrefix(t, "timestamp"), t == "date", strings.HasPrefix(t, "time"):
		return "timestamp"
	case strings.Contains(t, "real"), strings.Contains(t, "double"), strings.Contains(t, "float"), strings.HasPrefix(t, "numeric"), strings.HasPrefix(t, "decimal"):
		return "real"
	case t == "blob", t == "bytea":
		return "blob"
	case strings.HasPrefix(t, "json"):
		return "json"
	}
	return "other:" + t
}

func indexKey(cols []string, unique, partial bool) string {
	k := "(" + strings.Join(cols, ", ") + ")"
	if unique {
		k = "unique " + k
	}
	if partial {
		k += " partial"
	}
	return k
}

const gooseTable = "goose_db_version"

// querier is a database or a transaction.
type querier interface {
	Query(query string, args ...any) (*sql.Rows, error)
}

func queryStrings(t *testing.T, db querier, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sqliteSchema(t *testing.T, db querier) schema {
	t.Helper()
	s := newSchema()
	// label_search and product_search are each engine's own search
	// indexes (FTS5 trigrams here, with FTS5's shadow tables; pg_trgm
	// there): TestLabelSearch and TestProductSearch (internal/server)
	// check that both answer alike instead.
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> $1
		AND name NOT LIKE 'label_search%' AND name NOT LIKE 'product_search%' ORDER BY name`, gooseTable)
	for _, tbl := range tables {
		cols := map[string]column{}
		type pkCol struct {
			pos  int
			name string
		}
		var pks []pkCol
		rows, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info($1)`, tbl)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ string
			var notNull bool
			var pk int
			if err := rows.Scan(&name, &typ, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			cols[name] = column{class: typeClass(typ), notNull: notNull || pk > 0}
			if pk > 0 {
				pks = append(pks, pkCol{pk, name})
			}
		}
		rows.Close()
		slices.SortFunc(pks, func(a, b pkCol) int { return a.pos - b.pos })
		for _, p := range pks {
			s.pk[tbl] = append(s.pk[tbl], p.name)
		}
		s.columns[tbl] = cols

		idx := map[string]index{}
		type ixRow struct {
			name, origin    string
			unique, partial bool
		}
		var list []ixRow
		rows, err = db.Query(`SELECT name, "unique", origin, partial FROM pragma_index_list($1)`, tbl)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r ixRow
			if err := rows.Scan(&r.name, &r.unique, &r.origin, &r.partial); err != nil {
				t.Fatal(err)
			}
			list = append(list, r)
		}
		rows.Close()
		for _, r := range list {
			if r.origin == "pk" {
				continue // the primary key, compared with the columns
			}
			var cols []string
			rows, err := db.Query(`SELECT COALESCE(name, '<expression>') FROM pragma_index_info($1) ORDER BY seqno`, r.name)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					t.Fatal(err)
				}
				cols = append(cols, c)
			}
			rows.Close()
			idx[indexKey(cols, r.unique, r.partial)] = index{name: r.name, explicit: r.origin == "c"}
		}
		s.indexes[tbl] = idx
	}
	return s
}

func postgresSchema(t *testing.T, db querier) schema {
	t.Helper()
	s := newSchema()
	tables := queryStrings(t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> $1 AND table_name NOT LIKE 'label_search%'
		AND table_name NOT LIKE 'product_search%' ORDER BY table_name`, gooseTable)
	for _, tbl := range tables {
		cols := map[string]column{}
		rows, err := db.Query(`SELECT column_name, data_type, is_nullable FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name = $1`, tbl)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ, nullable string
			if err := rows.Scan(&name, &typ, &nullable); err != nil {
				t.Fatal(err)
			}
			cols[name] = column{class: typeClass(typ), notNull: nullable == "NO"}
		}
		rows.Close()
		s.columns[tbl] = cols

		idx := map[string]index{}
		// Every index of the table: pg_indexes names them; pg_index says
		// which is the primary key, which unique or partial, and
		// pg_get_indexdef gives each key column (or expression) in order.
		rows, err = db.Query(`SELECT pi.indexname, i.indisprimary, i.indisunique, i.indpred IS NOT NULL, i.indnkeyatts,
				NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
			FROM pg_indexes pi
			JOIN pg_class ic ON ic.relname = pi.indexname
			JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = pi.schemaname
			JOIN pg_index i ON i.indexrelid = ic.oid
			WHERE pi.schemaname = 'public' AND pi.tablename = $1`, tbl)
		if err != nil {
			t.Fatal(err)
		}
		type ixRow struct {
			name                               string
			primary, unique, partial, explicit bool
			n                                  int
		}
		var list []ixRow
		for rows.Next() {
			var r ixRow
			if err := rows.Scan(&r.name, &r.primary, &r.unique, &r.partial, &r.n, &r.explicit); err != nil {
				t.Fatal(err)
			}
			list = append(list, r)
		}
		rows.Close()
		for _, r := range list {
			cols := queryStrings(t, db, `SELECT pg_get_indexdef(to_regclass('public.' || quote_ident($1)), k, true) FROM generate_series(1, $2::int) k ORDER BY k`, r.name, r.n)
			for i, c := range cols {
				cols[i] = strings.Trim(c, `"`)
			}
			if r.primary {
				s.pk[tbl] = cols
				continue
			}
			idx[indexKey(cols, r.unique, r.partial)] = index{name: r.name, explicit: r.explicit}
		}
		s.indexes[tbl] = idx
	}
	return s
}

// diffSchemas lists every difference that matters, and separately the
// index names that differ (reported, not failed on).
func diffSchemas(a, b schema) (diffs, names []string) {
	add := func(f string, args ...any) { diffs = append(diffs, fmt.Sprintf(f, args...)) }
	for _, tbl := range sortedKeys(a.columns, b.columns) {
		ca, inA := a.columns[tbl]
		cb, inB := b.columns[tbl]
		switch {
		case !inB:
			add("table %s: only in sqlite", tbl)
			continue
		case !inA:
			add("table %s: only in postgres", tbl)
			continue
		}
		for _, col := range sortedKeys(ca, cb) {
			x, inA := ca[col]
			y, inB := cb[col]
			switch {
			case !inB:
				add("column %s.%s: only in sqlite", tbl, col)
			case !inA:
				add("column %s.%s: only in postgres", tbl, col)
			case x.class != y.class:
				add("column %s.%s: %s in sqlite, %s in postgres", tbl, col, x.class, y.class)
			case x.notNull != y.notNull:
				add("column %s.%s: NOT NULL %v in sqlite, %v in postgres", tbl, col, x.notNull, y.notNull)
			}
		}
		if !slices.Equal(a.pk[tbl], b.pk[tbl]) {
			add("table %s: primary key %v in sqlite, %v in postgres", tbl, a.pk[tbl], b.pk[tbl])
		}
		ia, ib := a.indexes[tbl], b.indexes[tbl]
		for _, k := range sortedKeys(ia, ib) {
			x, inA := ia[k]
			y, inB := ib[k]
			switch {
			case !inB:
				add("index on %s %s (%s): only in sqlite", tbl, k, x.name)
			case !inA:
				add("index on %s %s (%s): only in postgres", tbl, k, y.name)
			case x.explicit != y.explicit:
				add("index on %s %s: an explicit index (%s/%s) on one engine, a constraint's on the other", tbl, k, x.name, y.name)
			case x.explicit && x.name != y.name:
				names = append(names, fmt.Sprintf("index on %s %s: %s in sqlite, %s in postgres", tbl, k, x.name, y.name))
			}
		}
	}
	return diffs, names
}

func sortedKeys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// migrated opens a fresh database of each dialect through store.Open (which
// runs the migrations) and returns a plain connection to each.
func migrated(t *testing.T) (lite, pg *sql.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parity.db")
	dsn := pgtest.DSN(t)
	for _, d := range []string{path, dsn} {
		s, err := store.Open(ctx, d)
		if err != nil {
			t.Fatalf("migrate %s: %v", d, err)
		}
		s.Close()
	}
	lite, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	pg, err = sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close(); pg.Close() })
	return lite, pg
}

func TestMigrationParity(t *testing.T) {
	lite, pg := migrated(t)
	a, b := sqliteSchema(t, lite), postgresSchema(t, pg)
	// Guard against a reader that sees nothing (and so finds no difference).
	for name, s := range map[string]schema{"sqlite": a, "postgres": b} {
		for _, tbl := range []string{"labels", "applications", "decisions", "organisations"} {
			if len(s.columns[tbl]) == 0 || len(s.pk[tbl]) == 0 {
				t.Fatalf("%s: table %s read with %d columns, primary key %v", name, tbl, len(s.columns[tbl]), s.pk[tbl])
			}
		}
		if _, ok := s.indexes["decisions"][indexKey([]string{"state", "id"}, false, false)]; !ok {
			t.Fatalf("%s: the decisions (state, id) index was not read: %v", name, s.indexes["decisions"])
		}
		if _, ok := s.indexes["labels"][indexKey([]string{"status_index"}, true, false)]; !ok {
			t.Fatalf("%s: the UNIQUE status_index constraint was not read: %v", name, s.indexes["labels"])
		}
	}
	diffs, names := diffSchemas(a, b)
	for _, d := range diffs {
		t.Errorf("schemas differ: %s", d)
	}
	for _, n := range names {
		t.Logf("index name differs (allowed): %s", n)
	}
	t.Logf("compared %d tables", len(a.columns))
}

// The comparison must catch a change made to one dialect only: a table, a
// column, an index, a unique constraint, a type, a nullability. Each change
// is made inside a transaction that is rolled back (both engines have
// transactional DDL), so each is seen alone.
func TestMigrationParityDetectsDrift(t *testing.T) {
	lite, pg := migrated(t)
	base, pgBase := sqliteSchema(t, lite), postgresSchema(t, pg)
	if d, _ := diffSchemas(base, pgBase); len(d) != 0 {
		t.Fatalf("the schemas already differ (see TestMigrationParity): %v", d)
	}
	both := []string{
		`CREATE TABLE extra_table (id INTEGER PRIMARY KEY)`,
		`ALTER TABLE labels ADD COLUMN extra_col TEXT`,
		`CREATE INDEX extra_index ON labels (kid)`,
		`CREATE INDEX extra_pair ON decisions (id, state)`, // the same columns as decisions_pending, in another order
		`CREATE UNIQUE INDEX extra_unique ON products (name, category)`,
		`DROP INDEX labels_status`,
	}
	pgOnly := []string{
		`ALTER TABLE decisions ALTER COLUMN receipt TYPE BYTEA USING receipt::bytea`,
		`ALTER TABLE labels ALTER COLUMN kid DROP NOT NULL`,
		`ALTER TABLE labels ALTER COLUMN issued_at TYPE TIMESTAMP USING NULL`,
	}
	drift := func(t *testing.T, db *sql.DB, stmt string, read func(*testing.T, querier) schema, compare func(schema) []string) {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if d := compare(read(t, tx)); len(d) == 0 {
			t.Errorf("%q on one engine only went unnoticed", stmt)
		} else {
			t.Logf("noticed: %v", d)
		}
	}
	for _, stmt := range append(both, pgOnly...) {
		t.Run("postgres/"+stmt, func(t *testing.T) {
			drift(t, pg, stmt, postgresSchema, func(s schema) []string { d, _ := diffSchemas(base, s); return d })
		})
	}
	for _, stmt := range both {
		t.Run("sqlite/"+stmt, func(t *testing.T) {
			drift(t, lite, stmt, sqliteSchema, func(s schema) []string { d, _ := diffSchemas(s, pgBase); return d })
		})
	}
	// And a renamed explicit index is only reported, not a difference.
	tx, err := pg.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`ALTER INDEX labels_status RENAME TO labels_by_status`); err != nil {
		t.Fatal(err)
	}
	d, names := diffSchemas(base, postgresSchema(t, tx))
	if len(d) != 0 || len(names) != 1 {
		t.Errorf("a renamed index: differences %v, names reported %v; want none and one", d, names)
	}
}
