// Package cache keeps converted chunks of virtual files in memory, bounded
// by bytes, and makes sure each chunk is computed once however many readers
// ask for it at the same time.
package cache

import (
	"fmt"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"
)

// Chunks is a bounded cache of immutable byte chunks. Callers must not
// modify a returned chunk.
type Chunks struct {
	store  *ristretto.Cache[string, []byte]
	flight singleflight.Group
}

// New makes a cache holding at most maxBytes of chunk data.
func New(maxBytes int64) (*Chunks, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("cache size must be positive, got %d", maxBytes)
	}
	// Ristretto wants about ten counters per item it may hold; chunks are
	// seldom smaller than 64 KiB.
	counters := maxBytes / (64 << 10) * 10
	if counters < 1000 {
		counters = 1000
	}
	store, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
		NumCounters:        counters,
		MaxCost:            maxBytes,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, err
	}
	return &Chunks{store: store}, nil
}

// Get returns the chunk stored under key, computing it with compute when it
// is absent. Concurrent callers with the same key share one computation.
// Errors are not cached, so a transient failure can be retried.
func (c *Chunks) Get(key string, compute func() ([]byte, error)) ([]byte, error) {
	if v, ok := c.store.Get(key); ok {
		return v, nil
	}
	v, err, _ := c.flight.Do(key, func() (any, error) {
		if v, ok := c.store.Get(key); ok {
			return v, nil
		}
		v, err := compute()
		if err != nil {
			return nil, err
		}
		c.store.Set(key, v, int64(len(v)))
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// Wait blocks until buffered insertions are applied (for tests).
func (c *Chunks) Wait() { c.store.Wait() }

// Close releases the cache's goroutines.
func (c *Chunks) Close() { c.store.Close() }
