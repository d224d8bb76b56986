package index

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultyOpener opens real files whose reads fail on demand: the next
// len(fails) reads fail with those errors, in order.
type faultyOpener struct {
	mu        sync.Mutex
	fails     []error
	openFails []error
	opens     int
	reads     int
}

func (o *faultyOpener) Open(path string) (File, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opens++
	if len(o.openFails) > 0 {
		err := o.openFails[0]
		o.openFails = o.openFails[1:]
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: f, o: o}, nil
}

type faultyFile struct {
	*os.File
	o *faultyOpener
}

func (f *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	f.o.mu.Lock()
	f.o.reads++
	var err error
	if len(f.o.fails) > 0 {
		err = f.o.fails[0]
		f.o.fails = f.o.fails[1:]
	}
	f.o.mu.Unlock()
	if err != nil {
		return 0, &os.PathError{Op: "read", Path: f.Name(), Err: err}
	}
	return f.File.ReadAt(p, off)
}

func (o *faultyOpener) counts() (opens, reads int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.opens, o.reads
}

// faultySources reads through o and records the back-off sleeps instead of
// sleeping.
func faultySources(o Opener) (*Sources, *[]time.Duration) {
	s := NewSourcesFrom(o, nil)
	var slept []time.Duration
	s.sleep = func(d time.Duration) { slept = append(slept, d) }
	return s, &slept
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

func TestTransientReadFailuresAreRetriedWithBackoff(t *testing.T) {
	data := seq(4 * 64)
	src := sourceFile(t, "w", data, []int64{64})
	for _, errno := range []syscall.Errno{syscall.EINTR, syscall.EAGAIN, syscall.ETIMEDOUT, syscall.EIO, syscall.ECONNRESET, syscall.ENOTCONN} {
		t.Run(errno.Error(), func(t *testing.T) {
			o := &faultyOpener{fails: repeat(errno, readAttempts-1)}
			s, slept := faultySources(o)
			defer s.Close()
			got := make([]byte, len(data))
			if err := s.ReadAt(src, got, 0); err != nil {
				t.Fatalf("%d failures then success: %v", readAttempts-1, err)
			}
			if !bytes.Equal(got, data) {
				t.Error("bytes after retries differ from the file")
			}
			want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond}
			if !slices.Equal(*slept, want) {
				t.Errorf("back-off %v, want %v", *slept, want)
			}
			if opens, _ := o.counts(); opens != 1 {
				t.Errorf("%d opens for a handle that stayed valid, want 1", opens)
			}
		})
	}
}

func TestAStaleHandleIsReopened(t *testing.T) {
	data := seq(4 * 64)
	src := sourceFile(t, "w", data, []int64{64})
	for _, errno := range []syscall.Errno{syscall.ESTALE, syscall.EBADF} {
		o := &faultyOpener{fails: []error{errno, errno}}
		s, _ := faultySources(o)
		got := make([]byte, len(data))
		if err := s.ReadAt(src, got, 0); err != nil {
			t.Fatalf("%v twice then success: %v", errno, err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%v: bytes after reopening differ from the file", errno)
		}
		if opens, _ := o.counts(); opens != 3 {
			t.Errorf("%v: %d opens, want 3 (each dead handle replaced)", errno, opens)
		}
		s.Close()
	}
}

func TestATransientOpenFailureIsRetried(t *testing.T) {
	data := seq(4 * 16)
	src := sourceFile(t, "w", data, []int64{16})
	o := &faultyOpener{openFails: []error{syscall.ESTALE, syscall.ETIMEDOUT}}
	s, _ := faultySources(o)
	defer s.Close()
	got := make([]byte, len(data))
	if err := s.ReadAt(src, got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("open failing twice then succeeding: %v", err)
	}
}

func TestAPermanentFaultIsAnEIONamingTheFile(t *testing.T) {
	data := seq(4 * 64)
	src := sourceFile(t, "w", data, []int64{64})
	o := &faultyOpener{fails: repeat(syscall.EIO, 100)}
	s, slept := faultySources(o)
	defer s.Close()
	err := s.ReadAt(src, make([]byte, 8), 0)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("error %v, want one that is EIO", err)
	}
	if !strings.Contains(err.Error(), src.File) || !strings.Contains(err.Error(), "tensor w") {
		t.Errorf("error %q does not name the file and tensor", err)
	}
	if _, reads := o.counts(); reads != readAttempts {
		t.Errorf("%d read attempts, want %d", reads, readAttempts)
	}
	if len(*slept) != readAttempts-1 {
		t.Errorf("slept %d times, want %d", len(*slept), readAttempts-1)
	}
}

