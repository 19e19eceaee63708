package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/kvclass/kvclass/kvapi"
)

// refuse returns the refusal of a request: an HTTP status and a message for
// the person at the node.
func refuse(status int, format string, args ...any) *kvapi.Error {
	return kvapi.Errorf(status, fmt.Sprintf(format, args...))
}

// asRefusal turns any error into a refusal; unexpected errors become 500s
// with a generic message (none is expected).
func asRefusal(err error) *kvapi.Error {
	var ref *kvapi.Error
	if errors.As(err, &ref) {
		return ref
	}
	return refuse(http.StatusInternalServerError, "internal error")
}

// join admits a node or refuses it. sess is the node's websocket, nil for a
// plain HTTP join; interval is the heartbeat interval the node will be told.
func (r *Registry) join(ctx context.Context, req kvapi.JoinRequest, addr string, sess *wsSession, interval time.Duration) (kvapi.JoinReply, error) {
	if r.isClosed() {
		return kvapi.JoinReply{}, refuse(http.StatusServiceUnavailable, "the proxy is stopping; try again in a moment")
	}
	turn, err := r.limiter.enter(ctx, addr)
	if err != nil {
		r.log.Warn("join refused: too many failed joins", "addr", addr)
		return kvapi.JoinReply{}, refuse(http.StatusTooManyRequests, "too many failed joins from your address; wait a minute and check the class code")
	}
	tokenOK := digestOf(req.Token).equal(r.token)
	turn.done(!tokenOK)
	if !tokenOK {
		r.log.Warn("join refused: bad class code", "addr", addr, "node", kvapi.Truncate(req.Name, 40))
		if turn.limited {
			return kvapi.JoinReply{}, refuse(http.StatusTooManyRequests, "too many failed joins from your address; wait a minute and check the class code")
		}
		return kvapi.JoinReply{}, refuse(http.StatusUnauthorized, "bad class code")
	}
	if err := kvapi.CheckName(req.Name); err != nil {
		return kvapi.JoinReply{}, r.refused(addr, req.Name, refuse(http.StatusBadRequest, "%v", err))
	}
	var presented digest
	if req.Secret != "" {
		if !kvapi.ValidSecret(req.Secret) {
			return kvapi.JoinReply{}, r.refused(addr, req.Name, refuse(http.StatusBadRequest, "bad secret: expected %d-%d characters of base64url", kvapi.MinSecretLen, kvapi.MaxSecretLen))
		}
		presented = digestOf(req.Secret)
		if r.wasKicked(presented) {
			return kvapi.JoinReply{}, r.refused(addr, req.Name, refuse(http.StatusForbidden, "this node was removed from the class by the instructor"))
		}
	}
	nodeURL := kvapi.RelayURL(req.Name)
	if !req.Relay {
		u, err := r.policy.Check(ctx, req.URL)
		switch {
		case errors.Is(err, kvapi.ErrBadURL):
			return kvapi.JoinReply{}, r.refused(addr, req.Name, refuse(http.StatusBadRequest, "%v", err))
		case errors.Is(err, ErrNotAllowed):
			return kvapi.JoinReply{}, r.refused(addr, req.Name, refuse(http.StatusForbidden, "URL not allowed: %v", err))
		case err != nil:
			return kvapi.JoinReply{}, r.refused(addr, req.Name, refuse(http.StatusUnprocessableEntity, "cannot reach your node at %s: %v", kvapi.Truncate(req.URL, 200), err))
		}
		nodeURL = u.String()
	}
	r.mu.Lock()
	err = r.admissible(req.Name, addr, req.Secret != "", presented, nodeURL)
	r.mu.Unlock()
	if err != nil {
		return kvapi.JoinReply{}, r.refused(addr, req.Name, err)
	}
	if !req.Relay { // a relayed node is probed, and checked, when its relay connects
		if err := getHealth(ctx, r.probe, nodeURL, r.opts.UserAgent); err != nil {
			return kvapi.JoinReply{}, r.refused(addr, req.Name, refuse(http.StatusUnprocessableEntity,
				"cannot reach your node at %s/health: %v (is the node running, and is this the URL others can reach it at?)", nodeURL, err))
		}
		if err := r.checkContract(ctx, r.probe, nodeURL); err != nil {
			return kvapi.JoinReply{}, r.refused(addr, req.Name, contractRefusal(err, `run "kvclass conform `+nodeURL+`" for every case`))
		}
	}
	secret := req.Secret
	if secret == "" {
		secret = newSecret()
	}
	own := ""
	if req.Own != "" {
		own = kvapi.OwnProduct(req.Own)
	}
	if err := r.admit(req.Name, addr, nodeURL, secret, own, presented, req.Secret != "", req.Relay, sess, interval); err != nil {
		return kvapi.JoinReply{}, r.refused(addr, req.Name, err)
	}
	r.log.Info("node joined", "node", req.Name, "url", nodeURL, "addr", addr)
	return kvapi.JoinReply{Name: req.Name, Secret: secret, HeartbeatMS: interval.Milliseconds()}, nil
}

