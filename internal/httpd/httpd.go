// Package httpd is Hallmark's HTTP front: the one route table that mounts
// the JSON API and the pages over the application server, the middleware
// every request passes, and graceful serving.
package httpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/api"
	"github.com/hallmark-iot/hallmark/internal/cdn"
	"github.com/hallmark-iot/hallmark/internal/input"
	"github.com/hallmark-iot/hallmark/internal/mirror"
	"github.com/hallmark-iot/hallmark/internal/reqid"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/web"
)

// Handler is the one route table: the JSON API, the pages, health.
func Handler(s *server.Server) (http.Handler, error) {
	mux := http.NewServeMux()
	cfg := s.Config()
	(&api.API{App: s, AdminToken: cfg.AdminToken}).Register(mux)
	w, err := web.New(s, strings.HasPrefix(cfg.PublicURL, "https://"), cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	w.Register(mux)
	if wit := s.Witness(); wit != nil {
		// C2SP tlog-witness: peers POST /witness/add-checkpoint.
		mux.Handle("/witness/", http.StripPrefix("/witness", wit.Handler()))
		// The latest checkpoint this witness cosigned for a log, by origin
		// hash: what a mirror compares its own copy with (fork detection).
		mux.HandleFunc("GET /witness/latest/{hash}", func(w http.ResponseWriter, r *http.Request) {
			for origin := range s.Config().WitnessFor {
				if mirror.OriginHash(origin) != r.PathValue("hash") {
					continue
				}
				if cp, ok := wit.Latest(origin); ok {
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					w.Header().Set("Cache-Control", "no-store")
					w.Write(cp)
					return
				}
			}
			http.NotFound(w, r)
		})
		mux.HandleFunc("GET /.well-known/hallmark/witness.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"witness": s.Config().PublicURL + "/witness", "verifier": s.WitnessKey()})
		})
	}
	// Liveness: the process serves. It asks nothing of the database, so a
	// database outage does not get healthy instances restarted.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
	// Readiness: a database write commits and the log takes appends.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rd := s.Ready(r.Context())
		status := http.StatusOK
		if !rd.Ready {
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "5")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(rd)
	})
	// Public answers get entity tags, 304s and compression (package cdn);
	// in a cluster, writes reach the writer (forwardWrites).
	return logRequests(recoverer(forwardWrites(s, plainInput(w, cdn.Handler(mux, 0))))), nil
}

// plainInput refuses a request whose path or query holds what Hallmark
// never accepts (control characters but tab and newline in values, invalid
// UTF-8), before
// any handler or database sees it: one answer, 400, on either database.
func plainInput(pages *web.Web, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := input.Check("the address", r.URL.Path, input.Line)
		if err == nil && r.URL.RawQuery != "" {
			q, _ := url.ParseQuery(r.URL.RawQuery) // what cannot be parsed no handler sees either
			for k, vs := range q {
				if err == nil {
					err = input.Check("query parameter name "+strconv.Quote(clip(k)), k, input.Line)
				}
				// Values may be free text (a proposed rule for /replay is
				// YAML): tab and newline pass, every other control
				// character (NUL above all) is refused.
				for _, v := range vs {
					if err == nil {
						err = input.Check("query parameter "+strconv.Quote(clip(k)), v, input.Text)
					}
				}
			}
		}
		if err == nil {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.WriteProblem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		pages.BadRequest(w, r, err.Error())
	})
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// recoverer turns a panic in a handler into a 500 and a log line, so one
// bad request never takes the server down.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				reqid.Note(r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
				http.Error(w, "internal error; request id "+reqid.ID(r), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines) through the wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ReadFrom keeps io.Copy's path to the connection's own ReadFrom, which
// sends files with sendfile: a wrapper without it hides that.
func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
}

// logRequests gives every request an id (the X-Request-Id answer header)
// and logs every server error (5xx) with it, its method, path, status and
// the cause a handler noted, so the id a user quotes finds the reason.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqid.State{ID: reqid.New()}
		w.Header().Set(reqid.Header, st.ID)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(reqid.With(r.Context(), st)))
		took := time.Since(start)
		if sw.status >= 500 {
			cause := st.Err()
			if cause == nil {
				cause = errors.New("no cause noted")
			}
			slog.Error("request failed", "request_id", st.ID, "method", r.Method, "path", r.URL.Path, "status", sw.status, "took", took, "err", cause)
			return
		}
		slog.Debug("request", "request_id", st.ID, "method", r.Method, "path", r.URL.Path, "status", sw.status, "took", took)
	})
}

// ListenAndServe serves h on addr until ctx ends, then shuts down gracefully.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}