func TestPermanentConditionsAreNotRetried(t *testing.T) {
	data := seq(4 * 64)
	src := sourceFile(t, "w", data, []int64{64})
	cases := map[string]func(path string) error{
		"short file": func(path string) error { return os.Truncate(path, 10) },
		"missing":    os.Remove,
	}
	for name, damage := range cases {
		src := sourceFile(t, "w", data, []int64{64})
		if err := damage(src.File); err != nil {
			t.Fatal(err)
		}
		o := &faultyOpener{}
		s, slept := faultySources(o)
		err := s.ReadAt(src, make([]byte, 8), 0)
		if err == nil || !strings.Contains(err.Error(), src.File) {
			t.Errorf("%s: error %v, want one naming %s", name, err, src.File)
		}
		if len(*slept) != 0 {
			t.Errorf("%s: retried (%d sleeps)", name, len(*slept))
		}
		s.Close()
	}
	o := &faultyOpener{fails: []error{syscall.EACCES}}
	s, slept := faultySources(o)
	defer s.Close()
	if err := s.ReadAt(src, make([]byte, 8), 0); !errors.Is(err, syscall.EACCES) || len(*slept) != 0 {
		t.Errorf("EACCES: %v after %d sleeps, want it reported at once", err, len(*slept))
	}
}

func TestAFailedReadIsNotRememberedAsAChecksumVerdict(t *testing.T) {
	data := seq(4 * 64)
	src := sourceFile(t, "w", data, []int64{64})
	o := &faultyOpener{fails: repeat(syscall.ETIMEDOUT, readAttempts)}
	s, _ := faultySources(o)
	defer s.Close()
	if err := s.ReadAt(src, make([]byte, 8), 0); err == nil {
		t.Fatal("a read failing every attempt succeeded")
	}
	// The server is back: the tensor verifies and is served.
	got := make([]byte, len(data))
	if err := s.ReadAt(src, got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after the fault cleared: %v", err)
	}
	// A real mismatch is a verdict, remembered even once the file is fine.
	bad := sourceFile(t, "bad", data, []int64{64})
	bad.CRC32C ^= 1
	s2 := NewSources()
	defer s2.Close()
	if err := s2.ReadAt(bad, make([]byte, 4), 0); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("corrupt tensor: %v", err)
	}
	bad.CRC32C ^= 1 // the source no longer matters: the verdict stands
	if err := s2.ReadAt(bad, make([]byte, 4), 0); err == nil {
		t.Error("a checksum mismatch was forgotten")
	}
}

func TestAFileChangedInPlaceIsNeverServed(t *testing.T) {
	data := seq(4 * 64)
	src := sourceFile(t, "w", data, []int64{64})
	s := NewSources()
	defer s.Close()
	if err := s.ReadAt(src, make([]byte, 8), 0); err != nil {
		t.Fatal(err)
	}
	// Rewritten in place with other bytes of the same length.
	time.Sleep(10 * time.Millisecond) // a new modification time, even on coarse clocks
	other := bytes.Repeat([]byte{7}, len(data))
	if err := os.WriteFile(src.File, other, 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.ReadAt(src, make([]byte, 8), 8)
	if !errors.Is(err, ErrChanged) || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), src.File) {
		t.Errorf("read after an in-place rewrite: %v, want a changed-file EIO naming the file", err)
	}
}

func TestPinnedFilesSurviveAReplacementByRename(t *testing.T) {
	data := seq(4 * 64)
	src := sourceFile(t, "w", data, []int64{64})
	fi, err := os.Stat(src.File)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSourcesFrom(OSOpener{}, map[string]FileState{src.File: StateOf(fi)})
	defer s.Close()
	if err := s.Pin(src.File); err != nil {
		t.Fatal(err)
	}
	tmp := src.File + ".new"
	if err := os.WriteFile(tmp, bytes.Repeat([]byte{7}, len(data)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, src.File); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if err := s.ReadAt(src, got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pinned file after a rename-replace: %v (bytes equal: %v)", err, bytes.Equal(got, data))
	}
	// A set expecting the old version refuses to open the new one.
	late := NewSourcesFrom(OSOpener{}, map[string]FileState{src.File: StateOf(fi)})
	defer late.Close()
	if err := late.Pin(src.File); !errors.Is(err, ErrChanged) {
		t.Errorf("pinning a replaced file: %v, want ErrChanged", err)
	}
}

func TestPinRetriesATransientOpenFailure(t *testing.T) {
	src := sourceFile(t, "w", seq(16), []int64{4})
	o := &faultyOpener{openFails: []error{syscall.ESTALE}}
	s, slept := faultySources(o)
	defer s.Close()
	if err := s.Pin(src.File); err != nil || len(*slept) != 1 {
		t.Fatalf("pin with one stale open: %v after %d sleeps", err, len(*slept))
	}
	o.openFails = repeat(syscall.ETIMEDOUT, readAttempts)
	other := sourceFile(t, "v", seq(16), []int64{4})
	if err := s.Pin(other.File); !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), other.File) {
		t.Errorf("pin failing every attempt: %v, want an EIO naming %s", err, other.File)
	}
}
