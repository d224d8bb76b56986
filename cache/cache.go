// Package cache keeps converted chunks of virtual files in memory, bounded
// by bytes, and makes sure each chunk is computed once however many readers
// ask for it at the same time.
package cache

import (
	"container/list"
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"
)

// Chunks is a bounded least-recently-used cache of immutable byte chunks.
// Callers must not modify a returned chunk.
//
// Plain LRU on purpose: chunks are megabytes, so there are few of them and
// one lock costs nothing, while a frequency-based admission policy (such as
// ristretto's, used before) rejects the new chunks of a reader streaming a
// model larger than the cache, making it convert each chunk again for every
// request that falls in it; asynchronous insertion did the same for a chunk
// asked for again right after it was computed.
type Chunks struct {
	flight singleflight.Group

	mu    sync.Mutex
	max   int64
	used  int64
	order *list.List // of *entry, most recently used first
	byKey map[string]*list.Element
}

type entry struct {
	key  string
	data []byte
}

// New makes a cache holding at most maxBytes of chunk data.
func New(maxBytes int64) (*Chunks, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("cache size must be positive, got %d", maxBytes)
	}
	return &Chunks{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}, nil
}

// Get returns the chunk stored under key, computing it with compute when it
// is absent. Concurrent callers with the same key share one computation.
// Errors are not cached, so a transient failure can be retried.
func (c *Chunks) Get(key string, compute func() ([]byte, error)) ([]byte, error) {
	if v, ok := c.lookup(key); ok {
		return v, nil
	}
	v, err, _ := c.flight.Do(key, func() (any, error) {
		if v, ok := c.lookup(key); ok {
			return v, nil
		}
		v, err := compute()
		if err != nil {
			return nil, err
		}
		c.add(key, v)
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// Contains says whether key is cached, without counting as a use.
func (c *Chunks) Contains(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.byKey[key]
	return ok
}

func (c *Chunks) lookup(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry).data, true
}

// add stores a chunk and evicts the least recently used ones beyond the
// bound. A chunk larger than the whole cache is not kept.
func (c *Chunks) add(key string, data []byte) {
	n := int64(len(data))
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = c.order.PushFront(&entry{key: key, data: data})
	c.used += n
	for c.used > c.max {
		last := c.order.Back()
		e := last.Value.(*entry)
		c.order.Remove(last)
		delete(c.byKey, e.key)
		c.used -= int64(len(e.data))
	}
}

// Used is the number of bytes held.
func (c *Chunks) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Max is the bound on the bytes held.
func (c *Chunks) Max() int64 { return c.max }

// Close releases the cache's memory.
func (c *Chunks) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	c.byKey = map[string]*list.Element{}
	c.used = 0
}
