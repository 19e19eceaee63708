package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/web"
)

// maxAdminBody bounds an admin request's body.
const maxAdminBody = 4 << 10

// admin serves the instructor's API, which needs
// "Authorization: Bearer ADMIN_TOKEN":
//
//	POST /admin/mode  {"mode": "sharding"|"replication"}  switch live
//	POST /admin/kick  {"name": "kv2"}                     remove a node
//	POST /admin/reset                                     clear every node's data
func (p *Proxy) admin(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kvclass admin"`)
		kvapi.WriteError(w, kvapi.Errorf(http.StatusUnauthorized, "This needs the instructor's admin token: Authorization: Bearer TOKEN."))
		return
	}
	switch r.URL.Path {
	case "/admin/mode", "/admin/kick", "/admin/reset":
	default:
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No such admin action. Try /admin/mode, /admin/kick or /admin/reset."))
		return
	}
	if r.Method != http.MethodPost {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "POST"))
		return
	}
	var req struct {
		Mode string `json:"mode"`
		Name string `json:"name"`
	}
	if r.URL.Path != "/admin/reset" {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
		if err != nil || len(body) > maxAdminBody {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusRequestEntityTooLarge, "The body is too large."))
			return
		}
		if err := json.Unmarshal(body, &req); err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Malformed body: "+err.Error()+"."))
			return
		}
	}
	switch r.URL.Path {
	case "/admin/mode":
		mode, err := ParseMode(req.Mode)
		if err != nil {
			kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Unknown mode "+strconv.Quote(req.Mode)+": use sharding or replication."))
			return
		}
		p.setMode(mode)
		p.hub.Publish(web.Event{Type: web.EventMode, Mode: mode.String()})
		p.log.Info("mode changed", "mode", mode)
		kvapi.WriteMessage(w, "Mode is now "+mode.String()+".")
	case "/admin/kick":
		if err := p.reg.Kick(req.Name); err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, registry.ErrUnknownNode) {
				status = http.StatusNotFound
			}
			kvapi.WriteError(w, kvapi.Errorf(status, "Cannot kick "+strconv.Quote(req.Name)+": "+err.Error()+"."))
			return
		}
		kvapi.WriteMessage(w, "Node "+req.Name+" removed.")
	case "/admin/reset":
		p.reset(w)
	}
}

func (p *Proxy) authorized(r *http.Request) bool {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(h[len(prefix):]), []byte(p.cfg.AdminToken)) == 1
}

// reset clears the data on every up node at once and reports each node's
// outcome.
func (p *Proxy) reset(w http.ResponseWriter) {
	t := p.table.Load()
	results := make(map[string]string, len(t.nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, b := range t.nodes {
		if !b.up {
			mu.Lock()
			results[b.name] = "skipped: down (" + b.reason + ")"
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			res := "ok"
			if err := b.client.call(fasthttp.MethodPost, "/reset", "", nil, resp); err != nil {
				res = err.Error()
			} else if resp.StatusCode() != http.StatusOK {
				res = "answered " + strconv.Itoa(resp.StatusCode())
			}
			mu.Lock()
			results[b.name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	p.version.Add(1)
	body, _ := json.Marshal(struct {
		Message string            `json:"message"`
		Nodes   map[string]string `json:"nodes"`
	}{"Reset sent to every up node.", results})
	kvapi.WriteJSON(w, http.StatusOK, append(body, '\n'))
}
