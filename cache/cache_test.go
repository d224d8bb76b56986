package cache

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEachChunkIsComputedOnceForConcurrentReaders(t *testing.T) {
	c, err := New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	var computed atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Get("k", func() ([]byte, error) {
				computed.Add(1)
				<-release
				return []byte("chunk"), nil
			})
			if err != nil || string(v) != "chunk" {
				t.Errorf("Get = %q, %v", v, err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := computed.Load(); n != 1 {
		t.Errorf("computed %d times, want 1", n)
	}
	if _, err := c.Get("k", func() ([]byte, error) { t.Error("cached chunk computed again"); return nil, nil }); err != nil {
		t.Fatal(err)
	}
}

// A reader streaming more than the cache holds must find the chunk it has
// just computed: each chunk computed once, however many reads fall in it.
func TestAStreamLargerThanTheCacheComputesEachChunkOnce(t *testing.T) {
	c, _ := New(4 << 10)
	computed := map[string]int{}
	for chunk := range 50 {
		key := fmt.Sprint(chunk)
		for range 8 { // eight reads per chunk
			if _, err := c.Get(key, func() ([]byte, error) { computed[key]++; return make([]byte, 1<<10), nil }); err != nil {
				t.Fatal(err)
			}
		}
		if computed[key] != 1 {
			t.Fatalf("chunk %s computed %d times", key, computed[key])
		}
		if c.Used() > 4<<10 {
			t.Fatalf("cache holds %d bytes, bound 4096", c.Used())
		}
	}
}

func TestLeastRecentlyUsedIsEvictedFirst(t *testing.T) {
	c, _ := New(3)
	get := func(k string) (computed bool) {
		c.Get(k, func() ([]byte, error) { computed = true; return []byte{1}, nil })
		return computed
	}
	get("a")
	get("b")
	get("c")
	get("a") // a is now the most recent
	get("d") // evicts b
	if c.Contains("b") || !c.Contains("a") || !c.Contains("c") || !c.Contains("d") {
		t.Error("wrong chunk evicted")
	}
	if !get("b") {
		t.Error("evicted chunk was not recomputed")
	}
}

func TestErrorsAreNotCachedAndOversizedChunksNotKept(t *testing.T) {
	c, _ := New(4)
	boom := errors.New("boom")
	if _, err := c.Get("k", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	if v, err := c.Get("k", func() ([]byte, error) { return []byte("ok"), nil }); err != nil || string(v) != "ok" {
		t.Errorf("retry: %q, %v", v, err)
	}
	if v, _ := c.Get("big", func() ([]byte, error) { return make([]byte, 5), nil }); len(v) != 5 || c.Contains("big") || c.Used() > 4 {
		t.Error("a chunk larger than the cache was kept")
	}
	if _, err := New(0); err == nil {
		t.Error("a zero-size cache was accepted")
	}
}
