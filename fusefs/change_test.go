package fusefs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

const (
	stepsModel = "steps/uncased_two_steps"
	recheck    = 50 * time.Millisecond
	// settle is long enough for the kernel's entry and attribute timeouts
	// and the mount's recheck interval (all equal to recheck) to pass.
	settle = 4 * recheck
)

// stepFolder makes a BERT folder named uncased_m under parent holding one
// training step of the sample store, under the checkpoint prefix prefix.
func stepFolder(t *testing.T, parent string, step int, prefix string) string {
	t.Helper()
	from := filepath.Join(sampleStore, stepsModel)
	dir := filepath.Join(parent, "uncased_m")
	for _, name := range []string{"bert_config.json", "vocab.txt"} {
		copyFile(t, filepath.Join(from, name), filepath.Join(dir, name))
	}
	for _, ext := range []string{".index", ".data-00000-of-00001"} {
		copyFile(t, filepath.Join(from, fmt.Sprintf("model.ckpt-%d%s", step, ext)), filepath.Join(dir, prefix+ext))
	}
	writeCheckpointFile(t, dir, prefix)
	return dir
}

// writeCheckpointFile points the folder's checkpoint file at prefix, by
// rename as TensorFlow's saver does.
func writeCheckpointFile(t *testing.T, dir, prefix string) {
	t.Helper()
	tmp := filepath.Join(dir, "checkpoint.tmp")
	text := fmt.Sprintf("model_checkpoint_path: %q\nall_model_checkpoint_paths: %q\n", prefix, prefix)
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "checkpoint")); err != nil {
		t.Fatal(err)
	}
}

// stepBytes is what a folder holding one step serves for name, read from
// the plan without FUSE.
func stepBytes(t *testing.T, step int, prefix, name string) []byte {
	return materialise(t, stepFolder(t, t.TempDir(), step, prefix), name)
}

// readAllAt reads an open file from offset 0 in pieces, as a loader would.
func readAllAt(f *os.File, size int64) ([]byte, error) {
	out := make([]byte, size)
	for off := int64(0); off < size; off += 4096 {
		if _, err := f.ReadAt(out[off:min(size, off+4096)], off); err != nil && err != io.EOF {
			return nil, err
		}
	}
	return out, nil
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// changeCase mounts a store holding step 1 of a model, opens its weight
// files, lets change alter the store, and checks that new opens see
// step 2 and the files opened before keep serving step 1.
func changeCase(t *testing.T, prefix string, change func(dir string)) {
	store := t.TempDir()
	dir := stepFolder(t, store, 1, prefix)
	mnt := mountWith(t, store, Options{Recheck: recheck})
	for _, name := range []string{model.Safetensors, model.TorchWeights} {
		old, want := stepBytes(t, 1, prefix, name), stepBytes(t, 2, prefix, name)
		if bytes.Equal(old, want) {
			t.Fatalf("%s: steps 1 and 2 serve the same bytes; the test would prove nothing", name)
		}
		path := filepath.Join(mnt, "uncased_m", name)
		inoBefore := inode(t, path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// The first file is not read before the change, so nothing but
		// pinning on open keeps its source files; the second is read whole.
		if name == model.TorchWeights {
			if got, err := readAllAt(f, int64(len(old))); err != nil || !bytes.Equal(got, old) {
				t.Fatalf("%s before the change: %v", name, err)
			}
		}
		// A file opened before the change but never read yet.
		unread, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer unread.Close()

		change(dir)
		time.Sleep(settle)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s after the change: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: a new open after the change does not serve the new step", name)
		}
		if inode(t, path) == inoBefore {
			t.Errorf("%s: the new version kept inode %d, so the kernel may serve cached old pages", name, inoBefore)
		}
		for what, file := range map[string]*os.File{"read": f, "unread": unread} {
			got, err := readAllAt(file, int64(len(old)))
			if err != nil || !bytes.Equal(got, old) {
				t.Errorf("%s opened (%s) before the change: %v, same bytes as step 1: %v", name, what, err, bytes.Equal(got, old))
			}
		}
		// The old version's inode refuses new opens.
		if again, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", unread.Fd())); err == nil {
			again.Close()
			t.Errorf("%s: an outdated inode was opened again", name)
		} else if !errors.Is(err, syscall.ESTALE) && !errors.Is(err, syscall.EIO) {
			t.Errorf("%s: reopening an outdated inode: %v, want ESTALE or EIO", name, err)
		}
		// Back to step 1 for the next file.
		if name == model.Safetensors {
			f.Close()
			unread.Close()
			store2 := t.TempDir()
			stepFolder(t, store2, 1, prefix)
			for _, e := range []string{".index", ".data-00000-of-00001"} {
				os.Remove(filepath.Join(dir, "model.ckpt-2"+e))
				copyFile(t, filepath.Join(store2, "uncased_m", prefix+e), filepath.Join(dir, prefix+e+".tmp"))
				if err := os.Rename(filepath.Join(dir, prefix+e+".tmp"), filepath.Join(dir, prefix+e)); err != nil {
					t.Fatal(err)
				}
			}
			writeCheckpointFile(t, dir, prefix)
			time.Sleep(settle)
			if got, err := os.ReadFile(filepath.Join(mnt, "uncased_m", model.TorchWeights)); err != nil || !bytes.Equal(got, stepBytes(t, 1, prefix, model.TorchWeights)) {
				t.Fatalf("back at step 1: %v", err)
			}
		}
	}
}

