// Package httpd is Hallmark's HTTP front: the one route table that mounts
// the JSON API and the pages over the application server, the middleware
// every request passes, and graceful serving.
package httpd

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hallmark-iot/hallmark/internal/api"
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
		mux.HandleFunc("GET /.well-known/hallmark/witness.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"witness": s.Config().PublicURL + "/witness", "verifier": s.WitnessKey()})
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return recoverer(logRequests(mux)), nil
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
				slog.Error("panic in handler", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
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

func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		slog.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "took", time.Since(start))
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
