// Package transform computes converted tensor bytes from source bytes.
package transform

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// blockSize is the edge, in elements, of the square tiles the transpose
// walks, so that both the rows read and the rows written stay in L1 cache.
const blockSize = 32

// parallelMin is the output size from which a transpose is split across
// cores: below it, starting goroutines costs more than it saves.
const parallelMin = 1 << 20

// TransposeRows writes rows [r0, r1) of the transpose of the row-major
// [rows, cols] matrix src into dst: dst holds (r1-r0) output rows of length
// rows, i.e. output row j is source column j. src holds the whole source.
// Large transposes are split by output rows across GOMAXPROCS goroutines.
func TransposeRows(dst, src []byte, rows, cols, r0, r1 int64, elem int) error {
	if int64(len(src)) != rows*cols*int64(elem) || int64(len(dst)) != (r1-r0)*rows*int64(elem) {
		return fmt.Errorf("transpose: buffer sizes do not match [%d, %d] rows %d..%d", rows, cols, r0, r1)
	}
	if elem != 1 && elem != 2 && elem != 4 && elem != 8 {
		return fmt.Errorf("transpose: unsupported element size %d", elem)
	}
	if len(dst) == 0 {
		return nil
	}
	workers := int64(runtime.GOMAXPROCS(0))
	if len(dst) < parallelMin || workers < 2 || r1-r0 < 2*blockSize {
		transposeElems(dst, src, rows, cols, r0, r1, elem)
		return nil
	}
	// Split on tile boundaries so no two workers share a tile.
	per := ((r1-r0)/workers + blockSize - 1) / blockSize * blockSize
	rowBytes := rows * int64(elem)
	var wg sync.WaitGroup
	for a := r0; a < r1; a += per {
		b := min(a+per, r1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			transposeElems(dst[(a-r0)*rowBytes:(b-r0)*rowBytes], src, rows, cols, a, b, elem)
		}()
	}
	wg.Wait()
	return nil
}

func transposeElems(dst, src []byte, rows, cols, r0, r1 int64, elem int) {
	switch elem {
	case 1:
		transpose(dst, src, rows, cols, r0, r1)
	case 2:
		transpose(as[uint16](dst), as[uint16](src), rows, cols, r0, r1)
	case 4:
		transpose(as[uint32](dst), as[uint32](src), rows, cols, r0, r1)
	case 8:
		transpose(as[uint64](dst), as[uint64](src), rows, cols, r0, r1)
	}
}

// as reinterprets a byte slice as a slice of fixed-size elements. Go's
// allocator aligns byte slices to at least 8 bytes, which the callers rely on.
func as[T uint16 | uint32 | uint64](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// transpose: dst[(j-r0)*rows + i] = src[i*cols + j] for j in [r0, r1).
// Each tile reads blockSize source rows left to right and writes blockSize
// output rows; slicing each source row to the tile's width first lets the
// compiler drop the bounds checks of the inner loop.
func transpose[T uint8 | uint16 | uint32 | uint64](dst, src []T, rows, cols, r0, r1 int64) {
	for jb := r0; jb < r1; jb += blockSize {
		je := min(jb+blockSize, r1)
		for ib := int64(0); ib < rows; ib += blockSize {
			ie := min(ib+blockSize, rows)
			for i := ib; i < ie; i++ {
				in := src[i*cols+jb : i*cols+je]
				out := dst[(jb-r0)*rows+i:]
				for k, v := range in {
					out[int64(k)*rows] = v
				}
			}
		}
	}
}
