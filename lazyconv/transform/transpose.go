// Package transform computes converted tensor bytes from source bytes.
package transform

import (
	"fmt"
	"unsafe"
)

// blockSize is the edge, in elements, of the square tiles the transpose
// walks, so that both the rows read and the rows written stay in L1 cache.
const blockSize = 32

// TransposeRows writes rows [r0, r1) of the transpose of the row-major
// [rows, cols] matrix src into dst: dst holds (r1-r0) output rows of length
// rows, i.e. output row j is source column j. src holds the whole source.
func TransposeRows(dst, src []byte, rows, cols, r0, r1 int64, elem int) error {
	if int64(len(src)) != rows*cols*int64(elem) || int64(len(dst)) != (r1-r0)*rows*int64(elem) {
		return fmt.Errorf("transpose: buffer sizes do not match [%d, %d] rows %d..%d", rows, cols, r0, r1)
	}
	if len(dst) == 0 {
		return nil
	}
	switch elem {
	case 1:
		transpose(dst, src, rows, cols, r0, r1)
	case 2:
		transpose(as[uint16](dst), as[uint16](src), rows, cols, r0, r1)
	case 4:
		transpose(as[uint32](dst), as[uint32](src), rows, cols, r0, r1)
	case 8:
		transpose(as[uint64](dst), as[uint64](src), rows, cols, r0, r1)
	default:
		return fmt.Errorf("transpose: unsupported element size %d", elem)
	}
	return nil
}

// as reinterprets a byte slice as a slice of fixed-size elements. Go's
// allocator aligns byte slices to at least 8 bytes, which the callers rely on.
func as[T uint16 | uint32 | uint64](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// transpose: dst[(j-r0)*rows + i] = src[i*cols + j] for j in [r0, r1).
func transpose[T uint8 | uint16 | uint32 | uint64](dst, src []T, rows, cols, r0, r1 int64) {
	for jb := r0; jb < r1; jb += blockSize {
		je := min(jb+blockSize, r1)
		for ib := int64(0); ib < rows; ib += blockSize {
			ie := min(ib+blockSize, rows)
			for j := jb; j < je; j++ {
				out := dst[(j-r0)*rows:]
				for i := ib; i < ie; i++ {
					out[i] = src[i*cols+j]
				}
			}
		}
	}
}
