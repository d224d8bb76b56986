package index

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// sourceFile writes data to a file and describes it as a source tensor with
// a correct TensorFlow-style checksum.
func sourceFile(t *testing.T, name string, data []byte, shape []int64) *tensor.Source {
	t.Helper()
	path := filepath.Join(t.TempDir(), filepath.Base(name))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return &tensor.Source{
		File: path, Name: name, DType: dtype.F32, Shape: shape,
		Extents: []tensor.Extent{{Path: path, Offset: 0, Length: int64(len(data))}},
		CRC32C:  tfbundle.MaskedCRC32C(data), HasCRC: true,
	}
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i/7)
	}
	return b
}

func newChunks(t testing.TB, size int64) *cache.Chunks {
	c, err := cache.New(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestReaderServesEveryRunKindAcrossBoundaries(t *testing.T) {
	a := seq(3 * 5 * 4)
	kernel := sourceFile(t, "kernel", a, []int64{3, 5})
	vec := sourceFile(t, "vec", seq(7*4), []int64{7})
	tensors := []*tensor.Tensor{
		{Name: "w", DType: dtype.F32, Shape: []int64{5, 3}, Src: kernel, Transform: tensor.Transpose2D},
		{Name: "b", DType: dtype.F32, Shape: []int64{7}, Src: vec},
	}
	b := NewBuilder(tensors)
	b.Literal([]byte("head"))
	b.Tensor(0)
	b.Zeros(3)
	b.Tensor(1)
	b.Literal([]byte("tail"))
	plan := b.Plan()

	var want []byte
	want = append(want, "head"...)
	for j := 0; j < 5; j++ { // the transpose, by definition
		for i := 0; i < 3; i++ {
			want = append(want, a[(i*5+j)*4:(i*5+j+1)*4]...)
		}
	}
	want = append(want, 0, 0, 0)
	want = append(want, seq(7*4)...)
	want = append(want, "tail"...)
	if plan.Size != int64(len(want)) {
		t.Fatalf("plan size %d, want %d", plan.Size, len(want))
	}
	r := NewReader("m", plan, newChunks(t, 1<<20), NewSources())
	for off := 0; off < len(want); off++ {
		for _, n := range []int{1, 5, 17, len(want)} {
			buf := make([]byte, n)
			got, err := r.ReadAt(buf, int64(off))
			if err != nil {
				t.Fatal(err)
			}
			end := min(off+n, len(want))
			if got != end-off || !bytes.Equal(buf[:got], want[off:end]) {
				t.Fatalf("ReadAt(%d, %d) = %d bytes %x, want %x", off, n, got, buf[:got], want[off:end])
			}
		}
	}
	if n, err := r.ReadAt(make([]byte, 4), plan.Size); n != 0 || err != nil {
		t.Errorf("read at EOF: %d, %v", n, err)
	}
}

func TestReaderRefusesBytesOfATensorWithABadChecksum(t *testing.T) {
	src := sourceFile(t, "bert/pooler/dense/bias", seq(16), []int64{4})
	src.CRC32C ^= 1
	tensors := []*tensor.Tensor{{Name: "bert.pooler.dense.bias", DType: dtype.F32, Shape: []int64{4}, Src: src}}
	b := NewBuilder(tensors)
	b.Literal([]byte("header"))
	b.Tensor(0)
	r := NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources())
	if _, err := r.ReadAt(make([]byte, 6), 0); err != nil {
		t.Errorf("header read failed: %v", err)
	}
	_, err := r.ReadAt(make([]byte, 4), 8)
	if err == nil || !strings.Contains(err.Error(), "bert/pooler/dense/bias") || !strings.Contains(err.Error(), src.File) {
		t.Errorf("error %v should name the file and the tensor", err)
	}
}

func TestReaderReportsASourceShorterThanTheIndexSays(t *testing.T) {
	src := sourceFile(t, "emb", seq(8), []int64{4})
	src.Extents[0].Length = 16
	src.Shape = []int64{4}
	src.HasCRC = false
	tensors := []*tensor.Tensor{{Name: "e", DType: dtype.F32, Shape: []int64{4}, Src: src}}
	b := NewBuilder(tensors)
	b.Tensor(0)
	r := NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources())
	if _, err := r.ReadAt(make([]byte, 16), 0); err == nil || !strings.Contains(err.Error(), "ends before") {
		t.Errorf("error %v, want one saying the file ends early", err)
	}
}

