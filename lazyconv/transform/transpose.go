// Package transform computes converted tensor bytes from source bytes.
package transform

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// The transpose walks blocks of blockRows source rows by blockCols source
// columns, and within a block moves 4x4 squares through registers: four
// 4-element loads, four 4-element stores, no bounds checks. Measured on
// 4096x4096, 1024x4096, 4096x1024 and 768x3072 float32 kernels, tall
// narrow blocks were fastest (the reads are few sequential streams, and the
// output lines are finished while still cached): 4-5 GB/s on two cores,
// twice a 32x32 tile gathered through a buffer.
const (
	blockRows = 256
	blockCols = 8
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
	return transposeSplit(dst, src, rows, cols, r0, r1, rows, elem)
}

// TransposeBand transposes a band of source rows into place in a larger
// output: the row-major [rows, cols] matrix src is written with
// dst[j*stride + i] = src[i*cols + j] (in elements). A transpose whose
// source does not fit in memory at once is done band by band, each band
// starting at its first row's column of dst.
func TransposeBand(dst []byte, stride int64, src []byte, rows, cols int64, elem int) error {
	if int64(len(src)) != rows*cols*int64(elem) || stride < rows || (cols > 0 && int64(len(dst)) < ((cols-1)*stride+rows)*int64(elem)) {
		return fmt.Errorf("transpose: band [%d, %d] does not fit output stride %d", rows, cols, stride)
	}
	return transposeSplit(dst, src, rows, cols, 0, cols, stride, elem)
}

func transposeSplit(dst, src []byte, rows, cols, r0, r1, stride int64, elem int) error {
	if elem != 1 && elem != 2 && elem != 4 && elem != 8 {
		return fmt.Errorf("transpose: unsupported element size %d", elem)
	}
	if r1 <= r0 || rows == 0 {
		return nil
	}
	workers := int64(runtime.GOMAXPROCS(0))
	if (r1-r0)*rows*int64(elem) < parallelMin || workers < 2 || r1-r0 < 2*blockCols {
		transposeElems(dst, src, rows, cols, r0, r1, stride, elem)
		return nil
	}
	// Split on block boundaries; with more workers than rows, a part is
	// still at least one block.
	per := ((r1-r0+workers-1)/workers + blockCols - 1) / blockCols * blockCols
	rowBytes := stride * int64(elem)
	var wg sync.WaitGroup
	for a := r0; a < r1; a += per {
		b := min(a+per, r1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			transposeElems(dst[(a-r0)*rowBytes:], src, rows, cols, a, b, stride, elem)
		}()
	}
	wg.Wait()
	return nil
}

func transposeElems(dst, src []byte, rows, cols, r0, r1, stride int64, elem int) {
	switch elem {
	case 1:
		transpose(dst, src, rows, cols, r0, r1, stride)
	case 2:
		transpose(as[uint16](dst), as[uint16](src), rows, cols, r0, r1, stride)
	case 4:
		transpose(as[uint32](dst), as[uint32](src), rows, cols, r0, r1, stride)
	case 8:
		transpose(as[uint64](dst), as[uint64](src), rows, cols, r0, r1, stride)
	}
}

// as reinterprets a byte slice as a slice of fixed-size elements. Go's
// allocator aligns byte slices to at least 8 bytes, which the callers rely on.
func as[T uint16 | uint32 | uint64](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// transpose: dst[(j-r0)*stride + i] = src[i*cols + j] for j in [r0, r1).
func transpose[T uint8 | uint16 | uint32 | uint64](dst, src []T, rows, cols, r0, r1, stride int64) {
	for ib := int64(0); ib < rows; ib += blockRows {
		ie := min(ib+blockRows, rows)
		iq := ib + (ie-ib)&^3 // rows [ib, iq) go by fours
		for jb := r0; jb < r1; jb += blockCols {
			je := min(jb+blockCols, r1)
			jq := jb + (je-jb)&^3
			for i := ib; i < iq; i += 4 {
				for j := jb; j < jq; j += 4 {
					a := (*[4]T)(src[i*cols+j:])
					b := (*[4]T)(src[(i+1)*cols+j:])
					c := (*[4]T)(src[(i+2)*cols+j:])
					d := (*[4]T)(src[(i+3)*cols+j:])
					o := dst[(j-r0)*stride+i:]
					*(*[4]T)(o) = [4]T{a[0], b[0], c[0], d[0]}
					*(*[4]T)(o[stride:]) = [4]T{a[1], b[1], c[1], d[1]}
					*(*[4]T)(o[2*stride:]) = [4]T{a[2], b[2], c[2], d[2]}
					*(*[4]T)(o[3*stride:]) = [4]T{a[3], b[3], c[3], d[3]}
				}
			}
			// The edges that are not whole squares, element by element.
			for i := ib; i < ie; i++ {
				from := jq
				if i >= iq {
					from = jb
				}
				for j := from; j < je; j++ {
					dst[(j-r0)*stride+i] = src[i*cols+j]
				}
			}
		}
	}
}
