package registry

import (
	"fmt"

	"github.com/kvclass/kvclass/kvapi"
)

// Saved is a joined member as the proxy's state file keeps it, so that a
// restarted proxy holds every node's name and place until the node rejoins
// with its secret.
type Saved struct {
	// Name is the node's name.
	Name string `json:"name"`
	// URL is where the node was last reached.
	URL string `json:"url"`
	// Secret is the node's join secret: it proves the node when it rejoins,
	// and the proxy presents it to the node for the class's reset. The
	// state file that keeps it is readable by its owner only.
	Secret string `json:"secret"`
	// Addr is the address the node joined from, for MaxPerAddr.
	Addr string `json:"addr,omitempty"`
	// Relay marks a node reached through the relay (URL "relay:NAME").
	Relay bool `json:"relay,omitempty"`
}

// reasonRestarted is why a restored member is down until it rejoins.
const reasonRestarted = "waiting to rejoin after the proxy restarted"

// restore places the saved members, down, in their places. Called by New
// before the list is built.
func (r *Registry) restore(saved []Saved) error {
	now := r.now()
	for _, s := range saved {
		if err := kvapi.CheckName(s.Name); err != nil {
			return fmt.Errorf("registry: saved node: %w", err)
		}
		nodeURL := kvapi.RelayURL(s.Name)
		if !s.Relay {
			u, err := kvapi.ParseNodeURL(s.URL)
			if err != nil {
				return fmt.Errorf("registry: saved node %q: %w", s.Name, err)
			}
			nodeURL = u.String()
		}
		if !kvapi.ValidSecret(s.Secret) {
			return fmt.Errorf("registry: saved node %q has a malformed secret", s.Name)
		}
		e := r.byName[s.Name]
		switch {
		case e == nil:
			e = &entry{name: s.Name}
			r.byName[s.Name] = e
		case e.joined:
			return fmt.Errorf("registry: saved node %q appears twice", s.Name)
		}
		e.joined, e.url, e.secret, e.secretText, e.addr, e.relay = true, nodeURL, digestOf(s.Secret), s.Secret, s.Addr, s.Relay
		e.up, e.reason, e.since, e.interval = false, reasonRestarted, now, r.opts.Heartbeat
	}
	if len(r.byName) > r.opts.MaxNodes {
		return fmt.Errorf("registry: %d saved and config nodes exceed the limit of %d nodes", len(r.byName), r.opts.MaxNodes)
	}
	return nil
}

// Saved returns every joined member, up or down, for the proxy's state file:
// what a restarted proxy passes back as Options.Restore.
func (r *Registry) Saved() []Saved {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Saved
	for _, m := range r.list {
		if e := r.byName[m.Name]; e != nil && e.joined {
			out = append(out, Saved{Name: e.name, URL: e.url, Secret: e.secretText, Addr: e.addr, Relay: e.relay})
		}
	}
	return out
}

// Secret returns the join secret of the joined node name, "" for a config
// node or an unknown name. The proxy presents it to the node as its
// authority for actions only the proxy may take (POST /reset).
func (r *Registry) Secret(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.byName[name]; e != nil && e.joined {
		return e.secretText
	}
	return ""
}

// SetLocked locks or unlocks the class (POST /admin/lock, /admin/unlock).
// While it is locked, only nodes the registry knows may join: new names are
// refused with 403, known nodes rejoin with their secrets as always.
func (r *Registry) SetLocked(locked bool) {
	r.mu.Lock()
	r.locked = locked
	r.mu.Unlock()
	r.log.Info("class lock", "locked", locked)
}

// Locked reports whether the class is locked.
func (r *Registry) Locked() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.locked
}
