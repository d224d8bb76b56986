package index

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// BenchmarkRead reads a 32 MiB tensor in 1 MiB requests: straight from its
// source file (the baseline), as a source run of a plan, and as a
// transposed run with a new cache each pass, so every chunk is converted.
func BenchmarkRead(b *testing.B) {
	const rows, cols = 2048, 4096
	data := seq(rows * cols * 4)
	path := filepath.Join(b.TempDir(), "shard")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	src := &tensor.Source{File: path, Name: "kernel", DType: dtype.F32, Shape: []int64{rows, cols},
		Extents: []tensor.Extent{{Path: path, Length: int64(len(data))}}}
	buf := make([]byte, 1<<20)
	// pass returns a reader for one pass over the data.
	readPasses := func(b *testing.B, pass func() func(p []byte, off int64) error) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			read := pass()
			for off := int64(0); off < int64(len(data)); off += int64(len(buf)) {
				if err := read(buf, off); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("baseline-file", func(b *testing.B) {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		readPasses(b, func() func([]byte, int64) error {
			return func(p []byte, off int64) error { _, err := f.ReadAt(p, off); return err }
		})
	})
	for name, tr := range map[string]tensor.TransformKind{"source-run": tensor.Identity, "transpose-cold": tensor.Transpose2D} {
		t := &tensor.Tensor{Name: "w", DType: dtype.F32, Shape: []int64{rows, cols}, Src: src, Transform: tr}
		if tr == tensor.Transpose2D {
			t.Shape = []int64{cols, rows}
		}
		builder := NewBuilder([]*tensor.Tensor{t})
		builder.Tensor(0)
		plan := builder.Plan()
		b.Run(name, func(b *testing.B) {
			sources := NewSources()
			defer sources.Close()
			readPasses(b, func() func([]byte, int64) error {
				chunks := newChunks(b, 256<<20)
				r := NewReader("bench", plan, chunks, sources)
				return func(p []byte, off int64) error { _, err := r.ReadAt(p, off); return err }
			})
		})
	}
}
