package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/hallmark-iot/hallmark/internal/quota"
	"github.com/hallmark-iot/hallmark/internal/server"
)

// uploadProblem answers the refusals of the upload limits: 413 over a size
// limit, 429 over a quota and 503 while the upload slots are taken, the
// last two with Retry-After. It reports whether err was one of them.
func uploadProblem(w http.ResponseWriter, r *http.Request, err error) bool {
	var ex *quota.Exceeded
	switch {
	case errors.Is(err, server.ErrTooLarge):
		WriteProblem(w, r, http.StatusRequestEntityTooLarge, err.Error())
	case errors.As(err, &ex):
		if ex.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(ex.RetryAfter.Seconds())))
		}
		WriteProblem(w, r, http.StatusTooManyRequests, ex.Msg)
	case errors.Is(err, quota.ErrBusy):
		w.Header().Set("Retry-After", "60")
		WriteProblem(w, r, http.StatusServiceUnavailable, err.Error())
	default:
		return false
	}
	return true
}
