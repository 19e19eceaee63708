package node

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

func TestStorePutGetDelete(t *testing.T) {
	s := NewStore(0)
	if n, err := s.Put("a", `"1"`); err != nil || n != 1 {
		t.Fatalf("Put = %d, %v; want 1, nil", n, err)
	}
	if n, _ := s.Put("a", `2`); n != 1 {
		t.Fatalf("overwrite changed the count to %d", n)
	}
	if v, ok := s.Get("a"); !ok || v != "2" {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	if ok, n := s.Delete("a"); !ok || n != 0 {
		t.Fatalf("Delete = %v, %d", ok, n)
	}
	if ok, _ := s.Delete("a"); ok {
		t.Fatal("second Delete found the key")
	}
	if s.Bytes() != 0 {
		t.Fatalf("Bytes = %d after deleting everything", s.Bytes())
	}
}

func TestStoreBudget(t *testing.T) {
	s := NewStore(2 * (EntryOverhead + 12)) // room for two keys of 2 bytes with values of 10
	if _, err := s.Put("k1", `"12345678"`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("k2", `"12345678"`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("k3", `"1"`); !errors.Is(err, ErrFull) {
		t.Fatalf("third Put = %v, want ErrFull", err)
	}
	if _, ok := s.Get("k3"); ok || s.Len() != 2 {
		t.Fatal("a refused Put changed the store")
	}
	// Shrinking a value is always allowed, even when full.
	if _, err := s.Put("k1", `1`); err != nil {
		t.Fatalf("shrinking Put = %v", err)
	}
	s.Reset()
	if s.Len() != 0 || s.Bytes() != 0 {
		t.Fatalf("after Reset: %d keys, %d bytes", s.Len(), s.Bytes())
	}
}

func TestStoreNewest(t *testing.T) {
	s := NewStore(0)
	for i := range 100 {
		s.Put("key-"+strconv.Itoa(i), strconv.Itoa(i))
	}
	s.Put("key-5", `"again"`) // rewriting makes it the newest
	got, matched := s.Newest(3, "")
	if matched != 100 || len(got) != 3 || got[0].Key != "key-5" || got[1].Key != "key-99" || got[2].Key != "key-98" {
		t.Fatalf("Newest(3) = %v, %d", got, matched)
	}
	got, matched = s.Newest(50, "key-1")
	if matched != 11 || len(got) != 11 { // key-1, key-10..key-19
		t.Fatalf("Newest filter = %d pairs, %d matched", len(got), matched)
	}
	all := s.All()
	if len(all) != 100 || all[0].Key != "key-0" || all[1].Key != "key-1" || all[2].Key != "key-10" {
		t.Fatalf("All is not sorted by key: %v", all[:3])
	}
}

// TestStoreConcurrent hammers the store from many goroutines; run with -race.
func TestStoreConcurrent(t *testing.T) {
	s := NewStore(0)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Sprintf("k%d", (i*7+w)%500)
				switch i % 4 {
				case 0, 1:
					s.Put(k, strconv.Itoa(i))
				case 2:
					s.Get(k)
				case 3:
					s.Delete(k)
				}
				if i%500 == 0 {
					s.Newest(10, "")
				}
			}
		}()
	}
	wg.Wait()
	var bytes int64
	all := s.All()
	for _, p := range all {
		bytes += cost(p.Key, p.Value)
	}
	if len(all) != s.Len() || bytes != s.Bytes() {
		t.Fatalf("counters drifted: %d keys counted %d, %d bytes counted %d", len(all), s.Len(), bytes, s.Bytes())
	}
}

func BenchmarkStoreParallel(b *testing.B) {
	s := NewStore(0)
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
		s.Put(keys[i], `"value"`)
	}
	b.Run("get", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				s.Get(keys[i%len(keys)])
				i++
			}
		})
	})
	b.Run("put", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				s.Put(keys[i%len(keys)], `"value"`)
				i++
			}
		})
	})
	b.Run("mixed-90-10", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if i%10 == 0 {
					s.Put(keys[i%len(keys)], `"value"`)
				} else {
					s.Get(keys[i%len(keys)])
				}
				i++
			}
		})
	})
}

// BenchmarkStoreMemory reports the heap a store takes per key at 1M keys of
// the seed's shape (key-N → "value-N"), keys and values included.
func BenchmarkStoreMemory(b *testing.B) {
	const keys = 1_000_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := NewStore(0)
		for i := range keys {
			k := "key-" + strconv.Itoa(i)
			s.Put(k, `"value-`+strconv.Itoa(i)+`"`)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/keys, "heap-bytes/key")
		b.ReportMetric(float64(s.Bytes())/keys, "accounted-bytes/key")
		runtime.KeepAlive(s)
	}
}
