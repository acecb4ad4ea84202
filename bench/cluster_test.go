package bench

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-iot/hallmark/internal/store/pgtest"
)

// BenchmarkCluster measures several hallmark serve --cluster processes on
// a PostgreSQL primary with a streaming replica (pgtest.Replicated):
//
//   - read: bench/loadgen against a registry listing (which reads the database
//     on every request) on a reader instance answering from the replica,
//     alternating with the same URL on the writer answering from the
//     primary: replica-rps, primary-rps and their ratio;
//   - failover: SIGKILL to the writer, until the other instance reports
//     role writer on /readyz (failover-ms, the median of CLUSTER_ROUNDS,
//     default 5, the killed one started again as a reader each time).
//
// CLUSTER_DUR sets loadgen's -d (default 6s), CLUSTER_CONNS its -c (8).
func BenchmarkCluster(b *testing.B) {
	primary, replica := pgtest.Replicated(b)
	dir := b.TempDir()
	bin, loadgen := filepath.Join(dir, "hallmark"), filepath.Join(dir, "loadgen")
	for out, pkg := range map[string]string{bin: "../cmd/hallmark", loadgen: "./loadgen"} {
		if o, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", pkg, err, o)
		}
	}
	data := b.TempDir()
	ports := []string{freeLoopback(b), freeLoopback(b)}
	public := "http://" + ports[0]
	procs := make([]*exec.Cmd, 2)
	start := func(i int, args ...string) {
		cmd := exec.Command(bin, append([]string{"serve", "--cluster", "--data", data, "--db", primary, "--read-db", replica,
			"--addr", ports[i], "--public-url", public, "--advertise", "http://" + ports[i]}, args...)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if os.Getenv("CLUSTER_LOGS") == "" {
			cmd.Stdout, cmd.Stderr = nil, nil
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		procs[i] = cmd
		deadline := time.Now().Add(120 * time.Second)
		for role(ports[i]) == "" {
			if time.Now().After(deadline) {
				b.Fatalf("instance %d did not start", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	b.Cleanup(func() {
		for _, p := range procs {
			if p != nil {
				p.Process.Kill()
				p.Wait()
			}
		}
	})
	start(0, "--demo", "--demo-size", "small")
	start(1)
	if role(ports[0]) != "writer" || role(ports[1]) != "reader" {
		b.Fatalf("roles %q and %q", role(ports[0]), role(ports[1]))
	}
	deadline := time.Now().Add(10 * time.Second)
	for reads(ports[1]) != "replica" {
		if time.Now().After(deadline) {
			b.Fatal("the reader does not read the replica")
		}
		time.Sleep(50 * time.Millisecond)
	}
	dur, conns := envOr("CLUSTER_DUR", "6s"), envOr("CLUSTER_CONNS", "8")
	path := "/api/v1/labels?status=active&limit=20"
	out, err := exec.Command(loadgen, "-name", "listing", "-c", conns, "-d", dur, "-target", "http://"+ports[1]+path, "-peer", "http://"+ports[0]+path).CombinedOutput()
	if err != nil {
		b.Fatalf("loadgen: %v\n%s", err, out)
	}
	b.Logf("reader on the replica (hallmark) against the writer on the primary (static):\n%s", out)
	var rr, pr float64
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[0] == "listing" {
			switch f[1] {
			case "hallmark":
				fmt.Sscan(f[2], &rr)
			case "static":
				fmt.Sscan(f[2], &pr)
			}
		}
	}
	rounds := 5
	if v := os.Getenv("CLUSTER_ROUNDS"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	var took []float64
	w := 0
	for range rounds {
		procs[w].Process.Signal(syscall.SIGKILL)
		procs[w].Wait()
		killed := time.Now()
		other := 1 - w
		for role(ports[other]) != "writer" {
			if time.Since(killed) > 20*time.Second {
				b.Fatal("no takeover within 20s")
			}
			time.Sleep(5 * time.Millisecond)
		}
		took = append(took, float64(time.Since(killed).Microseconds())/1000)
		start(w)
		w = other
	}
	slices.Sort(took)
	b.Logf("failover times, ms: %v", took)
	for range b.N {
	}
	b.ReportMetric(rr, "replica-rps")
	b.ReportMetric(pr, "primary-rps")
	if pr > 0 {
		b.ReportMetric(rr/pr, "replica/primary")
	}
	b.ReportMetric(took[len(took)/2], "failover-ms")
	b.ReportMetric(took[len(took)-1], "failover-max-ms")
}

func freeLoopback(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func readyz(addr string) map[string]string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var r struct{ Checks map[string]string }
	json.NewDecoder(resp.Body).Decode(&r)
	return r.Checks
}

func role(addr string) string  { return readyz(addr)["role"] }
func reads(addr string) string { return readyz(addr)["reads"] }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
