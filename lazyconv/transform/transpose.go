// Package transform computes converted tensor bytes from source bytes.
package transform

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// A tile is tileRows source rows by tileBytes of each. Measured on 4096x4096,
// 1024x4096 and 768x3072 float32 kernels, tall narrow tiles beat square
// 32x32 ones by 2-3x: the reads are few sequential streams, and each output
// row piece written (tileRows elements) covers whole cache lines.
const (
	tileRows  = 256
	tileBytes = 32
)

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
	if len(dst) < parallelMin || workers < 2 || r1-r0 < 2*tileBytes {
		transposeElems(dst, src, rows, cols, r0, r1, elem)
		return nil
	}
	// Split on tile boundaries (tileBytes output rows is a whole number of
	// tiles for every element size).
	per := ((r1-r0)/workers + tileBytes - 1) / tileBytes * tileBytes
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
// Each tile is gathered into a small buffer, then written out as whole
// pieces of output rows, so no output cache line is touched one element at a
// time (with power-of-two row lengths those lines share a cache set and
// would evict each other between touches).
func transpose[T uint8 | uint16 | uint32 | uint64](dst, src []T, rows, cols, r0, r1 int64) {
	var zero T
	tc := int64(tileBytes / unsafe.Sizeof(zero))
	var tile [tileRows * tileBytes]T // room for the widest tile (bytes)
	for ib := int64(0); ib < rows; ib += tileRows {
		ie := min(ib+tileRows, rows)
		for jb := r0; jb < r1; jb += tc {
			je := min(jb+tc, r1)
			for i := ib; i < ie; i++ {
				in := src[i*cols+jb : i*cols+je]
				col := tile[i-ib:]
				for k, v := range in {
					col[int64(k)*tileRows] = v
				}
			}
			for j := jb; j < je; j++ {
				copy(dst[(j-r0)*rows+ib:(j-r0)*rows+ie], tile[(j-jb)*tileRows:])
			}
		}
	}
}