// refused logs a refused join and returns err.
func (r *Registry) refused(addr, name string, err error) error {
	r.log.Info("join refused", "addr", addr, "node", kvapi.Truncate(name, 40), "status", asRefusal(err).Status, "reason", err.Error())
	return err
}

// admissible decides whether a node joining from addr may take name. A
// joined name belongs to its node until a kick or the expiry, up or down:
// only that node's secret takes it again. A config place may be taken while
// its config node is down, or by the config node itself (same URL). Called
// with r.mu held.
func (r *Registry) admissible(name, addr string, hasSecret bool, secret digest, nodeURL string) error {
	if r.closed {
		return refuse(http.StatusServiceUnavailable, "the proxy is stopping; try again in a moment")
	}
	e := r.byName[name]
	switch {
	case e != nil && e.joined:
		if hasSecret && e.secret.equal(secret) {
			return nil // the same node rejoining
		}
		return refuse(http.StatusConflict, "the name %q is taken by another node of this class, which keeps it (up or down) until the instructor kicks it; choose another name with -n NAME", name)
	case r.locked:
		return refuse(http.StatusForbidden, "the class is locked by the instructor: only nodes that joined before may rejoin")
	case e == nil:
		if len(r.byName) >= r.opts.MaxNodes {
			return refuse(http.StatusServiceUnavailable, "the class is full (%d nodes)", r.opts.MaxNodes)
		}
		if n := r.joinedFrom(addr); n >= r.opts.MaxPerAddr {
			return refuse(http.StatusTooManyRequests, "%d nodes have already joined from your address; ask the instructor to raise --max-per-address", n)
		}
	case e.up && !sameURL(nodeURL, e.configURL):
		return refuse(http.StatusConflict, "the name %q belongs to a config node that is up; choose another name with -n NAME", name)
	}
	return nil
}

// joinedFrom counts the joined members admitted from addr. Called with r.mu
// held.
func (r *Registry) joinedFrom(addr string) int {
	key := addrKey(addr)
	n := 0
	for _, e := range r.byName {
		if e.joined && e.addr == key {
			n++
		}
	}
	return n
}

// admit commits a join: a new member, a rejoin of the same node (its URL may
// change), or a joined node taking a down config node's place.
func (r *Registry) admit(name, addr, nodeURL, secret, own string, presented digest, hasSecret, relayed bool, sess *wsSession, interval time.Duration) error {
	return r.update(func(d *delivery) error {
		if err := r.admissible(name, addr, hasSecret, presented, nodeURL); err != nil {
			return err
		}
		now := r.now()
		e := r.byName[name]
		isNew := e == nil
		if isNew {
			e = &entry{name: name}
			r.byName[name] = e
		}
		old := e.member()
		sameNode := e.joined && hasSecret && e.secret.equal(presented)
		if e.session != nil && e.session != sess {
			reason := "the name was taken over by another node"
			if sameNode {
				reason = "replaced by a newer connection of the same node"
			}
			d.closeSession(e, kvapi.CloseReplaced, reason)
		}
		e.joined, e.secret, e.secretText, e.url, e.addr = true, digestOf(secret), secret, nodeURL, addrKey(addr)
		e.interval, e.lastBeat, e.session = interval, now, sess
		e.own, e.nodeDown = own, false // a joined node starts up; one that is down says so again
		if e.relay && !relayed && e.dialer != nil {
			d.closers = append(d.closers, e.dialer) // reached at a URL now
			e.dialer = nil
		}
		e.relay = relayed
		switch {
		case e.relay && e.dialer == nil:
			if e.up || e.reason != reasonRelayWaiting {
				e.up, e.reason, e.since = false, reasonRelayWaiting, now
			}
		case isNew || !e.up:
			e.up, e.reason, e.since = true, "", now
		}
		if isNew {
			d.changes = append(d.changes, Change{Kind: ChangeJoin, Member: e.member()})
		} else {
			d.changes = diff(old, e.member())
			d.listChanged = old != e.member()
		}
		return nil
	})
}

