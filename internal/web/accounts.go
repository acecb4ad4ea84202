package web

import (
	"errors"
	"net/http"

	"github.com/hallmark-iot/hallmark/internal/auth"
	"github.com/hallmark-iot/hallmark/internal/server"
)

type loginPage struct {
	page
	Next, Email, Error string
}

func (h *Web) loginForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "login", loginPage{page: h.page(r, "Sign in", "login"), Next: safeNext(r.URL.Query().Get("next"))})
}

func (h *Web) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	email, pw, next := r.PostFormValue("email"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	sid, _, err := h.App.Login(r.Context(), email, pw, auth.ClientIP(r, false))
	if err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, server.ErrDenied) {
			status = http.StatusTooManyRequests
		} else if !errors.Is(err, server.ErrLogin) {
			h.serverError(w, r, err)
			return
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60")
		}
		h.render(w, r, status, "login", loginPage{page: h.page(r, "Sign in", "login"), Next: next, Email: email, Error: userMessage(err)})
		return
	}
	// A fresh session id at every login: any id planted earlier is dropped.
	if old := sessionID(r); old != "" {
		h.App.Logout(r.Context(), old)
	}
	http.SetCookie(w, auth.SessionCookie(sid, h.Secure, auth.AbsoluteTimeout))
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

func (h *Web) register(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	f := registerPage{page: h.page(r, "Register a manufacturer", "login"), Org: r.PostFormValue("org"), Country: r.PostFormValue("country"),
		Name: r.PostFormValue("name"), Email: r.PostFormValue("email")}
	if err := h.App.AllowRegistration(auth.ClientIP(r, false)); err != nil {
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
	if err != nil {
		if errors.Is(err, server.ErrInvalid) || isConflict(err) {
			f.Error = err.Error()
			h.render(w, r, http.StatusBadRequest, "register", f)
			return
		}
		h.serverError(w, r, err)
		return
	}
	sid, _, err := h.App.Login(r.Context(), f.Email, r.PostFormValue("password"), auth.ClientIP(r, false))
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, auth.SessionCookie(sid, h.Secure, auth.AbsoluteTimeout))
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}