func TestANewStepWrittenBesideIsServedToNewOpens(t *testing.T) {
	changeCase(t, "model.ckpt-1", func(dir string) {
		from := filepath.Join(sampleStore, stepsModel)
		for _, ext := range []string{".index", ".data-00000-of-00001"} {
			copyFile(t, filepath.Join(from, "model.ckpt-2"+ext), filepath.Join(dir, "model.ckpt-2"+ext))
		}
		writeCheckpointFile(t, dir, "model.ckpt-2")
	})
}

func TestAShardReplacedByRenameIsServedToNewOpens(t *testing.T) {
	changeCase(t, "model.ckpt-1", func(dir string) {
		from := filepath.Join(sampleStore, stepsModel)
		for _, ext := range []string{".data-00000-of-00001", ".index"} {
			tmp := filepath.Join(dir, "incoming"+ext)
			copyFile(t, filepath.Join(from, "model.ckpt-2"+ext), tmp)
			if err := os.Rename(tmp, filepath.Join(dir, "model.ckpt-1"+ext)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestAShardRewrittenInPlaceIsNeverServedMixed(t *testing.T) {
	const prefix = "model.ckpt-1"
	store := t.TempDir()
	dir := stepFolder(t, store, 1, prefix)
	mnt := mountWith(t, store, Options{Recheck: recheck})
	name := model.Safetensors
	old, want := stepBytes(t, 1, prefix, name), stepBytes(t, 2, prefix, name)
	path := filepath.Join(mnt, "uncased_m", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Read whole once, so every checksum is verified and the chunk cache
	// holds converted chunks; then the kernel's cached pages are dropped,
	// so later reads reach the mount again.
	if got, err := readAllAt(f, int64(len(old))); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("before the rewrite: %v", err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}

	// The trainer starts rewriting the shard in place: truncated, half
	// written.
	step2 := filepath.Join(sampleStore, stepsModel, "model.ckpt-2")
	newData, err := os.ReadFile(step2 + ".data-00000-of-00001")
	if err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(dir, prefix+".data-00000-of-00001")
	w, err := os.OpenFile(shard, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(newData[:len(newData)/2]); err != nil {
		t.Fatal(err)
	}
	// Every piece of the open file is either step 1's bytes or EIO.
	checkNeverMixed := func(when string) {
		failed := 0
		for off := 0; off < len(old); off += 4096 {
			buf := make([]byte, min(4096, len(old)-off))
			_, err := f.ReadAt(buf, int64(off))
			switch {
			case errors.Is(err, syscall.EIO):
				failed++
			case err != nil:
				t.Fatalf("%s: read at %d: %v, want step 1's bytes or EIO", when, off, err)
			case !bytes.Equal(buf, old[off:off+len(buf)]):
				t.Fatalf("%s: read at %d served bytes that are not step 1's", when, off)
			}
		}
		if failed == 0 {
			t.Errorf("%s: every read of the open file succeeded although its shard was rewritten before any was read", when)
		}
	}
	checkNeverMixed("mid-write")

	// The rewrite completes, index last.
	if _, err := w.Write(newData[len(newData)/2:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	newIndex, err := os.ReadFile(step2 + ".index")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+".index"), newIndex, 0o644); err != nil {
		t.Fatal(err)
	}
	checkNeverMixed("after the rewrite")
	time.Sleep(settle)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("a new open after the rewrite: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("a new open after the rewrite does not serve the new bytes")
	}
}
