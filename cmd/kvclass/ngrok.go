package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kvclass/kvclass/tunnel"
)

// ngrokFlags are the flags node and proxy share to publish through ngrok.
type ngrokFlags struct {
	on         bool
	url        string
	connectURL string
	ca         string
}

func (f *ngrokFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "ngrok", false, "publish through ngrok (reads NGROK_AUTHTOKEN)")
	fs.StringVar(&f.url, "ngrok-url", "", "ngrok `URL` to use: a reserved or dev domain, e.g. https://my-name.ngrok-free.dev")
	fs.StringVar(&f.connectURL, "ngrok-connect-url", "", "connect the ngrok agent to another edge at `HOST:PORT` (like the agent's connect_url)")
	fs.StringVar(&f.ca, "ngrok-ca", "", "PEM `FILE` of root CAs for that edge (like the agent's root_cas)")
}

// options returns the tunnel options, or nil when ngrok is off. The
// authtoken comes from NGROK_AUTHTOKEN, never from a flag that ps would show.
// The one line a start prints while ngrok still holds this account's URL
// (an earlier session that crashed) goes to stderr.
func (f *ngrokFlags) options(stderr io.Writer) (*tunnel.Options, error) {
	if !f.on {
		if f.url != "" || f.connectURL != "" || f.ca != "" {
			return nil, usageError("--ngrok-url, --ngrok-connect-url and --ngrok-ca need --ngrok")
		}
		return nil, nil
	}
	token := os.Getenv("NGROK_AUTHTOKEN")
	if token == "" {
		return nil, usageError("%s", tunnel.Explain(tunnel.ErrNoAuthtoken))
	}
	return &tunnel.Options{
		URL:          f.url,
		ConnectURL:   f.connectURL,
		CAFile:       f.ca,
		Authtoken:    token,
		StartTimeout: 15 * time.Second,
		Version:      version,
		OnWait:       func(line string) { fmt.Fprintln(stderr, "kvclass: "+line) },
	}, nil
}
