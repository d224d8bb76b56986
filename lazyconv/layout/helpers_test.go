package layout

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// sourceTensor writes data to a temp file and returns an identity tensor
// reading it.
func sourceTensor(t *testing.T, name string, dt dtype.DType, shape []int64, data []byte) *tensor.Tensor {
	t.Helper()
	return &tensor.Tensor{Name: name, DType: dt, Shape: shape, Src: writeSource(t, name, dt, shape, data)}
}

// transposedTensor returns a Transpose2D tensor over a [rows, cols] source.
func transposedTensor(t *testing.T, name string, dt dtype.DType, rows, cols int64, data []byte) *tensor.Tensor {
	t.Helper()
	return &tensor.Tensor{
		Name: name, DType: dt, Shape: []int64{cols, rows},
		Src:       writeSource(t, name+".src", dt, []int64{rows, cols}, data),
		Transform: tensor.Transpose2D,
	}
}

func writeSource(t *testing.T, name string, dt dtype.DType, shape []int64, data []byte) *tensor.Source {
	t.Helper()
	path := filepath.Join(t.TempDir(), "source")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return &tensor.Source{
		File: path, Name: name, DType: dt, Shape: shape,
		Extents: []tensor.Extent{{Path: path, Offset: 0, Length: int64(len(data))}},
	}
}

// declaredTensor is a tensor whose source file does not exist: any attempt
// to read its bytes fails.
func declaredTensor(name string, dt dtype.DType, shape ...int64) *tensor.Tensor {
	bytes := tensor.NumElements(shape) * int64(dt.Size())
	return &tensor.Tensor{Name: name, DType: dt, Shape: shape, Src: &tensor.Source{
		File: "/nonexistent/ckptfs-layout-test", Name: name, DType: dt, Shape: shape,
		Extents: []tensor.Extent{{Path: "/nonexistent/ckptfs-layout-test", Length: bytes}},
	}}
}

// materialise reads a whole virtual file through index.Reader.
func materialise(t *testing.T, plan *index.Plan) []byte {
	t.Helper()
	b, err := index.ReadAll(plan)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// literalReader serves a plan's literal runs and refuses everything else, so
// a reader using it proves it never needs tensor data. zeroTensors makes it
// serve zeros for tensor runs instead, for readers such as archive/zip that
// scan a fixed window at the end of a (small) file.
type literalReader struct {
	plan        *index.Plan
	zeroTensors bool
}

func (r literalReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for len(p) > 0 {
		i := r.plan.Find(off)
		if i < 0 {
			return n, fmt.Errorf("read past end at %d", off)
		}
		run := &r.plan.Runs[i]
		var c int
		switch {
		case run.Kind == index.Literal:
			c = copy(p, run.Data[off-run.Off:])
		case r.zeroTensors:
			c = int(min(int64(len(p)), run.Off+run.Len-off))
			clear(p[:c])
		default:
			return n, fmt.Errorf("read of tensor bytes at %d (run %d, %s)", off, i, run.Kind)
		}
		p, off, n = p[c:], off+int64(c), n+c
	}
	return n, nil
}

func (r literalReader) bytes(t *testing.T, off, n int64) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

func f32Bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func i64Bytes(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}
