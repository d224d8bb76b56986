package torchpickle

import (
	"fmt"
	"math/bits"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// storage is one serialized torch storage: a run of elements of one dtype.
// The pickle names it (persistent id); the file layout says where its bytes
// are (Offset, set once the whole file has been walked).
type storage struct {
	Key   string
	DType dtype.DType
	Numel int64
	// Offset is where the storage's first byte lies in the file.
	Offset int64
}

// Tensor is a tensor of the checkpoint, as torch._utils._rebuild_tensor_v2
// would rebuild it: a view (offset, shape, strides, in elements) of a
// storage. Nothing of its data has been read.
type Tensor struct {
	DType  dtype.DType
	Shape  []int64
	Stride []int64
	// StorageOffset is the view's first element within the storage.
	StorageOffset int64
	storage       *storage
	path          string
}

// SameData reports whether two tensors are the same view of the same
// storage, as tied weights are.
func (t *Tensor) SameData(o *Tensor) bool {
	return t.storage == o.storage && t.StorageOffset == o.StorageOffset &&
		tensor.ShapeEqual(t.Shape, o.Shape) && tensor.ShapeEqual(t.Stride, o.Stride)
}

// Source describes where the tensor's row-major bytes lie in the file. A
// view whose elements are not one contiguous run is unsupported. torch.save
// records no checksum, so the source has none.
func (t *Tensor) Source(name string) (*tensor.Source, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: tensor %s: %s", t.path, name, fmt.Sprintf(format, args...))
	}
	if !contiguous(t.Shape, t.Stride) {
		return nil, fail("unsupported: strides %v do not lay shape %s out contiguously", t.Stride, tensor.FormatShape(t.Shape))
	}
	numel, ok := elements(t.Shape)
	if !ok {
		return nil, fail("shape %s is too large", tensor.FormatShape(t.Shape))
	}
	if t.StorageOffset > t.storage.Numel || numel > t.storage.Numel-t.StorageOffset {
		return nil, fail("elements [%d, %d) lie outside storage %s of %d elements",
			t.StorageOffset, t.StorageOffset+numel, t.storage.Key, t.storage.Numel)
	}
	size := int64(t.DType.Size())
	src := &tensor.Source{File: t.path, Name: name, DType: t.DType, Shape: t.Shape}
	if numel > 0 {
		src.Extents = []tensor.Extent{{Path: t.path, Offset: t.storage.Offset + t.StorageOffset*size, Length: numel * size}}
	}
	return src, nil
}

// contiguous is torch's is_contiguous: row-major strides, where dimensions
// of size 1 may have any stride and an empty tensor is always contiguous.
func contiguous(shape, stride []int64) bool {
	if len(shape) != len(stride) {
		return false
	}
	for _, d := range shape {
		if d == 0 {
			return true
		}
	}
	want := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}

// elements is the product of the dimensions, false on overflow.
func elements(shape []int64) (int64, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > 1<<62 {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}
