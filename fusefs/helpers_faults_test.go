package fusefs

import (
	"bytes"
	"log"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// mountWith mounts store with options o for the duration of the test; its
// cleanup unmounts, so a test must close its files on the mount (with defer
// or a later t.Cleanup) before. A machine that cannot mount fails the test.
func mountWith(t *testing.T, store string, o Options) string {
	t.Helper()
	mnt := t.TempDir()
	var logs syncBuffer
	o.Logger = log.New(&logs, "", 0)
	if o.CacheBytes == 0 {
		o.CacheBytes = 1 << 20
	}
	m, err := New(store, mnt, o)
	if err != nil {
		t.Fatalf("cannot mount %s (FUSE is required for this test): %v", store, err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		if t.Failed() {
			t.Logf("ckptfs log:\n%s", logs.String())
		}
	})
	return mnt
}

// copyFile copies one file, creating its folder.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log sink the FUSE server's goroutines and the test may
// share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
