package httpd

import (
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/hallmark-iot/hallmark/internal/server"
)

// forwardedHeader marks a request one instance forwarded to another, so a
// request is forwarded at most once (two instances each believing the
// other the writer must not bounce it between them).
const forwardedHeader = "X-Hallmark-Forwarded-By"

// forwardWrites sends the writes (any method but GET, HEAD and OPTIONS) a
// reader instance receives to the instance holding the writer role, and
// relays its answer: a client or load balancer may send anything to any
// instance. With no writer (one is taking over), or one that does not
// answer, the write is refused with 503 and a Retry-After: nothing was
// changed, and retrying is safe.
func forwardWrites(s *server.Server, next http.Handler) http.Handler {
	if !s.Clustered() {
		return next
	}
	refuse := func(w http.ResponseWriter, why string) {
		w.Header().Set("Retry-After", "2")
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, why, http.StatusServiceUnavailable)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if s.IsWriter() {
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get(forwardedHeader) != "" {
			refuse(w, "This write was forwarded here by another instance, but this one does not hold the writer role either (it is changing hands); nothing was changed. Try again in a few seconds.")
			return
		}
		target := s.WriterURL(r.Context())
		u, err := url.Parse(target)
		if target == "" || err != nil || u.Host == "" {
			refuse(w, server.NotWriterNotice)
			return
		}
		p := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.Out.Host = pr.In.Host // the public host, which pages and cookies are for
				pr.SetXForwarded()
				pr.Out.Header.Set(forwardedHeader, s.InstanceID())
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				refuse(w, "The instance holding the writer role did not answer (it may be stopping, and another taking over), so the write may not have been made: look before trying again in a few seconds.")
			},
		}
		p.ServeHTTP(w, r)
	})
}
