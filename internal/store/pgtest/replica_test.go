package pgtest_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// What is written on the primary is read on the replica, which refuses
// writes of its own.
func TestReplicated(t *testing.T) {
	pdsn, rdsn := pgtest.Replicated(t)
	p, err := sql.Open("pgx", pdsn)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := sql.Open("pgx", rdsn)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := p.Exec(`CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('replicated')`); err != nil {
		t.Fatal(err)
	}
	var v string
	deadline := time.Now().Add(10 * time.Second)
	for r.QueryRow(`SELECT v FROM t`).Scan(&v) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the row did not reach the replica")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v != "replicated" {
		t.Fatalf("replica read %q", v)
	}
	if _, err := r.Exec(`INSERT INTO t VALUES ('x')`); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("a write on the replica: %v", err)
	}
}
