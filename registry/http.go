package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/kvclass/kvclass/kvapi"
)

// maxBody bounds every request body and websocket message the registry reads.
const maxBody = 4 << 10

// Handler serves the registry API: POST /registry/join, POST
// /registry/heartbeat, POST /registry/leave and GET /registry/ws. Mount it at
// "/registry/" on the proxy's mux. Every answer, errors included, is JSON.
func (r *Registry) Handler() http.Handler { return http.HandlerFunc(r.serveHTTP) }

func (r *Registry) serveHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch req.URL.Path {
	case "/registry/join":
		if allowMethod(w, req, http.MethodPost) {
			r.serveJoin(w, req)
		}
	case "/registry/heartbeat":
		if allowMethod(w, req, http.MethodPost) {
			r.serveHeartbeat(w, req)
		}
	case "/registry/leave":
		if allowMethod(w, req, http.MethodPost) {
			r.serveLeave(w, req)
		}
	case "/registry/ws":
		if allowMethod(w, req, http.MethodGet) {
			r.serveWS(w, req)
		}
	case "/registry/relay":
		if allowMethod(w, req, http.MethodGet) {
			r.serveRelay(w, req)
		}
	default:
		writeError(w, http.StatusNotFound, "no such registry endpoint; see /registry/join, /registry/heartbeat, /registry/leave, /registry/ws, /registry/relay")
	}
}

// allowMethod answers 405 with Allow unless req uses method.
func allowMethod(w http.ResponseWriter, req *http.Request, method string) bool {
	if req.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("use %s", method))
	return false
}

func (r *Registry) serveJoin(w http.ResponseWriter, req *http.Request) {
	var jr kvapi.JoinRequest
	if err := decodeBody(w, req, &jr); err != nil {
		writeRefusal(w, err)
		return
	}
	reply, err := r.join(req.Context(), jr, r.opts.ClientAddr(req), nil, r.opts.HTTPHeartbeat)
	if err != nil {
		writeRefusal(w, err)
		return
	}
	kvapi.WriteValue(w, http.StatusOK, reply)
}

func (r *Registry) serveHeartbeat(w http.ResponseWriter, req *http.Request) {
	var nr kvapi.NodeRequest
	if err := decodeBody(w, req, &nr); err != nil {
		writeRefusal(w, err)
		return
	}
	interval, err := r.heartbeat(nr.Name, nr.Secret)
	if err != nil {
		writeRefusal(w, err)
		return
	}
	kvapi.WriteValue(w, http.StatusOK, map[string]any{"name": nr.Name, "heartbeat_ms": interval.Milliseconds()})
}

func (r *Registry) serveLeave(w http.ResponseWriter, req *http.Request) {
	var nr kvapi.NodeRequest
	if err := decodeBody(w, req, &nr); err != nil {
		writeRefusal(w, err)
		return
	}
	if err := r.leave(nr.Name, nr.Secret, nr.Reason); err != nil {
		writeRefusal(w, err)
		return
	}
	kvapi.WriteValue(w, http.StatusOK, map[string]any{"name": nr.Name, "status": "down", "reason": reasonStopped})
}

// decodeBody reads a JSON object of at most maxBody bytes into v.
func decodeBody(w http.ResponseWriter, req *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return refuse(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", maxBody)
		}
		return refuse(http.StatusBadRequest, "cannot read the body")
	}
	return decodeObject(data, v)
}

// decodeObject parses a JSON object into v, with messages that name the
// problem without Go type names.
func decodeObject(data []byte, v any) error {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return refuse(http.StatusBadRequest, "the body must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return refuse(http.StatusBadRequest, "field %q must be a %s", typeErr.Field, typeErr.Type.Kind())
		}
		return refuse(http.StatusBadRequest, "malformed JSON: %s", kvapi.Truncate(err.Error(), 100))
	}
	return nil
}

func writeRefusal(w http.ResponseWriter, err error) {
	kvapi.WriteError(w, asRefusal(err))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	kvapi.WriteError(w, kvapi.Errorf(status, msg))
}
