package badinput

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckptfs/ckptfs/fusefs"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// fixtures is the sample store; rows damage copies of its folders.
const fixtures = "../../testdata/store"

// copyDir copies the regular files of fixture folder src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		copyFile(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fileState is what "the store is unchanged" compares.
type fileState struct {
	mode  fs.FileMode
	size  int64
	mtime int64
	sum   [sha256.Size]byte
}

// snapshot records every path under root with its mode, size, mtime and,
// for regular files, SHA-256.
func snapshot(t *testing.T, root string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := fileState{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().UnixNano()}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			st.sum = sha256.Sum256(data)
		}
		rel, _ := filepath.Rel(root, path)
		out[rel] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareSnapshots(t *testing.T, before, after map[string]fileState) {
	t.Helper()
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			t.Errorf("store: %s disappeared", p)
		case a != b:
			t.Errorf("store: %s changed: %+v -> %+v", p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("store: %s appeared", p)
		}
	}
}

// logBuffer collects the mount's log; the server logs from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// mountStore mounts store for the rest of the test and returns the
// mountpoint. Cleanup unmounts; every file a test opens on the mount is
// closed before its helper returns. In CI a machine that cannot mount
// fails the test; elsewhere it skips.
func mountStore(t *testing.T, store string, logs *logBuffer) string {
	t.Helper()
	mnt := t.TempDir()
	m, err := fusefs.New(store, mnt, fusefs.Options{CacheBytes: 8 << 20, Logger: log.New(logs, "", 0)})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot mount %s (FUSE is required in CI): %v", store, err)
		}
		t.Skipf("cannot mount %s (FUSE is required for this test): %v", store, err)
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

// plan returns a generated file's plan, straight from the store folder.
func plan(t *testing.T, dir, name string) *index.Plan {
	t.Helper()
	m, err := model.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m.Files[name].Plan
}

// materialise produces a generated file's bytes from its plan, without FUSE.
func materialise(t *testing.T, dir, name string) []byte {
	t.Helper()
	m, err := model.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Files[name].Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pageReader reads a file of the mount page by page with readahead off
// (POSIX_FADV_RANDOM), so each read asks the server for exactly the pages
// it covers.
type pageReader struct{ f *os.File }

func openRandom(path string) (*pageReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM); err != nil {
		f.Close()
		return nil, fmt.Errorf("fadvise: %w", err)
	}
	return &pageReader{f: f}, nil
}

func (r *pageReader) page(i int64) ([]byte, error) {
	buf := make([]byte, pageSize)
	n, err := r.f.ReadAt(buf, i*pageSize)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return buf[:n], err
}

func (r *pageReader) Close() error { return r.f.Close() }

var pageSize = int64(os.Getpagesize())

// isEIO reports whether err is the errno a bad model's reads must give.
func isEIO(err error) bool { return errors.Is(err, syscall.EIO) }

// allocated runs fn and returns the bytes it (and everything running
// meanwhile, the FUSE server included) allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// names lists a directory's entry names, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	sort.Strings(out)
	return out
}
