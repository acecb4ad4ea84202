package cdn

import "net/http"

// KeptBytes is what h keeps of compressed bodies now.
func KeptBytes(h http.Handler) int {
	m := h.(*middleware)
	m.gz.mu.Lock()
	defer m.gz.mu.Unlock()
	return m.gz.used
}
