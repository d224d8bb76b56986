package fusefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

const (
	sampleStore = "../testdata/store"
	bertBase    = "google/uncased_L-2_H-32_A-4"
)

// mountStore mounts store with a chunk cache of cacheBytes for the
// duration of the test.
func mountStore(t *testing.T, store string, cacheBytes int64) string {
	t.Helper()
	mnt, _ := mountWithOptions(t, store, Options{CacheBytes: cacheBytes})
	return mnt
}

// materialise reads a virtual file straight from its plan, without FUSE.
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

func TestModelFolderShowsGeneratedFiles(t *testing.T) {
	mnt := mountStore(t, sampleStore, 1<<20)
	entries, err := os.ReadDir(filepath.Join(mnt, bertBase))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	for _, want := range []string{"vocab.txt", "bert_config.json", "config.json", "tokenizer_config.json", model.TorchWeights, model.Safetensors} {
		if !names[want] {
			t.Errorf("%s missing from %v", want, names)
		}
	}
	notes, err := os.ReadDir(filepath.Join(mnt, "notes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range notes {
		if e.Name() == model.TorchWeights {
			t.Errorf("a folder that is not a model shows %s", e.Name())
		}
	}
}

// sampleModels lists the sample store's model folders: those the goldens
// describe.
func sampleModels(t *testing.T) []string {
	t.Helper()
	goldens, _ := filepath.Abs("../testdata/goldens")
	var rels []string
	err := filepath.WalkDir(goldens, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "golden.json" {
			rel, _ := filepath.Rel(goldens, filepath.Dir(p))
			rels = append(rels, rel)
		}
		return err
	})
	if err != nil || len(rels) < 10 {
		t.Fatalf("sample models: %v %v", rels, err)
	}
	return rels
}

