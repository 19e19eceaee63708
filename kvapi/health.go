package kvapi

import "net/http"

// ServeHealth answers GET /health with "Hi from NAME", as the seed did.
func ServeHealth(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		WriteError(w, MethodNotAllowed(r.Method, "GET"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("Hi from " + name))
}
