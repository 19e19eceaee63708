package tunnel

import (
	"context"
	"errors"
	"fmt"

	"golang.ngrok.com/ngrok/v2"
	"golang.ngrok.com/ngrok/v2/rpc"
)

// onRPC answers the commands ngrok's dashboard and API send to the agent
// (stop, restart, update). It must not block: the dashboard waits for the
// answer. An error is the refusal the dashboard shows; after a nil answer to
// stop or restart the SDK ends the session.
func (t *Tunnel) onRPC(_ context.Context, _ ngrok.AgentSession, req rpc.Request) ([]byte, error) {
	t.mu.Lock()
	url := t.url
	t.mu.Unlock()
	switch req.Method() {
	case rpc.StopAgentMethod:
		if t.onStop == nil {
			return nil, errors.New("this kvclass cannot be stopped remotely: stop it where it runs, with Ctrl-C")
		}
		t.mu.Lock()
		t.stopped = true
		t.mu.Unlock()
		t.log.Warn("ngrok agent stopped from the ngrok dashboard", "url", url)
		t.report(State{State: StateOffline, URL: url, Err: errStopped})
		go t.onStop()
		return nil, nil
	case rpc.RestartAgentMethod:
		t.mu.Lock()
		t.restarting = true
		if t.sess != nil {
			// The SDK ends this session once we answer; a re-bind opens
			// the next one.
			t.sess.dead.Store(true)
		}
		t.mu.Unlock()
		t.log.Warn("ngrok agent restarted from the ngrok dashboard", "url", url)
		if t.onRestart != nil {
			go t.onRestart()
		}
		return nil, nil
	case rpc.UpdateAgentMethod:
		return nil, errors.New("not supported: kvclass does not update itself; install the new version by hand")
	}
	return nil, fmt.Errorf("not supported: %s", req.Method())
}

// errStopped is the reason reported when the agent is stopped from the
// dashboard.
var errStopped = &Error{msg: "ngrok: this agent was stopped from the ngrok dashboard (https://dashboard.ngrok.com/agents): start kvclass again to come back"}
