package bench

import (
	"log/slog"
	"os"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

// TestMain keeps the servers' informational logging out of the benchmark
// output (a log line between a benchmark's name and its figures hides the
// figures from bench/benchsum) but lets warnings and errors through: an
// approval whose transparency-log append failed only logs it. It stops the throwaway PostgreSQL cluster
// the issuance benchmark starts (pgtest starts it only when asked for a
// database).
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	pgtest.Main(m)
}
