package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/server"
	"github.com/hallmark-iot/hallmark/internal/store"
)

type loginPage struct {
	page
	Next, Email, Error string
	Registered         bool
}

func (h *Web) loginForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "login", loginPage{page: h.page(r, "Sign in", "login"), Next: safeNext(r.URL.Query().Get("next")),
		Registered: r.URL.Query().Get("registered") == "1"})
}

// clientIP is the address sign-ins are throttled by: the connection's, or
// through the trusted proxies (serve --trusted-proxy) the client's.
func (h *Web) clientIP(r *http.Request) string {
	return auth.ClientIP(r, h.App.Config().TrustedProxies)
}

func (h *Web) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	email, pw, next := r.PostFormValue("email"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	in, err := h.App.SignIn(r.Context(), server.SignIn{Email: email, Password: pw, IP: h.clientIP(r), Device: auth.ReadDeviceCookie(r, h.Secure)})
	if err != nil {
		status := http.StatusUnauthorized
		var th *server.ThrottledError
		switch {
		case errors.As(err, &th):
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(int(max(th.Wait.Round(time.Second), time.Second)/time.Second)))
		case !errors.Is(err, server.ErrLogin):
			h.serverError(w, r, err)
			return
		}
		h.render(w, r, status, "login", loginPage{page: h.page(r, "Sign in", "login"), Next: next, Email: email, Error: userMessage(err)})
		return
	}
	// A fresh session id at every login: any id planted earlier is dropped.
	if old := sessionID(r); old != "" {
		h.App.Logout(r.Context(), old)
	}
	http.SetCookie(w, auth.SessionCookie(in.SessionID, h.Secure, auth.AbsoluteTimeout))
	if in.Device != "" {
		http.SetCookie(w, auth.DeviceCookie(in.Device, h.Secure))
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Web) logout(w http.ResponseWriter, r *http.Request) {
	if sid := sessionID(r); sid != "" {
		h.App.Logout(r.Context(), sid)
	}
	http.SetCookie(w, auth.ClearSessionCookie(h.Secure))
	http.Redirect(w, r, "/catalog", http.StatusSeeOther)
}

type registerPage struct {
	page
	Org, Country, Name, Email, Error string
}

func (h *Web) registerForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "register", registerPage{page: h.page(r, "Register a manufacturer", "login")})
}

// register signs a manufacturer up. Whether or not the e-mail address had
// an account, the answer is the same (sign in next), so the form cannot
// be used to find out which addresses have accounts. Hence no automatic
// sign-in: it would differ.
func (h *Web) register(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	f := registerPage{page: h.page(r, "Register a manufacturer", "login"), Org: r.PostFormValue("org"), Country: r.PostFormValue("country"),
		Name: r.PostFormValue("name"), Email: r.PostFormValue("email")}
	if err := h.App.AllowRegistration(h.clientIP(r)); err != nil {
		f.Error = userMessage(err)
		h.render(w, r, http.StatusTooManyRequests, "register", f)
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		f.Error = "The two passwords differ."
		h.render(w, r, http.StatusBadRequest, "register", f)
		return
	}
	_, err := h.App.Register(r.Context(), f.Org, f.Country, f.Name, f.Email, r.PostFormValue("password"))
	switch {
	case err == nil, errors.Is(err, store.ErrEmailTaken):
		http.Redirect(w, r, "/login?registered=1", http.StatusSeeOther)
	case errors.Is(err, server.ErrInvalid) || isConflict(err):
		f.Error = userMessage(err)
		h.render(w, r, http.StatusBadRequest, "register", f)
	default:
		h.serverError(w, r, err)
	}
}

// changePassword changes the signed-in user's own password; the user's
// other sessions end, this one goes on.
func (h *Web) changePassword(w http.ResponseWriter, r *http.Request) {
	cur, next := r.PostFormValue("current"), r.PostFormValue("new")
	if next != r.PostFormValue("new2") {
		h.badRequest(w, r, "The two new passwords differ; nothing was changed.")
		return
	}
	if err := h.App.ChangePassword(r.Context(), principal(r), sessionID(r), cur, next); err != nil {
		var th *server.ThrottledError
		if errors.As(err, &th) {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(th.Wait.Round(time.Second), time.Second)/time.Second)))
			h.render(w, r, http.StatusTooManyRequests, "error", struct {
				page
				Message string
			}{h.page(r, "Too many attempts", ""), userMessage(err)})
			return
		}
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console?password=changed", http.StatusSeeOther)
}
