package fusefs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// stressModels are sample models of five families; both weight files of
// each are read.
var stressModels = []string{
	bertBase,
	"gpt2/124M-tiny",
	"xlnet/xlnet_cased_L-2_H-32_A-4",
	"t5/small-tiny",
	"albert/albert_base_v2-tiny",
}

// firstMismatch gives the offset of the first byte where got differs from
// want, or -1 if they are equal; a short read differs where it ends.
func firstMismatch(got, want []byte) int {
	if bytes.Equal(got, want) {
		return -1
	}
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			return i
		}
	}
	return n
}

func TestFirstMismatchFindsEveryDifference(t *testing.T) {
	want := make([]byte, 1<<16)
	rand.New(rand.NewSource(1)).Read(want)
	if i := firstMismatch(bytes.Clone(want), want); i != -1 {
		t.Errorf("equal bytes: mismatch at %d", i)
	}
	for _, at := range []int{0, 1, 4095, 4096, len(want) - 1} {
		got := bytes.Clone(want)
		got[at] ^= 0x01
		if i := firstMismatch(got, want); i != at {
			t.Errorf("byte %d flipped: mismatch at %d", at, i)
		}
	}
	if i := firstMismatch(want[:100], want); i != 100 {
		t.Errorf("short read: mismatch at %d, want 100", i)
	}
	if i := firstMismatch(nil, want[:1]); i != 0 {
		t.Errorf("empty read: mismatch at %d, want 0", i)
	}
}

// stressFile is a weight file of the mount and its sequential read.
type stressFile struct {
	path string
	ref  []byte
}

// readSequentially reads path from start to end in 64 KiB reads.
func readSequentially(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// stressTally counts what the readers saw and keeps the first failures.
type stressTally struct {
	reads, bytes, ddRuns, mismatches, errors atomic.Int64

	mu       sync.Mutex
	failures []string
}

func (s *stressTally) fail(counter *atomic.Int64, format string, args ...any) {
	counter.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) < 20 {
		s.failures = append(s.failures, fmt.Sprintf(format, args...))
	}
}

// check compares what a reader got at off with the reference.
func (s *stressTally) check(who string, f *stressFile, off int64, length int, got []byte) {
	want := f.ref[off:min(int64(len(f.ref)), off+int64(length))]
	if i := firstMismatch(got, want); i >= 0 {
		s.fail(&s.mismatches, "%s: %s at %d+%d: %d bytes, first difference at byte %d", who, f.path, off, length, len(got), i)
		return
	}
	s.reads.Add(1)
	s.bytes.Add(int64(len(got)))
}

// randomRange picks a read inside f: lengths from one byte to past a
// chunk, offsets anywhere (reads may run past the end).
func randomRange(rnd *rand.Rand, f *stressFile) (int64, int) {
	off := rnd.Int63n(int64(len(f.ref)))
	lengths := []int{1, 7, 511, 4096, 65536 + 13, 262144 + 1, 1 + rnd.Intn(len(f.ref))}
	return off, lengths[rnd.Intn(len(lengths))]
}