func TestVirtualFilesServeThePlannedBytes(t *testing.T) {
	mnt := mountStore(t, sampleStore, 1<<20)
	for _, rel := range sampleModels(t) {
		m, err := model.LoadDir(filepath.Join(sampleStore, rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for name := range m.Files {
			checkServesPlan(t, mnt, rel, name)
		}
	}
}

// checkServesPlan compares the mount's file rel/name with its plan.
func checkServesPlan(t *testing.T, mnt, rel, name string) {
	t.Helper()
	want := materialise(t, filepath.Join(sampleStore, rel), name)
	path := filepath.Join(mnt, rel, name)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != int64(len(want)) {
		t.Errorf("%s/%s: stat size %d, plan size %d", rel, name, fi.Size(), len(want))
	}
	if fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("%s/%s: mode %v is writable", rel, name, fi.Mode())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s/%s: bytes through the mount differ from the plan", rel, name)
	}
}

func TestOriginalFilesAreServedUnchanged(t *testing.T) {
	mnt := mountStore(t, sampleStore, 1<<20)
	n := 0
	err := filepath.Walk(sampleStore, func(path string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(sampleStore, path)
		want, _ := os.ReadFile(path)
		got, err := os.ReadFile(filepath.Join(mnt, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s: differs from the store", rel)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}

func TestInodeNumbersAreStableAcrossMounts(t *testing.T) {
	a := mountStore(t, sampleStore, 1<<20)
	b := mountStore(t, sampleStore, 1<<20)
	for _, rel := range []string{bertBase, bertBase + "/vocab.txt", bertBase + "/" + model.Safetensors} {
		var sa, sb syscall.Stat_t
		if err := syscall.Stat(filepath.Join(a, rel), &sa); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Stat(filepath.Join(b, rel), &sb); err != nil {
			t.Fatal(err)
		}
		if sa.Ino != sb.Ino {
			t.Errorf("%s: inode %d in one mount, %d in another", rel, sa.Ino, sb.Ino)
		}
	}
}

func TestWritesAreRefused(t *testing.T) {
	mnt := mountStore(t, sampleStore, 1<<20)
	dir := filepath.Join(mnt, bertBase)
	for _, name := range []string{model.Safetensors, "vocab.txt"} {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
		if err == nil {
			f.Close()
			t.Errorf("%s opened for writing", name)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "new"), []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("create: %v, want EROFS", err)
	}
}

// copyTree copies a store folder so a test can damage the copy.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBrokenModelsFailAloneWithEIO(t *testing.T) {
	store := t.TempDir()
	src := filepath.Join(sampleStore, bertBase)
	copyTree(t, src, filepath.Join(store, "good"))
	copyTree(t, src, filepath.Join(store, "flipped"))
	copyTree(t, src, filepath.Join(store, "truncated_index"))

	// A flipped byte inside the data shard: the tensor's CRC32C no longer matches.
	shard := filepath.Join(store, "flipped", "bert_model.ckpt.data-00000-of-00001")
	data, err := os.ReadFile(shard)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(shard, data, 0o644); err != nil {
		t.Fatal(err)
	}
	indexPath := filepath.Join(store, "truncated_index", "bert_model.ckpt.index")
	idx, _ := os.ReadFile(indexPath)
	if err := os.WriteFile(indexPath, idx[:len(idx)/2], 0o644); err != nil {
		t.Fatal(err)
	}

	mnt := mountStore(t, store, 1<<20)
	if _, err := os.ReadFile(filepath.Join(mnt, "flipped", model.Safetensors)); !errors.Is(err, syscall.EIO) {
		t.Errorf("reading a corrupt tensor: %v, want EIO", err)
	}
	if _, err := os.ReadFile(filepath.Join(mnt, "truncated_index", model.TorchWeights)); !errors.Is(err, syscall.EIO) {
		t.Errorf("opening a model with a truncated index: %v, want EIO", err)
	}
	// Everything else keeps working: the broken models' originals and the
	// good model.
	for _, rel := range []string{"flipped/vocab.txt", "truncated_index/bert_config.json", "good/" + model.Safetensors, "good/" + model.TorchWeights} {
		if _, err := os.ReadFile(filepath.Join(mnt, rel)); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
	// The store is never written to.
	after, _ := os.ReadFile(indexPath)
	if !bytes.Equal(after, idx[:len(idx)/2]) {
		t.Error("the store was modified")
	}
}

func TestConcurrentRandomReadsMatchSequentialRead(t *testing.T) {
	// A cache smaller than one chunk forces conversions to be redone and
	// evicted while readers race.
	mnt := mountStore(t, sampleStore, 4<<10)
	for _, name := range []string{model.Safetensors, model.TorchWeights} {
		path := filepath.Join(mnt, bertBase, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		type read struct {
			off  int64
			data []byte
		}
		var (
			mu    sync.Mutex
			reads []read
			wg    sync.WaitGroup
		)
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func(seed int64) {
				defer wg.Done()
				f, err := os.Open(path)
				if err != nil {
					t.Error(err)
					return
				}
				defer f.Close()
				rnd := rand.New(rand.NewSource(seed))
				for i := 0; i < 100; i++ {
					off := rnd.Int63n(fi.Size())
					buf := make([]byte, []int{1, 13, 4096, 65536}[rnd.Intn(4)])
					n, err := f.ReadAt(buf, off)
					if err != nil && err != io.EOF {
						t.Error(err)
						return
					}
					mu.Lock()
					reads = append(reads, read{off, buf[:n]})
					mu.Unlock()
				}
			}(int64(g))
		}
		wg.Wait()
		whole, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reads {
			if !bytes.Equal(r.data, whole[r.off:r.off+int64(len(r.data))]) {
				t.Fatalf("%s: read at %d differs from the sequential read", name, r.off)
			}
		}
		if len(reads) != 1600 {
			t.Errorf("%d reads completed, want 1600", len(reads))
		}
	}
}

func TestStatTouchesNoTensorData(t *testing.T) {
	store := t.TempDir()
	copyTree(t, filepath.Join(sampleStore, bertBase), filepath.Join(store, "m"))
	// Garble every tensor byte: any read of tensor data now fails its
	// checksum, so a stat that succeeds was answered from the index alone.
	shard := filepath.Join(store, "m", "bert_model.ckpt.data-00000-of-00001")
	data, err := os.ReadFile(shard)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] ^= 0x5a
	}
	if err := os.WriteFile(shard, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mnt := mountStore(t, store, 1<<20)
	want := materialise(t, filepath.Join(sampleStore, bertBase), model.Safetensors)
	path := filepath.Join(mnt, "m", model.Safetensors)
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != int64(len(want)) {
		t.Fatalf("stat: %v, %v; want size %d", fi, err, len(want))
	}
	if _, err := os.ReadFile(path); !errors.Is(err, syscall.EIO) {
		t.Errorf("reading garbled tensor data: %v, want EIO", err)
	}
}

func TestMountpointMustBeAnEmptyDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := New(sampleStore, missing, Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing mountpoint: %v", err)
	}
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	if _, err := New(sampleStore, full, Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty mountpoint: %v", err)
	}
}

// TestMain doubles as a daemon for tests that need one to kill: with
// CKPTFS_TEST_DAEMON=MNT it mounts the sample store there and serves until
// killed.
func TestMain(m *testing.M) {
	if mnt := os.Getenv("CKPTFS_TEST_DAEMON"); mnt != "" {
		mount, err := New(sampleStore, mnt, Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// New has returned, so go-fuse's own start-up access to the mount is
		// over: killed from now on, the daemon holds no file of its own
		// mount open (which would hang its exit on a FLUSH nobody answers).
		fmt.Println("ready")
		mount.Server.Wait()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestStaleMountIsClearedByTheNextMount(t *testing.T) {
	mnt := t.TempDir()
	daemon := exec.Command(os.Args[0], "-test.run", "^$")
	daemon.Env = append(os.Environ(), "CKPTFS_TEST_DAEMON="+mnt)
	daemon.Stderr = os.Stderr
	out, err := daemon.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line == "ready\n"
	}()
	select {
	case ok := <-ready:
		if !ok {
			daemon.Process.Kill()
			daemon.Wait()
			t.Fatal("the daemon did not mount (FUSE is required for this test)")
		}
	case <-time.After(30 * time.Second):
		daemon.Process.Kill()
		t.Fatal("the daemon did not mount within 30 s")
	}
	if _, err := os.Stat(filepath.Join(mnt, bertBase)); err != nil {
		t.Fatalf("the daemon's mount does not serve: %v", err)
	}
	daemon.Process.Kill() // as a crash or the OOM killer would
	daemon.Wait()
	if _, err := os.Stat(mnt); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("after the daemon died, stat gives %v, want ENOTCONN", err)
	}
	m, err := New(sampleStore, mnt, Options{})
	if err != nil {
		t.Fatalf("mounting over a stale mount: %v", err)
	}
	defer m.Unmount()
	if _, err := os.Stat(filepath.Join(mnt, bertBase, model.Safetensors)); err != nil {
		t.Errorf("the new mount does not serve: %v", err)
	}
}

func TestAGeneratedFileTheFolderCannotMakeIsAbsent(t *testing.T) {
	store := t.TempDir()
	copyTree(t, filepath.Join(sampleStore, "albert/albert_base_v2-tiny"), filepath.Join(store, "m"))
	// Without its SentencePiece model the folder has no spiece.model to show.
	for _, name := range []string{"30k-clean.model", "30k-clean.vocab"} {
		if err := os.Remove(filepath.Join(store, "m", name)); err != nil {
			t.Fatal(err)
		}
	}
	mnt := mountStore(t, store, 1<<20)
	entries, err := os.ReadDir(filepath.Join(mnt, "m"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "spiece.model" {
			t.Error("spiece.model listed without a SentencePiece model in the folder")
		}
	}
	if _, err := os.Stat(filepath.Join(mnt, "m", "spiece.model")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("stat spiece.model: %v, want ENOENT", err)
	}
	if _, err := os.ReadFile(filepath.Join(mnt, "m", model.Safetensors)); err != nil {
		t.Errorf("the weights must still be served: %v", err)
	}
}
