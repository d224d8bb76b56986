package fusefs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// flakyOpener opens real files; reads of files whose path contains a key
// of fails fail with EIO, as many times as the value says (-1: always).
type flakyOpener struct {
	mu    sync.Mutex
	fails map[string]int
	seen  map[string]int // failed reads, by key
}

func (o *flakyOpener) Open(path string) (index.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &flakyFile{File: f, o: o}, nil
}

type flakyFile struct {
	*os.File
	o *flakyOpener
}

func (f *flakyFile) ReadAt(p []byte, off int64) (int, error) {
	f.o.mu.Lock()
	fail := false
	for key, n := range f.o.fails {
		if strings.Contains(f.Name(), key) && n != 0 {
			fail = true
			f.o.fails[key] = n - 1
			if n < 0 {
				f.o.fails[key] = n
			}
			f.o.seen[key]++
		}
	}
	f.o.mu.Unlock()
	if fail {
		return 0, &os.PathError{Op: "read", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.ReadAt(p, off)
}

func TestSourceFaultsUnderTheMount(t *testing.T) {
	store := t.TempDir()
	src := filepath.Join(sampleStore, bertBase)
	for _, name := range []string{"flaky", "dead", "good"} {
		copyTree(t, src, filepath.Join(store, name))
	}
	o := &flakyOpener{fails: map[string]int{"/flaky/": 2, "/dead/": -1}, seen: map[string]int{}}
	mnt := mountWith(t, store, Options{Opener: o})
	want := materialise(t, src, model.Safetensors)

	// Two failed reads, then the server answers: the reader never notices.
	got, err := os.ReadFile(filepath.Join(mnt, "flaky", model.Safetensors))
	if err != nil {
		t.Fatalf("a source read failing twice then succeeding: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("flaky: bytes differ from the plan")
	}
	o.mu.Lock()
	if o.seen["/flaky/"] != 2 {
		t.Errorf("%d injected failures happened, want 2", o.seen["/flaky/"])
	}
	o.mu.Unlock()

	// A fault that does not clear: EIO on that model's weights only.
	if _, err := os.ReadFile(filepath.Join(mnt, "dead", model.Safetensors)); !errors.Is(err, syscall.EIO) {
		t.Errorf("a permanent source fault: %v, want EIO", err)
	}
	for _, rel := range []string{"dead/vocab.txt", "dead/config.json", "good/" + model.Safetensors, "good/" + model.TorchWeights} {
		if _, err := os.ReadFile(filepath.Join(mnt, rel)); err != nil {
			t.Errorf("%s while another model's source fails: %v", rel, err)
		}
	}
	good, _ := os.ReadFile(filepath.Join(mnt, "good", model.Safetensors))
	if !bytes.Equal(good, want) {
		t.Error("good: bytes differ from the plan")
	}
}
