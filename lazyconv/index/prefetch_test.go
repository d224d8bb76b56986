package index

import (
	"bytes"
	"testing"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// transposedPlan is one 10x10 float32 kernel served transposed, cut into
// chunks of 2 output rows (80 bytes).
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
	if _, err := r.ReadAt(make([]byte, 16), 0); err != nil {
		t.Fatal(err)
	}
	// The read covered chunk 0; chunks 1 and 2 (bytes 80-239) lie in the
	// window after it.
	if !waitFor(t, func() bool { return chunks.Contains("m\x00w\x001") && chunks.Contains("m\x00w\x002") }) {
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
	r.ahead.started.Store(true)
	r.ahead.end.Store(1 << 40) // the previous read ended far away
	if _, err := r.ReadAt(make([]byte, 4), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if chunks.Contains("m\x00w\x001") {
		t.Error("a read far from the previous one prefetched the next chunk")
	}
}
