package fusefs

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// mountWith mounts store with o for the duration of the test.
func mountWith(t *testing.T, store string, o Options) string {
	t.Helper()
	mnt, _ := mountWithOptions(t, store, o)
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
