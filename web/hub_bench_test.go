package web

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkHubFanout measures the latency from Publish to a viewer's
// receipt with 50 websocket viewers on loopback and 1,000 events a second,
// the load of a busy class. Each iteration is one event, published on a
// 1 ms schedule, so the default run lasts about a second. It reports the
// median, p99 and worst latency over every event at every viewer; the goal
// is a p99 under 100 ms.
//
//	go test -run '^$' -bench BenchmarkHubFanout ./web/
func BenchmarkHubFanout(b *testing.B) {
	const viewers = 50
	const interval = time.Millisecond // 1,000 events/s
	hub, srv := startHub(b, HubOptions{})

	latencies := make([][]time.Duration, viewers)
	counts := make([]int, viewers)
	var mu sync.Mutex // guards counts
	var wg sync.WaitGroup
	for i := range viewers {
		conn := dial(b, srv, nil)
		read(b, conn) // the snapshot
		_ = conn.SetReadDeadline(time.Time{})
		wg.Go(func() {
			var m struct {
				Events []struct {
					Key string `json:"key"`
				} `json:"events"`
			}
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					return // the hub closed
				}
				now := time.Now().UnixNano()
				m.Events = m.Events[:0]
				if json.Unmarshal(data, &m) != nil {
					continue
				}
				for _, ev := range m.Events {
					sent, err := strconv.ParseInt(ev.Key, 10, 64)
					if err == nil {
						latencies[i] = append(latencies[i], time.Duration(now-sent))
					}
				}
				mu.Lock()
				counts[i] += len(m.Events)
				mu.Unlock()
			}
		})
	}

	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		hub.Publish(Event{Type: EventPut, Node: "kv1", Key: strconv.FormatInt(time.Now().UnixNano(), 10), Value: "value", Size: 5, Count: i})
	}
	elapsed := time.Since(start)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := slices.Min(counts) >= b.N
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("viewers did not receive all %d events in time (or one was dropped)", b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	hub.Close()
	wg.Wait()

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
