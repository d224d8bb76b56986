package layout

import (
	"fmt"
	"math"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// knownDType reports whether d is one of dtype's constants. Checked before
// any dtype accessor is called, because those index a table and would panic
// on a stray value.
func knownDType(d dtype.DType) bool {
	switch d {
	case dtype.F32, dtype.F16, dtype.BF16, dtype.F64, dtype.I8, dtype.I16, dtype.I32, dtype.I64, dtype.U8, dtype.Bool:
		return true
	}
	return false
}

// checkTensor reports why tensor i cannot be laid out, if it cannot: its
// byte size and every stride must fit in int64, and its source, when given,
// must hold exactly the output's bytes; a computed tensor's data must be
// exactly its bytes.
func checkTensor(i int, t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("tensor %d is missing", i)
	}
	if !knownDType(t.DType) {
		return fmt.Errorf("tensor %s: unsupported dtype %s", t.Name, t.DType)
	}
	elements, span := int64(1), int64(1) // span: product with zero dims as one, as strides use
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %s: negative dimension in shape %s", t.Name, tensor.FormatShape(t.Shape))
		}
		var ok bool
		if elements, ok = mulInt64(elements, d); !ok {
			return fmt.Errorf("tensor %s: shape %s is too large", t.Name, tensor.FormatShape(t.Shape))
		}
		if span, ok = mulInt64(span, max(d, 1)); !ok {
			return fmt.Errorf("tensor %s: shape %s is too large", t.Name, tensor.FormatShape(t.Shape))
		}
	}
	size, ok := mulInt64(elements, int64(t.DType.Size()))
	if !ok {
		return fmt.Errorf("tensor %s: shape %s is too large", t.Name, tensor.FormatShape(t.Shape))
	}
	if t.Src == nil {
		if t.Data == nil {
			return fmt.Errorf("tensor %s: neither a source nor computed data", t.Name)
		}
		if int64(len(t.Data)) != size {
			return fmt.Errorf("tensor %s: computed data holds %d bytes but %s %s needs %d", t.Name, len(t.Data), t.DType, tensor.FormatShape(t.Shape), size)
		}
		return nil
	}
	// The source holds the same elements, possibly of a narrower dtype that
	// the conversion widens.
	if !knownDType(t.Src.DType) || t.Src.Bytes() != elements*int64(t.Src.DType.Size()) {
		return fmt.Errorf("tensor %s: source %s holds %d bytes but %s %s needs %d", t.Name, t.Src.Name, t.Src.Bytes(), t.Src.DType, tensor.FormatShape(t.Shape), elements*int64(t.Src.DType.Size()))
	}
	return nil
}

// mulInt64 multiplies non-negative a and b, reporting overflow.
func mulInt64(a, b int64) (int64, bool) {
	if a != 0 && b > math.MaxInt64/a {
		return 0, false
	}
	return a * b, true
}
