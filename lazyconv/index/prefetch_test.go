package index

import (
	"bytes"
	"testing"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// transposedPlan is one 10x10 float32 kernel served transposed; with
// smallChunks, each output row (40 bytes) is a chunk.
func transposedPlan(t *testing.T) (*Plan, []byte) {
	data := seq(10 * 10 * 4)
	src := sourceFile(t, "kernel", data, []int64{10, 10})
	b := NewBuilder([]*tensor.Tensor{{Name: "w", DType: dtype.F32, Shape: []int64{10, 10}, Src: src, Transform: tensor.Transpose2D}})
	b.Tensor(0)
	return b.Plan(), data
}

func waitFor(t *testing.T, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

func TestSequentialReadsConvertTheNextChunksAhead(t *testing.T) {
	plan, _ := transposedPlan(t)
	chunks := newChunks(t, 1<<20)
	r := smallChunks(t, NewReader("m", plan, chunks, NewSources()))
	// The read covers chunk 0; chunks 1 and 2 (bytes 40-119) lie in the
	// window after it. (It is repeated: background work of other tests may
	// hold the prefetch slots for a moment, and a busy slot skips.)
	if !waitFor(t, func() bool {
		if _, err := r.ReadAt(make([]byte, 16), 0); err != nil {
			t.Fatal(err)
		}
		return chunks.Contains("m\x00w\x001") && chunks.Contains("m\x00w\x002")
	}) {
		t.Fatal("the chunks after a sequential read were not prepared")
	}
	// Prefetched chunks hold the same bytes as chunks read directly.
	want := make([]byte, 80)
	if _, err := smallChunks(t, NewReader("m2", plan, newChunks(t, 1<<20), NewSources())).ReadAt(want, 80); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 80)
	if _, err := r.ReadAt(got, 80); err != nil || !bytes.Equal(got, want) {
		t.Errorf("prefetched chunk %x, %v; want %x", got, err, want)
	}
}

func TestRandomReadsDoNotPrefetch(t *testing.T) {
	plan, _ := transposedPlan(t)
	chunks := newChunks(t, 1<<20)
	r := smallChunks(t, NewReader("m", plan, chunks, NewSources()))
	for _, off := range []int64{300, 100, 200} { // each far from the others
		if _, err := r.ReadAt(make([]byte, 4), off); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	for _, key := range []string{"m\x00w\x000", "m\x00w\x001", "m\x00w\x003", "m\x00w\x004"} {
		if chunks.Contains(key) {
			t.Errorf("chunk %q, which no read touched, was prepared", key)
		}
	}
}

// Two readers interleaving their sequential reads are two streams, each
// prepared ahead.
func TestInterleavedStreamsArePreparedAhead(t *testing.T) {
	plan, _ := transposedPlan(t)
	chunks := newChunks(t, 1<<20)
	r := smallChunks(t, NewReader("m", plan, chunks, NewSources()))
	r.sizes.window = 100
	read := func(off int64) {
		if _, err := r.ReadAt(make([]byte, 8), off); err != nil {
			t.Fatal(err)
		}
	}
	for _, off := range []int64{0, 160, 8} { // stream A from 0, stream B from 160
		read(off)
	}
	// A prepared 8-108 (chunks 0-2). B continues at 168 and ends at 176:
	// it prepares 176-276, chunks 4-6, beyond anything read.
	if !waitFor(t, func() bool { read(168); return chunks.Contains("m\x00w\x006") }) {
		t.Error("the second stream was not prepared ahead")
	}
	for _, c := range []string{"3", "7"} { // between and beyond the windows
		if chunks.Contains("m\x00w\x00" + c) {
			t.Errorf("chunk %s, outside both windows, was prepared", c)
		}
	}
	if !waitFor(t, func() bool { return r.ahead.streamCount() == 2 }) {
		t.Errorf("%d streams, want 2", r.ahead.streamCount())
	}
}

// An mmap loader faults in the first pages of tensor after tensor, jumping
// over the rest of each: forward jumps within the window continue a stream.
func TestForwardJumpingReadsArePreparedAhead(t *testing.T) {
	plan, _ := transposedPlan(t)
	chunks := newChunks(t, 1<<20)
	r := smallChunks(t, NewReader("m", plan, chunks, NewSources()))
	read := func(off int64) {
		if _, err := r.ReadAt(make([]byte, 4), off); err != nil {
			t.Fatal(err)
		}
	}
	read(40)
	read(100) // 56 bytes on: beyond the slack, within the window
	if chunks.Contains("m\x00w\x008") {
		t.Fatal("two reads were taken for a stream")
	}
	// The third read makes it a stream: 164-364 is prepared, chunk 8 is
	// 320-359.
	if !waitFor(t, func() bool { read(160); return chunks.Contains("m\x00w\x008") }) {
		t.Error("a forward-jumping reader was not prepared ahead")
	}
}