// TestStressConcurrentReadersSeeTheSequentialBytes runs 32 readers at
// once (24 goroutines, half of them with O_DIRECT so every read reaches
// the server, and 8 streams of dd processes) at random offsets across both
// weight files of five models, with a 256 KiB chunk cache that forces
// eviction and the page cache dropped now and then. Every byte must equal
// the file's sequential read.
func TestStressConcurrentReadersSeeTheSequentialBytes(t *testing.T) {
	goroutineReads, ddRuns := 1500, 150
	if raceEnabled {
		goroutineReads, ddRuns = 150, 15
	}
	const goroutines, ddStreams = 24, 8
	// The server runs in its own process: this one forks dd while holding
	// files of the mount open, and a fork in the serving process can
	// deadlock it (see startStressDaemon).
	mnt := startStressDaemon(t, 256<<10)

	var files []*stressFile
	for _, m := range stressModels {
		for _, name := range []string{model.Safetensors, model.TorchWeights} {
			path := filepath.Join(mnt, m, name)
			ref, err := readSequentially(path)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			// The reference itself is what the plan describes.
			if !bytes.Equal(ref, materialise(t, filepath.Join(sampleStore, m), name)) {
				t.Fatalf("%s: the sequential read differs from the plan", path)
			}
			files = append(files, &stressFile{path: path, ref: ref})
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var tally stressTally
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			direct := g%2 == 1
			who := fmt.Sprintf("goroutine %d (direct %v)", g, direct)
			flags := os.O_RDONLY
			if direct {
				flags |= syscall.O_DIRECT
			}
			handles := make([]*os.File, len(files))
			defer func() {
				for _, h := range handles {
					if h != nil {
						h.Close()
					}
				}
			}()
			rnd := rand.New(rand.NewSource(int64(1000 + g)))
			for i := 0; i < goroutineReads && ctx.Err() == nil; i++ {
				k := rnd.Intn(len(files))
				f := files[k]
				if handles[k] == nil {
					h, err := os.OpenFile(f.path, flags, 0)
					if err != nil {
						tally.fail(&tally.errors, "%s: %v", who, err)
						return
					}
					handles[k] = h
				}
				off, length := randomRange(rnd, f)
				buf := make([]byte, length)
				n, err := handles[k].ReadAt(buf, off)
				if err != nil && err != io.EOF {
					tally.fail(&tally.errors, "%s: %s at %d+%d: %v", who, f.path, off, length, err)
					continue
				}
				tally.check(who, f, off, length, buf[:n])
			}
		}(g)
	}
	for w := 0; w < ddStreams; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			iflag := "skip_bytes,count_bytes"
			if w%2 == 1 {
				iflag += ",direct"
			}
			who := fmt.Sprintf("dd stream %d (iflag=%s)", w, iflag)
			rnd := rand.New(rand.NewSource(int64(2000 + w)))
			for i := 0; i < ddRuns && ctx.Err() == nil; i++ {
				f := files[rnd.Intn(len(files))]
				off, length := randomRange(rnd, f)
				runCtx, stop := context.WithTimeout(ctx, 20*time.Second)
				cmd := exec.CommandContext(runCtx, "dd", "if="+f.path, "iflag="+iflag,
					"skip="+strconv.FormatInt(off, 10), "count="+strconv.Itoa(length), "bs=65536", "status=none")
				cmd.WaitDelay = 5 * time.Second
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				got, err := cmd.Output()
				stop()
				tally.ddRuns.Add(1)
				if err != nil {
					tally.fail(&tally.errors, "%s: %s at %d+%d: %v: %s", who, f.path, off, length, err, stderr.String())
					continue
				}
				tally.check(who, f, off, length, got)
			}
		}(w)
	}

	// Drop the page cache while the readers run, so buffered reads go back
	// to the server too.
	dropped, dropErr := 0, error(nil)
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			if dropErr == nil {
				if dropErr = os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0); dropErr == nil {
					dropped++
				}
			}
		case <-ctx.Done():
			err := abortConnection(mnt)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
			}
			t.Fatalf("the readers did not finish within 90 s (FUSE connection aborted: %v)", err)
		}
	}
	if dropErr != nil {
		t.Logf("cannot drop the page cache (%v): buffered readers may be served from it; O_DIRECT readers and the 256 KiB chunk cache still make every read reach the server", dropErr)
	}
	t.Logf("%d reads (%d MiB) checked, %d dd runs, page cache dropped %d times", tally.reads.Load(), tally.bytes.Load()>>20, tally.ddRuns.Load(), dropped)

	for _, f := range tally.failures {
		t.Error(f)
	}
	if m, e := tally.mismatches.Load(), tally.errors.Load(); m != 0 || e != 0 {
		t.Errorf("%d mismatches, %d errors; want none", m, e)
	}
	if want := int64(goroutines*goroutineReads + ddStreams*ddRuns); tally.reads.Load() != want {
		t.Errorf("%d reads checked, want %d", tally.reads.Load(), want)
	}
}
