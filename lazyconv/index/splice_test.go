package index

import (
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

func TestSourceSpanPointsAtTheSourceBytes(t *testing.T) {
	data := seq(64)
	src := sourceFile(t, "emb", data, []int64{16})
	src.Extents[0].Offset = 0
	tensors := []*tensor.Tensor{{Name: "e", DType: dtype.F32, Shape: []int64{16}, Src: src}}
	b := NewBuilder(tensors)
	b.Literal([]byte("header"))
	b.Tensor(0)
	b.Literal([]byte("tail"))
	r := NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources())

	f, fileOff, size, ok, err := r.SourceSpan(6+10, 20)
	if err != nil || !ok || fileOff != 10 || size != 20 {
		t.Fatalf("span inside the tensor: off %d size %d ok %v err %v", fileOff, size, ok, err)
	}
	got := make([]byte, size)
	if _, err := f.ReadAt(got, fileOff); err != nil || string(got) != string(data[10:30]) {
		t.Errorf("span bytes %x, %v", got, err)
	}
	for _, c := range []struct{ off, n int64 }{{0, 8}, {60, 20}, {6 + 60, 8}} {
		if _, _, _, ok, err := r.SourceSpan(c.off, int(c.n)); ok || err != nil {
			t.Errorf("range [%d, +%d) crossing a literal: ok %v err %v", c.off, c.n, ok, err)
		}
	}
	src.CRC32C ^= 1
	r = NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources())
	if _, _, _, ok, err := r.SourceSpan(6, 8); ok || err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a tensor with a bad checksum gave a span: ok %v err %v", ok, err)
	}
}