func TestSliceOfAStoredTensorIsVerifiedThroughIt(t *testing.T) {
	whole := sourceFile(t, "model/transformer/r_w_bias", seq(2*3*4), []int64{2, 3})
	layer1, err := whole.Slice("r_w_bias[1]", 3*4, 3*4, []int64{3})
	if err != nil {
		t.Fatal(err)
	}
	tensors := []*tensor.Tensor{{Name: "layer.1.r_w_bias", DType: dtype.F32, Shape: []int64{3}, Src: layer1}}
	b := NewBuilder(tensors)
	b.Tensor(0)
	r := NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources())
	got := make([]byte, 12)
	if _, err := r.ReadAt(got, 0); err != nil || !bytes.Equal(got, seq(24)[12:]) {
		t.Fatalf("slice bytes %x, %v", got, err)
	}
	whole.CRC32C ^= 1
	r = NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources())
	if _, err := r.ReadAt(got, 0); err == nil || !strings.Contains(err.Error(), "r_w_bias") {
		t.Errorf("a slice of a tensor with a bad checksum was served: %v", err)
	}
	if _, err := whole.Slice("x", 20, 8, []int64{2}); err == nil {
		t.Error("a slice past the tensor's end was accepted")
	}
}

func TestReaderWidensBFloat16AndTransposes(t *testing.T) {
	// A [2, 3] bfloat16 kernel served as a [3, 2] float32 weight.
	src := sourceFile(t, "kernel", seq(2*3*2), []int64{2, 3})
	src.DType = dtype.BF16
	for _, tr := range []tensor.TransformKind{tensor.Identity, tensor.Transpose2D} {
		tt := &tensor.Tensor{Name: "w", DType: dtype.F32, Shape: []int64{2, 3}, Src: src, Transform: tr}
		if tr == tensor.Transpose2D {
			tt.Shape = []int64{3, 2}
		}
		b := NewBuilder([]*tensor.Tensor{tt})
		b.Tensor(0)
		if b.Plan().Size != 24 || b.Plan().Runs[0].Kind != Converted {
			t.Fatalf("plan %+v", b.Plan().Runs)
		}
		got := make([]byte, 24)
		if _, err := NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources()).ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		in := seq(12)
		for j := 0; j < 6; j++ {
			i := j // element j of the output comes from element i of the source
			if tr == tensor.Transpose2D {
				i = (j%2)*3 + j/2
			}
			want := []byte{0, 0, in[2*i], in[2*i+1]}
			if !bytes.Equal(got[4*j:4*j+4], want) {
				t.Errorf("%v element %d: %x, want %x", tr, j, got[4*j:4*j+4], want)
			}
		}
	}
}

// With a cache smaller than a whole tensor, chunks shrink so the cache can
// keep them (else every request would convert its chunk again).
func TestChunksFitASmallCache(t *testing.T) {
	for _, tc := range []struct{ cache, whole, chunk int64 }{
		{1 << 30, wholeTensorMax, chunkTarget},
		{1 << 20, 128 << 10, 128 << 10},
	} {
		chunks, err := cache.New(tc.cache)
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader("m", &Plan{}, chunks, NewSources())
		if r.sizes.whole != tc.whole || r.sizes.chunk != tc.chunk {
			t.Errorf("cache %d: whole %d chunk %d, want %d and %d", tc.cache, r.sizes.whole, r.sizes.chunk, tc.whole, tc.chunk)
		}
		chunks.Close()
	}
}
