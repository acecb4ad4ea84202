// Command loadgen is the load generator of Hallmark's status lookup
// benchmark (bench/status.sh): a separate process that keeps N keep-alive
// connections busy with GET requests for a fixed time, then reports
// requests per second and latency percentiles. Given a -peer URL it loads
// the peer the same way, alternating: -rounds slices of d/rounds each, target
// then peer, so that other load on the machine, which comes and goes,
// weighs on both alike; then it prints the ratio target/peer.
//
// It only ever talks to loopback addresses (127.0.0.1, ::1, localhost):
// it is a benchmark tool, not a way to load someone else's server.
//
//	loadgen -name status-list -c 16 -d 10s \
//	    -target http://127.0.0.1:18080/status/suspension/0 \
//	    -peer http://127.0.0.1:18081/status-suspension-0.jwt
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	URL      string
	Requests int64 // answered with 200 within the measured window
	Errors   int64 // transport errors and non-200 answers
	Bytes    int64
	Elapsed  time.Duration
	P50, P90 time.Duration
	P99, Max time.Duration
}

func (r result) rps() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func main() {
	name := flag.String("name", "", "a label for the output lines")
	target := flag.String("target", "", "URL to load (loopback only)")
	peer := flag.String("peer", "", "URL of the peer to load the same way afterwards (loopback only)")
	conns := flag.Int("c", 16, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "how long to load each URL")
	warmup := flag.Duration("warmup", time.Second, "unmeasured load before each run")
	maxReq := flag.Int64("n", 5_000_000, "stop loading a URL after this many requests even if -d has not passed")
	rounds := flag.Int("rounds", 5, "alternate target and peer in this many slices of d/rounds")
	flag.Float64Var(&rate, "rate", 0, "open loop: send this many requests per second, whatever the answers' pace (0: as fast as the connections go)")
	flag.Parse()
	if *target == "" || *conns < 1 || *dur <= 0 || *maxReq < 1 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: loadgen -target URL [-peer URL] [-name NAME] [-c N] [-d DURATION] [-n MAX]")
		os.Exit(2)
	}
	urls := []string{*target}
	if *peer != "" {
		urls = append(urls, *peer)
	}
	for _, u := range urls {
		if err := loopbackOnly(u); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
	}
	results, err := load(urls, *conns, *warmup, *dur, *rounds, *maxReq)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	for i, r := range results {
		role := "hallmark"
		if i == 1 {
			role = "static"
		}
		fmt.Printf("%-15s %-8s %9.0f req/s  p50 %7.3f ms  p90 %7.3f ms  p99 %7.3f ms  max %7.1f ms  %6d B/resp  %8d ok  %d errors  (%s)\n",
			*name, role, r.rps(), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Bytes/max(r.Requests, 1), r.Requests, r.Errors, r.URL)
	}
	if len(results) == 2 {
		fmt.Printf("%-15s ratio    %9.3f hallmark/static throughput  (p99 %.1fx the static p99)\n",
			*name, results[0].rps()/results[1].rps(), float64(results[0].P99)/float64(max(results[1].P99, 1)))
	}
	for _, r := range results {
		if r.Errors > 0 {
			os.Exit(1)
		}
	}
}

// rate, when set, paces requests at fixed times (open loop): a request's
// latency counts from when it was due, so a server that falls behind shows
// the wait too (no coordinated omission). Latency at a stated load is what
// a CDN's origin sees; closed-loop saturation mostly measures the queue.
var rate float64

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loopbackOnly refuses any URL whose host is not a loopback address.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" {
		return fmt.Errorf("%s: only http:// on loopback is supported", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s: loadgen only loads loopback addresses (127.0.0.1, ::1, localhost)", raw)
}

// load runs conns workers against each URL: warmup unmeasured, then dur
// measured in rounds slices alternating between the URLs, at most maxReq
// requests per URL.
func load(urls []string, conns int, warmup, dur time.Duration, rounds int, maxReq int64) ([]result, error) {
	clients := make([]*http.Client, len(urls))
	for i, u := range urls {
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		} // no Proxy: loopback means loopback
		defer tr.CloseIdleConnections()
		clients[i] = &http.Client{Transport: tr, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		// One request first: a URL that does not answer 200 is a setup error.
		if _, _, err := get(context.Background(), clients[i], u); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		if warmup > 0 {
			run(clients[i], u, conns, warmup, maxReq)
		}
	}
	res := make([]result, len(urls))
	lat := make([][]time.Duration, len(urls))
	for range rounds {
		for i, u := range urls {
			left := maxReq - res[i].Requests - res[i].Errors
			if left <= 0 {
				continue
			}
			r, l := run(clients[i], u, conns, dur/time.Duration(rounds), left)
			res[i].Requests += r.Requests
			res[i].Errors += r.Errors
			res[i].Bytes += r.Bytes
			res[i].Elapsed += r.Elapsed
			lat[i] = append(lat[i], l...)
		}
	}
	for i := range res {
		res[i].URL = urls[i]
		all := lat[i]
		slices.Sort(all)
		if len(all) > 0 {
			pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
			res[i].P50, res[i].P90, res[i].P99, res[i].Max = pct(0.50), pct(0.90), pct(0.99), all[len(all)-1]
		}
	}
	return res, nil
}

// run keeps conns requests to u in flight for dur or until maxReq were
// sent, and returns the counts and the latency of every answered request.
func run(client *http.Client, u string, conns int, dur time.Duration, maxReq int64) (result, []time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var sent, errs, bytes atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	var due chan time.Time
	if rate > 0 {
		due = make(chan time.Time, 1<<16)
		go func() {
			defer close(due)
			every := time.Duration(float64(time.Second) / rate)
			for i := 0; ; i++ {
				at := start.Add(time.Duration(i) * every)
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(at)):
				}
				select {
				case due <- at:
				default: // every connection is that far behind: counted by the requests' latency
				}
			}
		}()
	}
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil && sent.Add(1) <= maxReq {
				t0 := time.Now()
				if due != nil {
					at, ok := <-due
					if !ok {
						break
					}
					t0 = at
				}
				n, ok, err := get(ctx, client, u)
				d := time.Since(t0)
				switch {
				case err != nil && ctx.Err() != nil:
					// cut off by the end of the slice: not an error, not a sample
				case err != nil || !ok:
					errs.Add(1)
				default:
					bytes.Add(n)
					mine = append(mine, d)
				}
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return result{Requests: int64(len(all)), Errors: errs.Load(), Bytes: bytes.Load(), Elapsed: elapsed}, all
}

// get fetches u and reads the whole body, as a verifier would.
func get(ctx context.Context, client *http.Client, u string) (int64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, false, fmt.Errorf("%s answered %s", u, resp.Status)
	}
	return n, true, nil
}
