package openaigpt

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// mapArrays cuts the flat vector by the shapes, as the reference's
// np.split does, and lays the arrays out as OpenAIGPTModel's state dict.
// Each array is squeezed (Conv1D weights [1, in, out] become [in, out],
// the bytes unchanged; no transpose) and must then have its key's shape.
func mapArrays(shapesPath string, shapes [][]int64, arrays []array, params []param, flat *flatVector) (*conversion.Conversion, error) {
	want := map[string][]int64{}
	for _, p := range params {
		want[p.key] = p.shape
	}
	var needed int64
	for _, s := range shapes {
		needed += tensor.NumElements(s)
	}
	if needed > flat.total {
		return nil, fmt.Errorf("%s: lists %d values, %s … %s hold only %d", shapesPath, needed, shardName(0), shardName(NumShards-1), flat.total)
	}
	byKey := map[string]*tensor.Tensor{}
	var first int64
	for i, s := range shapes {
		a := arrays[i]
		out := squeeze(s)
		if !tensor.ShapeEqual(out, want[a.key]) {
			return nil, fmt.Errorf("%s: array %d (%s) has shape %s, %s needs %s", shapesPath, i, a.origin, tensor.FormatShape(s), a.key, tensor.FormatShape(want[a.key]))
		}
		n := tensor.NumElements(s)
		src := flat.source(fmt.Sprintf("array %d (%s)", i, a.origin), first, n, s)
		byKey[a.key] = &tensor.Tensor{Name: a.key, DType: dtype.F32, Shape: out, Src: src}
		first += n
	}
	conv := &conversion.Conversion{Source: ShapesFile, Architecture: Architecture}
	for _, p := range params {
		conv.Keys = append(conv.Keys, layout.Key{Name: p.key, Tensor: len(conv.Tensors)})
		conv.Tensors = append(conv.Tensors, byKey[p.key])
	}
	// np.split's last piece, the values after the last shape, is dropped by
	// the reference; it is listed, not silently ignored.
	if rest := flat.total - needed; rest > 0 {
		conv.Unused = append(conv.Unused, conversion.Leftover{
			Name:  fmt.Sprintf("%d values after the last array of %s", rest, ShapesFile),
			DType: dtype.F32.String(),
			Shape: []int64{rest},
		})
	}
	return conv, nil
}

// squeeze drops every dimension of size 1, as numpy's squeeze does.
func squeeze(shape []int64) []int64 {
	out := []int64{}
	for _, d := range shape {
		if d != 1 {
			out = append(out, d)
		}
	}
	return out
}
