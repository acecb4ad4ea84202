package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hallmark-iot/hallmark/internal/assess"
	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/reqid"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
)

// principal is who is making the request (anonymous without a session).
func principal(r *http.Request) auth.Principal {
	if p, ok := r.Context().Value(principalKey).(auth.Principal); ok {
		return p
	}
	return auth.Anonymous
}

func sessionID(r *http.Request) string {
	s, _ := r.Context().Value(sessionKey).(string)
	return s
}

// withSession resolves the session cookie into a principal, and guards
// every unsafe request: its origin must be this site, and a signed-in
// user's form must carry the session's CSRF token.
func (h *Web) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.Anonymous
		sid, ok := auth.ReadSessionCookie(r, h.Secure)
		if ok {
			pp, err := h.App.ResolveSession(r.Context(), sid)
			switch {
			case err == nil:
				p = pp
			case errors.Is(err, server.ErrNoSession):
				sid = ""
				http.SetCookie(w, auth.ClearSessionCookie(h.Secure))
			default:
				// The session could not be checked: say so, rather than
				// sign the user out or serve the page as to a stranger.
				h.serverError(w, r, err)
				return
			}
		}
		if !auth.SafeMethod(r.Method) {
			if !auth.SameOrigin(r, h.Origin) {
				h.forbidden(w, r, "This form was sent from another site. Open the page on this site and try again.")
				return
			}
			// Reading the CSRF field parses the body: cap it first, at the
			// largest upload a form takes (an SBOM) for file forms and at
			// 64 KiB for the rest, so a huge body is refused early.
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
				err = r.ParseMultipartForm(1 << 20)
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
				err = r.ParseForm()
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				h.render(w, r, http.StatusRequestEntityTooLarge, "error", struct {
					page
					Message string
				}{h.page(r, "Too large", ""), fmt.Sprintf("The form is larger than the %d KiB this page accepts; nothing was stored.", mbe.Limit>>10)})
				return
			}
			if sid != "" && !h.App.CheckCSRF(sid, r.PostFormValue("csrf")) {
				h.forbidden(w, r, "The form has expired. Go back, reload the page and send it again.")
				return
			}
		}
		ctx := context.WithValue(r.Context(), principalKey, p)
		ctx = context.WithValue(ctx, sessionKey, sid)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// signedIn wraps a handler that needs an account; anonymous users are sent
// to the login page and back afterwards.
func (h *Web) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if principal(r).IsAnonymous() {
			http.Redirect(w, r, "/login?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		// A console page is one user's: no shared or browser cache keeps it.
		w.Header().Set("Cache-Control", "no-store")
		next(w, r)
	}
}

// safeNext keeps post-login redirects on this site.
func safeNext(s string) string {
	const home = "/console"
	if s == "" || len(s) > 2048 || !isPlainPath(s) {
		return home
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !isPlainPath(u.Path) ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	// What the browser is sent is what was checked, re-encoded.
	out := (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		return home
	}
	return out
}

// isPlainPath refuses what browsers strip or rewrite before they resolve
// a URL (control characters, backslashes), which turns "/\t/host" into
// "//host", another site.
func isPlainPath(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\\' || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func (h *Web) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusForbidden, "error", struct {
		page
		Message string
	}{h.page(r, "Not allowed", ""), msg})
}

// fail turns a server error into the right page: not found, not allowed,
// a correctable mistake, or a conflict; anything else is a 500.
func (h *Web) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.uploadProblem(w, r, err) {
		return
	}
	switch {
	case server.IsNotFound(err):
		h.NotFound(w, r, "There is nothing here, or your account may not see it.")
	case errors.Is(err, server.ErrDenied):
		h.forbidden(w, r, userMessage(err))
	case errors.Is(err, server.ErrInvalid), isIllegal(err), isConflict(err):
		h.badRequest(w, r, userMessage(err))
	case errors.Is(err, server.ErrNotWriter):
		h.render(w, r, http.StatusServiceUnavailable, "error", struct {
			page
			Message string
		}{h.page(r, "Decisions paused", ""), server.NotWriterNotice})
	case errors.Is(err, server.ErrDecisionsHeld):
		h.render(w, r, http.StatusServiceUnavailable, "error", struct {
			page
			Message string
		}{h.page(r, "Decisions paused", ""), server.HeldNotice})
	default:
		h.serverError(w, r, err)
	}
}

func formInt(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(r.FormValue(name), 10, 64)
	return n
}

func pathInt(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return n, err == nil && n > 0
}

func isIllegal(err error) bool  { return errors.Is(err, assess.ErrIllegal) }
func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

// serverError answers a failure of ours: 503 when a dependency (the
// database) is down, else 500. The cause is logged once, by the request
// log, under the request id the page shows.
func (h *Web) serverError(w http.ResponseWriter, r *http.Request, err error) {
	reqid.Note(r, err)
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "The request could not be completed. Nothing was changed; try again later."
	if store.IsUnavailable(err) {
		status, title, msg = http.StatusServiceUnavailable, "Unavailable", "The database is unavailable just now. Nothing was changed; try again in a few moments."
		w.Header().Set("Retry-After", "5")
	}
	if id := reqid.ID(r); id != "" {
		msg += " If it persists, give the operator this request id: " + id + "."
	}
	h.render(w, r, status, "error", struct {
		page
		Message string
	}{h.page(r, title, ""), msg})
}
