// Package plancheck checks that a weight file's plan is consistent with
// the tensors it serves, so a wrong mapping is reported instead of served:
// ckptfs verify and the fuzz targets use it.
package plancheck

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// Check checks a weight file's plan: runs contiguous and covering the
// file, each tensor run as long as the tensor, and each output tensor made
// of exactly its source's elements (a transpose swapping two dimensions).
func Check(p *index.Plan) error {
	var off int64
	for i, run := range p.Runs {
		if run.Off != off || run.Len <= 0 {
			return fmt.Errorf("plan: run %d covers [%d, %d), expected to start at %d", i, run.Off, run.Off+run.Len, off)
		}
		off += run.Len
		if run.Kind == index.Literal {
			if int64(len(run.Data)) != run.Len {
				return fmt.Errorf("plan: literal run %d holds %d bytes for %d", i, len(run.Data), run.Len)
			}
			continue
		}
		if run.Tensor < 0 || run.Tensor >= len(p.Tensors) {
			return fmt.Errorf("plan: run %d names tensor %d of %d", i, run.Tensor, len(p.Tensors))
		}
		t := p.Tensors[run.Tensor]
		if err := checkTensor(t); err != nil {
			return err
		}
		if run.TensorOff < 0 || run.TensorOff+run.Len > t.Bytes() {
			return fmt.Errorf("%s: tensor %s: plan run [%d, %d) outside its %d output bytes", t.Src.File, t.Src.Name, run.TensorOff, run.TensorOff+run.Len, t.Bytes())
		}
	}
	if off != p.Size {
		return fmt.Errorf("plan: runs cover %d bytes of a %d-byte file", off, p.Size)
	}
	return nil
}

// checkTensor checks that an output tensor is its source's elements.
func checkTensor(t *tensor.Tensor) error {
	src := t.Src
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: tensor %s (%s): mapping: %s", src.File, src.Name, t.Name, fmt.Sprintf(format, args...))
	}
	n := tensor.NumElements(src.Shape)
	if src.Bytes() != n*int64(src.DType.Size()) {
		return fail("%d source bytes for %s %s", src.Bytes(), src.DType, tensor.FormatShape(src.Shape))
	}
	if tensor.NumElements(t.Shape) != n {
		return fail("output shape %s has a different element count than source shape %s", tensor.FormatShape(t.Shape), tensor.FormatShape(src.Shape))
	}
	if t.DType != src.DType && t.DType.Size() < src.DType.Size() {
		return fail("output dtype %s narrower than source %s", t.DType, src.DType)
	}
	if t.Transform == tensor.Transpose2D && (len(src.Shape) != 2 || !tensor.ShapeEqual(t.Shape, []int64{src.Shape[1], src.Shape[0]})) {
		return fail("transpose of %s gives %s", tensor.FormatShape(src.Shape), tensor.FormatShape(t.Shape))
	}
	return nil
}
