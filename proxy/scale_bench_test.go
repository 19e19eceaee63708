package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/node"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/web"
)

// BenchmarkClassScale runs the page's target class on one machine: 200 real
// nodes holding 100k keys in all, a proxy following every node's /ws, and 50
// viewers on the proxy's /ws, while clients put 1,000 keys a second through
// the proxy. It reports the snapshot a viewer downloads and the latency from
// a put's answer to each viewer's receipt of its event (node hub → proxy
// follower → proxy hub → viewer). The product goal is p99 under 1 s; the hub
// alone is measured by web's BenchmarkHubFanout.
//
//	go test -run '^$' -bench ClassScale -benchtime 1x ./proxy/
func BenchmarkClassScale(b *testing.B) {
	const (
		nodes     = 200
		keysEach  = 500
		viewers   = 50
		rate      = 1000 // puts per second
		putWindow = 3 * time.Second
	)
	for b.Loop() {
		f := &File{Mode: Sharding, WriteQuorum: 1}
		for i := range nodes {
			n, err := node.New(node.Config{Name: "n" + strconv.Itoa(i)})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if err := n.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { cancel(); n.Wait() })
			for k := range keysEach {
				n.Store().Put("seed-"+strconv.Itoa(k), `"a value of a realistic length, about forty"`)
			}
			f.Nodes = append(f.Nodes, registry.Static{Name: n.Name(), URL: n.LocalURL()})
		}
		p := startProxy(b, Config{File: f, HealthInterval: 5 * time.Second})
		testwait.For(b, "the proxy following every node", func() bool {
			total := 0
			p.mu.Lock()
			for _, fl := range p.followers {
				c, _ := fl.view()
				total += c
			}
			p.mu.Unlock()
			return total == nodes*keysEach
		})
		start := time.Now()
		snap, _ := json.Marshal(p.snapshot())
		b.ReportMetric(float64(len(snap))/1024, "snapshot-KiB")
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "snapshot-ms")

		wsURL := "ws" + strings.TrimPrefix(p.LocalURL(), "http") + "/ws"
		var mu sync.Mutex
		sent := map[string]time.Time{}
		var lat []time.Duration
		var wg sync.WaitGroup
		conns := make([]*websocket.Conn, viewers)
		for v := range viewers {
			conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
			if err != nil {
				b.Fatal(err)
			}
			conns[v] = conn
			if _, _, err := conn.ReadMessage(); err != nil { // the snapshot
				b.Fatal(err)
			}
			wg.Go(func() {
				var m web.Batch
				for {
					_, data, err := conn.ReadMessage()
					if err != nil {
						return
					}
					now := time.Now()
					m.Events = m.Events[:0]
					if json.Unmarshal(data, &m) != nil {
						continue
					}
					mu.Lock()
					for _, ev := range m.Events {
						if t, ok := sent[ev.Key]; ok && ev.Type == web.EventPut {
							lat = append(lat, now.Sub(t))
						}
					}
					mu.Unlock()
				}
			})
		}
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		tick := time.NewTicker(time.Second / rate)
		deadline := time.Now().Add(putWindow)
		var puts sync.WaitGroup
		for i := 0; time.Now().Before(deadline); i++ {
			<-tick.C
			key := "live-" + strconv.Itoa(i)
			puts.Go(func() {
				resp, err := hc.Post(p.LocalURL()+"/put?key="+key, "application/json", strings.NewReader(`{"value": 1}`))
				if err != nil {
					return
				}
				resp.Body.Close()
				mu.Lock()
				sent[key] = time.Now()
				mu.Unlock()
			})
		}
		tick.Stop()
		puts.Wait()
		time.Sleep(time.Second) // let the last events arrive
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
		mu.Lock()
		slices.Sort(lat)
		n := len(lat)
		mu.Unlock()
		if n == 0 {
			b.Fatal("no event reached a viewer")
		}
		b.ReportMetric(float64(n)/float64(len(sent)*viewers), "delivered-fraction")
		b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
	}
}
