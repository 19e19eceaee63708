package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/web"
)

// maxAdminBody bounds an admin request's body.
const maxAdminBody = 4 << 10

// adminAction is one instructor action, POST /admin/NAME. It gets the
// request's body (at most maxAdminBody bytes; empty when none was sent).
type adminAction func(p *Proxy, w http.ResponseWriter, body []byte)

// adminActions are the instructor's API; each needs
// "Authorization: Bearer ADMIN_TOKEN":
//
//	POST /admin/mode   {"mode": "sharding"|"replication"}  switch live
//	POST /admin/kick   {"name": "kv2"}                     remove a node
//	POST /admin/reset                                      clear every node's data
//	POST /admin/lock                                       admit only known nodes
//	POST /admin/unlock                                     admit new nodes again
//	POST /admin/placement {"placement": "ring", "vnodes": 64, "replicas": 1}
//	POST /admin/fault  {"node", "delay_ms", "drop", "pause"}  DELETE /admin/fault[?node=NAME]
//	POST /admin/replication {"replicas", "read_quorum", "write_quorum", "read_repair",
//	                         "hinted_handoff", "anti_entropy", "pin_read"}
//	POST /admin/rebalance                                  move misplaced keys to their owners
//	POST /admin/check  {"duration", "clients", "keys"}     a linearizability check on the proxy
var adminActions = map[string]adminAction{
	"/admin/mode":        (*Proxy).adminMode,
	"/admin/kick":        (*Proxy).adminKick,
	"/admin/reset":       func(p *Proxy, w http.ResponseWriter, _ []byte) { p.reset(w) },
	"/admin/lock":        func(p *Proxy, w http.ResponseWriter, _ []byte) { p.adminLock(w, true) },
	"/admin/unlock":      func(p *Proxy, w http.ResponseWriter, _ []byte) { p.adminLock(w, false) },
	"/admin/placement":   (*Proxy).adminPlacement,
	"/admin/fault":       (*Proxy).adminFault,
	"/admin/replication": (*Proxy).adminReplication,
	"/admin/rebalance":   (*Proxy).adminRebalance,
	"/admin/check":       (*Proxy).adminCheck,
}

// admin serves /admin/: it checks the admin token, the action and the
// method, reads the body, and runs the action.
func (p *Proxy) admin(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kvclass admin"`)
		kvapi.WriteError(w, kvapi.Errorf(http.StatusUnauthorized, "This needs the instructor's admin token: Authorization: Bearer TOKEN."))
		return
	}
	if r.URL.Path == "/admin/fault" && r.Method == http.MethodDelete {
		p.clearFaults(w, r)
		return
	}
	action := adminActions[r.URL.Path]
	if action == nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "No such admin action. Try "+adminPaths()+"."))
		return
	}
	if r.Method != http.MethodPost {
		kvapi.WriteError(w, kvapi.MethodNotAllowed(r.Method, "POST"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil || len(body) > maxAdminBody {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusRequestEntityTooLarge, "The body is too large."))
		return
	}
	action(p, w, body)
}

// adminPaths lists the admin actions for messages.
func adminPaths() string {
	paths := make([]string, 0, len(adminActions))
	for path := range adminActions {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	return strings.Join(paths, ", ")
}

// decodeAdmin reads an admin body into v, answering 400 when it is not the
// JSON object the action needs.
func decodeAdmin(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Malformed body: "+err.Error()+"."))
		return false
	}
	return true
}

func (p *Proxy) adminMode(w http.ResponseWriter, body []byte) {
	var req struct {
		Mode string `json:"mode"`
	}
	if !decodeAdmin(w, body, &req) {
		return
	}
	mode, err := ParseMode(req.Mode)
	if err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusBadRequest, "Unknown mode "+strconv.Quote(req.Mode)+": use sharding or replication."))
		return
	}
	p.setMode(mode)
	p.hub.Publish(web.Event{Type: web.EventMode, Mode: mode.String()})
	p.log.Info("mode changed", "mode", mode)
	kvapi.WriteMessage(w, "Mode is now "+mode.String()+".")
}

func (p *Proxy) adminKick(w http.ResponseWriter, body []byte) {
	var req struct {
		Name string `json:"name"`
	}
	if !decodeAdmin(w, body, &req) {
		return
	}
	if err := p.reg.Kick(req.Name); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, registry.ErrUnknownNode) {
			status = http.StatusNotFound
		}
		kvapi.WriteError(w, kvapi.Errorf(status, "Cannot kick "+strconv.Quote(req.Name)+": "+err.Error()+"."))
		return
	}
	kvapi.WriteMessage(w, "Node "+req.Name+" removed.")
}

func (p *Proxy) adminLock(w http.ResponseWriter, locked bool) {
	p.setLocked(locked)
	if locked {
		kvapi.WriteMessage(w, "The class is locked: only nodes that joined before may rejoin.")
		return
	}
	kvapi.WriteMessage(w, "The class is open: new nodes may join with the class code.")
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
// outcome. A joined node takes a reset only from its proxy: the proxy
// presents the node's join secret.
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
		secret := p.reg.Secret(b.name)
		wg.Go(func() {
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			res := "ok"
			if err := b.client.post("/reset", secret, resp); err != nil {
				res = err.Error()
			} else if resp.StatusCode() != http.StatusOK {
				res = "answered " + strconv.Itoa(resp.StatusCode())
			}
			mu.Lock()
			results[b.name] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	p.version.Add(1)
	kvapi.WriteValue(w, http.StatusOK, struct {
		Message string            `json:"message"`
		Nodes   map[string]string `json:"nodes"`
	}{"Reset sent to every up node.", results})
}
