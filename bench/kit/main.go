// Command kit is bench/run.sh's toolbox: free ports, a fleet of kvclass
// nodes in one process joined to a proxy (the class-scale benchmark's 200
// students), and a set of page viewers on a /ws stream. It uses kvclass's
// node package as any program embedding a node would, and nothing else of
// kvclass, so the proxy can change under it.
//
//	kit ports N                                    print N free TCP ports on 127.0.0.1
//	kit fleet -n 200 -join URL -token CODE         run 200 joined nodes until SIGTERM
//	kit viewers -n 50 -url ws://HOST:PORT/ws       hold 50 viewers until SIGTERM
//
// fleet and viewers print "ready" on stdout once everything is up, and a
// summary on stderr when they stop.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/node"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "ports":
		err = ports(os.Args[2:])
	case "fleet":
		err = fleet(os.Args[2:])
	case "viewers":
		err = viewers(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kit:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kit ports N | kit fleet -n N -join URL -token CODE | kit viewers -n N -url WSURL")
	os.Exit(2)
}

// ports prints n distinct free ports: it holds n listeners on port 0 at once,
// so the kernel hands out different ports, then closes them.
func ports(args []string) error {
	if len(args) != 1 {
		usage()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return fmt.Errorf("ports: %q is not a count", args[0])
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// untilSignal returns a context that ends on SIGTERM or SIGINT.
func untilSignal() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
}

// fleet starts n nodes on free ports, each joined to the proxy, a few at a
// time, and runs them until SIGTERM.
func fleet(args []string) error {
	fs := flag.NewFlagSet("fleet", flag.ExitOnError)
	n := fs.Int("n", 200, "nodes to start")
	joinURL := fs.String("join", "", "the proxy's URL")
	token := fs.String("token", "", "the class code")
	prefix := fs.String("prefix", "s", "node names are PREFIX0..PREFIX(n-1)")
	parallel := fs.Int("parallel", 16, "nodes starting at once")
	fs.Parse(args)
	if *joinURL == "" || *token == "" {
		return errors.New("fleet needs -join and -token")
	}
	ctx, stop := untilSignal()
	defer stop()
	nodes := make([]*node.Node, *n)
	errs := make([]error, *n)
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range *n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			nd, err := node.New(node.Config{Name: *prefix + strconv.Itoa(i), Join: *joinURL, Token: *token})
			if err == nil {
				err = nd.Start(ctx)
			}
			if err != nil {
				errs[i] = fmt.Errorf("node %s%d: %w", *prefix, i, err)
				return
			}
			nodes[i] = nd
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		stop()
		waitAll(nodes)
		return err
	}
	fmt.Printf("ready %d nodes in %.1fs\n", *n, time.Since(start).Seconds())
	<-ctx.Done()
	waitAll(nodes)
	return nil
}

func waitAll(nodes []*node.Node) {
	for _, nd := range nodes {
		if nd != nil {
			nd.Wait()
		}
	}
}

// viewers opens n websockets on url, as the page does (permessage-deflate
// offered, as browsers do), reads everything and discards it.
func viewers(args []string) error {
	fs := flag.NewFlagSet("viewers", flag.ExitOnError)
	n := fs.Int("n", 50, "viewers")
	url := fs.String("url", "", "the /ws URL, ws://HOST:PORT/ws")
	fs.Parse(args)
	if *url == "" {
		return errors.New("viewers needs -url")
	}
	ctx, stop := untilSignal()
	defer stop()
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: 10 * time.Second}
	var msgs, bytes, dropped atomic.Int64
	conns := make([]*websocket.Conn, 0, *n)
	var wg sync.WaitGroup
	for range *n {
		c, _, err := d.DialContext(ctx, *url, nil)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return err
		}
		if _, data, err := c.ReadMessage(); err != nil { // the snapshot
			c.Close()
			return fmt.Errorf("snapshot: %w", err)
		} else {
			bytes.Add(int64(len(data)))
		}
		conns = append(conns, c)
		wg.Go(func() {
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					if ctx.Err() == nil {
						dropped.Add(1)
					}
					return
				}
				msgs.Add(1)
				bytes.Add(int64(len(data)))
			}
		})
	}
	fmt.Printf("ready %d viewers\n", *n)
	<-ctx.Done()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	fmt.Fprintf(os.Stderr, "viewers: %d messages, %d bytes (uncompressed) received; %d viewers dropped by the server\n", msgs.Load(), bytes.Load(), dropped.Load())
	return nil
}
