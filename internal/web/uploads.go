package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/hallmark-iot/hallmark/internal/quota"
	"github.com/hallmark-iot/hallmark/internal/server"
)

// uploadProblem answers the refusals of the upload limits with a page
// saying what to do: 413 over a size limit, 429 over a quota, 503 while
// the upload slots are taken. It reports whether err was one of them.
func (h *Web) uploadProblem(w http.ResponseWriter, r *http.Request, err error) bool {
	status := 0
	var ex *quota.Exceeded
	switch {
	case errors.Is(err, server.ErrTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.As(err, &ex):
		status = http.StatusTooManyRequests
		if ex.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(ex.RetryAfter.Seconds())))
		}
	case errors.Is(err, quota.ErrBusy):
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "60")
	default:
		return false
	}
	h.render(w, r, status, "error", struct {
		page
		Message string
	}{h.page(r, "Not accepted", ""), userMessage(err) + ". Nothing was stored."})
	return true
}
