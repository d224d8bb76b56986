package index

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// smallChunks makes r convert tensors above 64 bytes in chunks of about
// 48 bytes, read by bands of about 20 source bytes, and prefetch 200 bytes
// ahead of reads within 16 bytes of a stream's end; it waits for r's
// background work at the end of the test.
func smallChunks(t *testing.T, r *Reader) *Reader {
	r.sizes = sizes{whole: 64, chunk: 48, window: 200, band: 20, slack: 16}
	t.Cleanup(r.ahead.running.Wait)
	return r
}

func TestChunkedConversionEqualsWholeConversion(t *testing.T) {
	const rows, cols = 7, 9 // 252 bytes of float32: six chunks of 2 output rows
	data := seq(rows * cols * 4)
	for _, tr := range []tensor.TransformKind{tensor.Transpose2D, tensor.Identity} {
		for _, widen := range []bool{false, true} {
			src := sourceFile(t, "kernel", data, []int64{rows, cols})
			out := &tensor.Tensor{Name: "w", DType: dtype.F32, Shape: []int64{rows, cols}, Src: src, Transform: tr}
			if tr == tensor.Transpose2D {
				out.Shape = []int64{cols, rows}
			}
			if widen {
				src.DType = dtype.BF16
				src.Shape = []int64{rows, cols * 2}
				if tr == tensor.Transpose2D {
					out.Shape = []int64{cols * 2, rows}
				} else {
					out.Shape = []int64{rows, cols * 2}
				}
			}
			if !out.Converted() {
				continue // an identity without widening is a source run
			}
			b := NewBuilder([]*tensor.Tensor{out})
			b.Tensor(0)
			plan := b.Plan()
			want := make([]byte, plan.Size)
			if _, err := NewReader("m", plan, newChunks(t, 1<<20), NewSources()).ReadAt(want, 0); err != nil {
				t.Fatal(err)
			}
			// Chunks of one output row read their strip row by row; chunks
			// of five read it as whole rows (a strip wider than 1/8 row).
			for _, chunk := range []int64{48, 150} {
				r := smallChunks(t, NewReader("m", plan, newChunks(t, 1<<20), NewSources()))
				r.sizes.chunk = chunk
				if _, rowsPerChunk := r.chunking(out); rowsPerChunk >= outputRows(out) {
					t.Fatalf("%d rows per chunk: the tensor is not cut", rowsPerChunk)
				}
				for off := int64(0); off < plan.Size; off += 5 {
					got := make([]byte, min(13, plan.Size-off))
					if _, err := r.ReadAt(got, off); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want[off:off+int64(len(got))]) {
						t.Fatalf("%v widen=%v chunk %d: chunked bytes at %d differ", tr, widen, chunk, off)
					}
				}
			}
		}
	}
}

func TestChunkedConversionVerifiesTheChecksum(t *testing.T) {
	src := sourceFile(t, "bert/encoder/layer_0/output/dense/kernel", seq(10*10*4), []int64{10, 10})
	src.CRC32C ^= 1
	out := &tensor.Tensor{Name: "w", DType: dtype.F32, Shape: []int64{10, 10}, Src: src, Transform: tensor.Transpose2D}
	b := NewBuilder([]*tensor.Tensor{out})
	b.Tensor(0)
	_, err := smallChunks(t, NewReader("m", b.Plan(), newChunks(t, 1<<20), NewSources())).ReadAt(make([]byte, 8), 200)
	if err == nil || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), src.Name) {
		t.Errorf("error %v should report the checksum of the tensor", err)
	}
}
