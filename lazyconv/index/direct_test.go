package index

import (
	"bytes"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

func TestBytesEqualReadAtWhereverTheyAreServedDirectly(t *testing.T) {
	kernel := sourceFile(t, "kernel", seq(7*9*4), []int64{7, 9})
	vec := sourceFile(t, "vec", seq(5*4), []int64{5})
	tensors := []*tensor.Tensor{
		{Name: "w", DType: dtype.F32, Shape: []int64{9, 7}, Src: kernel, Transform: tensor.Transpose2D},
		{Name: "b", DType: dtype.F32, Shape: []int64{5}, Src: vec},
	}
	b := NewBuilder(tensors)
	b.Literal([]byte("header"))
	b.Tensor(0)
	b.Tensor(1)
	b.Literal([]byte("tail"))
	plan := b.Plan()
	want := make([]byte, plan.Size)
	if _, err := NewReader("m", plan, newChunks(t, 1<<20), NewSources()).ReadAt(want, 0); err != nil {
		t.Fatal(err)
	}
	r := smallChunks(t, NewReader("m", plan, newChunks(t, 1<<20), NewSources()))
	direct := 0
	for off := int64(0); off < plan.Size; off++ {
		for _, n := range []int{1, 4, 30} {
			got, ok, err := r.Bytes(off, n)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			direct++
			end := min(off+int64(n), plan.Size)
			if !bytes.Equal(got, want[off:end]) {
				t.Fatalf("Bytes(%d, %d) = %x, want %x", off, n, got, want[off:end])
			}
		}
	}
	if direct == 0 {
		t.Error("no range was served directly")
	}
	if _, ok, _ := r.Bytes(6+252, 4); ok {
		t.Error("a source run was served as bytes")
	}
}
