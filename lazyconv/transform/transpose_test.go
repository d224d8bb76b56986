package transform

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// naiveTranspose is the definition the blocked version must agree with.
func naiveTranspose(src []byte, rows, cols int64, elem int) []byte {
	out := make([]byte, len(src))
	e := int64(elem)
	for i := int64(0); i < rows; i++ {
		for j := int64(0); j < cols; j++ {
			copy(out[(j*rows+i)*e:(j*rows+i+1)*e], src[(i*cols+j)*e:(i*cols+j+1)*e])
		}
	}
	return out
}

func TestTransposeRowsMatchesDefinition(t *testing.T) {
	for _, elem := range []int{1, 2, 4, 8} {
		for _, shape := range [][2]int64{{1, 1}, {3, 5}, {33, 70}, {64, 1}, {1, 100}, {259, 13}, {8, 8}} {
			rows, cols := shape[0], shape[1]
			src := make([]byte, rows*cols*int64(elem))
			for i := range src {
				src[i] = byte(i*7 + i/3)
			}
			want := naiveTranspose(src, rows, cols, elem)
			rowBytes := rows * int64(elem)
			// Every split of the output rows gives the same bytes.
			for _, step := range []int64{1, 7, cols} {
				for r0 := int64(0); r0 < cols; r0 += step {
					r1 := min(r0+step, cols)
					dst := make([]byte, (r1-r0)*rowBytes)
					if err := TransposeRows(dst, src, rows, cols, r0, r1, elem); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(dst, want[r0*rowBytes:r1*rowBytes]) {
						t.Fatalf("elem %d shape %v rows %d..%d differ", elem, shape, r0, r1)
					}
				}
			}
		}
	}
}

func TestTransposeRowsRejectsWrongSizes(t *testing.T) {
	if err := TransposeRows(make([]byte, 4), make([]byte, 8), 2, 2, 0, 2, 4); err == nil {
		t.Error("mismatched buffers accepted")
	}
	if err := TransposeRows(make([]byte, 12), make([]byte, 12), 2, 2, 0, 2, 3); err == nil {
		t.Error("3-byte elements accepted")
	}
}

func BenchmarkTransposeVsCopy(b *testing.B) {
	const rows, cols = 4096, 4096 // power-of-two rows: the cache-set worst case
	src := make([]byte, rows*cols*4)
	for i := range src {
		src[i] = byte(i) // real pages, not the shared zero page
	}
	dst := make([]byte, len(src))
	b.Run("transpose", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for i := 0; i < b.N; i++ {
			TransposeRows(dst, src, rows, cols, 0, cols, 4)
		}
	})
	b.Run("memcpy", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for i := 0; i < b.N; i++ {
			copy(dst, src)
		}
	})
}

func TestParallelTransposeMatchesDefinition(t *testing.T) {
	const rows, cols = 300, 1000 // 1.2 MB of float32: split across workers
	src := make([]byte, rows*cols*4)
	for i := range src {
		src[i] = byte(i*13 + i/5)
	}
	want := naiveTranspose(src, rows, cols, 4)
	for _, r := range [][2]int64{{0, cols}, {3, cols - 5}} {
		dst := make([]byte, (r[1]-r[0])*rows*4)
		if err := TransposeRows(dst, src, rows, cols, r[0], r[1], 4); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dst, want[r[0]*rows*4:r[1]*rows*4]) {
			t.Fatalf("rows %v differ", r)
		}
	}
}

func TestTransposeBandsAssembleTheWholeTranspose(t *testing.T) {
	const rows, cols = 37, 300 // 300 output rows of 37: bands of 10 source rows
	src := make([]byte, rows*cols*4)
	for i := range src {
		src[i] = byte(i*11 + i/9)
	}
	want := naiveTranspose(src, rows, cols, 4)
	got := make([]byte, len(want))
	for i0 := int64(0); i0 < rows; i0 += 10 {
		i1 := min(i0+10, rows)
		if err := TransposeBand(got[i0*4:], rows, src[i0*cols*4:i1*cols*4], i1-i0, cols, 4); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Error("bands differ from the whole transpose")
	}
	if err := TransposeBand(make([]byte, 8), 2, make([]byte, 16), 2, 2, 4); err == nil {
		t.Error("a band overrunning its output was accepted")
	}
}

// With more cores than output rows (a narrow last chunk on a large
// machine), the split must still make progress and cover every row.
func TestParallelTransposeWithMoreWorkersThanRows(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))
	const rows, cols = 1 << 16, 40 // 10 MB of float32, 40 output rows
	src := make([]byte, rows*cols*4)
	for i := range src {
		src[i] = byte(i*7 + i/3)
	}
	want := naiveTranspose(src, rows, cols, 4)
	dst := make([]byte, len(src))
	done := make(chan error, 1)
	go func() { done <- TransposeRows(dst, src, rows, cols, 0, cols, 4) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("transpose did not finish")
	}
	if !bytes.Equal(dst, want) {
		t.Fatal("transpose differs from the definition")
	}
}