func (r *Registry) wasKicked(s digest) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.kicked[s]
	return ok
}

func (r *Registry) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// beat records a heartbeat for e and marks it up when it was down. Called
// with r.mu held.
func (r *Registry) beat(e *entry, d *delivery) {
	now := r.now()
	e.lastBeat = now
	if !e.up && !e.nodeDown && (!e.relay || e.dialer != nil) {
		old := e.member()
		e.up, e.reason, e.since = true, "", now
		d.changes = append(d.changes, diff(old, e.member())...)
	}
}

// markDown marks e down with reason. Called with r.mu held.
func (r *Registry) markDown(e *entry, reason string, d *delivery) {
	if !e.up && e.reason == reason {
		return
	}
	old := e.member()
	if e.up {
		e.up, e.since = false, r.now()
	}
	e.reason = reason
	d.changes = append(d.changes, diff(old, e.member())...)
}

// nodeAuth finds the joined node name whose secret is secret.
func (r *Registry) nodeAuth(name, secret string) (*entry, error) {
	e := r.byName[name]
	if e == nil || !e.joined {
		return nil, refuse(http.StatusNotFound, "no node %q has joined; join again", kvapi.Truncate(name, 40))
	}
	if !e.secret.equal(digestOf(secret)) {
		return nil, refuse(http.StatusForbidden, "the secret does not match node %q", name)
	}
	return e, nil
}

// heartbeat handles POST /registry/heartbeat.
func (r *Registry) heartbeat(name, secret string) (interval time.Duration, err error) {
	err = r.update(func(d *delivery) error {
		e, err := r.nodeAuth(name, secret)
		if err != nil {
			return err
		}
		r.beat(e, d)
		interval = e.interval
		return nil
	})
	return interval, err
}

// leave handles POST /registry/leave: the node is stopping. It is marked down
// at once with reason "stopped" and keeps its place until the expiry.
func (r *Registry) leave(name, secret, why string) error {
	err := r.update(func(d *delivery) error {
		e, err := r.nodeAuth(name, secret)
		if err != nil {
			return err
		}
		d.closeSession(e, kvapi.CloseLeft, "the node left")
		r.markDown(e, stoppedReason(why), d)
		return nil
	})
	if err == nil {
		r.log.Info("node left", "node", name)
	}
	return err
}

// stoppedReason is the reason a leaving node is down: "stopped", or
// "stopped: WHY" when the node gave a reason (cleaned for the page).
func stoppedReason(why string) string {
	why = cleanReason(why)
	if why == "" {
		return reasonStopped
	}
	return reasonStopped + ": " + why
}

// cleanReason makes a reason a node sent fit for the page and the logs: no
// control characters, at most kvapi.MaxReasonLen bytes.
func cleanReason(why string) string {
	why = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(why))
	return kvapi.Truncate(why, kvapi.MaxReasonLen)
}

// Reasons a member is down.
const (
	reasonRelayWaiting = "waiting for its relay connection"
	reasonRelayLost    = "its relay connection dropped"
	reasonStopped      = "stopped"
	reasonMissed       = "missed heartbeats"
	reasonReported     = "the node reports it is down" // a Status without a reason
	reasonContract     = "fails the contract"          // its relay was refused: "fails the contract at core/CASE"
)
