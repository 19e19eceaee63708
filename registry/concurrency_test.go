package registry_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvclass/kvclass/internal/testwait"
	"github.com/kvclass/kvclass/registry"
	"github.com/kvclass/kvclass/registry/join"
)

// consistent reports what is wrong with a member list: config places first,
// joined nodes ordered by name after them, no name twice.
func consistent(list []registry.Member) error {
	seen := make(map[string]bool, len(list))
	for i, m := range list {
		if seen[m.Name] {
			return fmt.Errorf("%s appears twice", m.Name)
		}
		seen[m.Name] = true
		if i > 0 && !m.Static && !list[i-1].Static && list[i-1].Name >= m.Name {
			return fmt.Errorf("%s before %s", list[i-1].Name, m.Name)
		}
		if i > 0 && m.Static && !list[i-1].Static {
			return fmt.Errorf("config node %s after joined node %s", m.Name, list[i-1].Name)
		}
	}
	return nil
}

// TestManyNodesConcurrently: 200 nodes join over websockets at once,
// then leave or vanish at once, while readers check the list.
func TestManyNodesConcurrently(t *testing.T) {
	inBubble(t, func(t *testing.T, w *world) {
		const nodes = 200
		opts := testOptions()
		opts.MaxPerAddr = nodes // every test node joins from 127.0.0.1
		opts.Static = []registry.Static{{Name: "cfg", URL: w.newNode().url}}
		var calls, overlap atomic.Int32
		var listErr atomic.Value
		opts.OnChange = func(list []registry.Member) {
			if calls.Add(1) != 1 {
				overlap.Store(1)
			}
			if err := consistent(list); err != nil {
				listErr.Store(err.Error())
			}
			calls.Add(-1)
		}
		c := w.newClass(opts)
		n := w.newNode()

		stop := make(chan struct{})
		var readers sync.WaitGroup
		for range 2 {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := consistent(c.reg.Members()); err != nil {
						listErr.Store(err.Error())
					}
					time.Sleep(time.Millisecond)
				}
			})
		}

		sessions := make([]*join.Session, nodes)
		var wg sync.WaitGroup
		errs := make(chan error, nodes)
		for i := range nodes {
			wg.Go(func() {
				s, err := join.Join(t.Context(), c.joinOpts(fmt.Sprintf("n%03d", i), n.url))
				if err != nil {
					errs <- err
					return
				}
				sessions[i] = s
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("join: %v", err)
		}
		if got := len(c.reg.Members()); got != nodes+1 {
			t.Fatalf("%d members, want %d", got, nodes+1)
		}
		for i, s := range sessions {
			wg.Go(func() {
				if i%2 == 0 {
					s.Close()
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), waitFor)
				defer cancel()
				if err := s.Leave(ctx); err != nil {
					t.Errorf("leave %s: %v", s.Name(), err)
				}
			})
		}
		wg.Wait()
		testwait.For(t, "every joined node down", func() bool {
			list := c.reg.Members()
			return len(list) == nodes+1 && !slices.ContainsFunc(list[1:], func(m registry.Member) bool { return m.Up })
		})
		close(stop)
		readers.Wait()
		if v := listErr.Load(); v != nil {
			t.Fatalf("inconsistent list: %v", v)
		}
		if overlap.Load() != 0 {
			t.Fatal("OnChange calls overlapped")
		}
		stopped := 0
		for _, m := range c.reg.Members()[1:] {
			if m.Reason == "stopped" {
				stopped++
			}
		}
		if stopped != nodes/2 {
			t.Fatalf("%d nodes stopped, want %d", stopped, nodes/2)
		}
	})
}
