package conversion

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// Param is one entry of a Hugging Face class's state dict.
type Param struct {
	Key    string
	Shape  []int64 // the shape the class expects
	TiedTo string  // for a key that shares another key's tensor (tied weights)
}

// Assemble lays out a state dict: the mapped tensors (byKey) in the order
// params lists them, each checked against its expected shape, and every
// tied key pointing at the tensor it shares when that tensor is present.
// Keys of params with no tensor are left out (the class initialises them).
// configPath names where the expected shapes come from, for errors.
func Assemble(params []Param, byKey map[string]*tensor.Tensor, configPath string) ([]*tensor.Tensor, []layout.Key, error) {
	var (
		tensors []*tensor.Tensor
		keys    []layout.Key
		index   = map[string]int{}
	)
	for _, p := range params {
		if p.TiedTo != "" {
			if i, ok := index[p.TiedTo]; ok {
				keys = append(keys, layout.Key{Name: p.Key, Tensor: i})
			}
			continue
		}
		t, ok := byKey[p.Key]
		if !ok {
			continue
		}
		if !tensor.ShapeEqual(t.Shape, p.Shape) {
			file := configPath
			if t.Src != nil {
				file = t.Src.File
			}
			return nil, nil, fmt.Errorf("%s: tensor %s: shape %s does not match %s from %s (want %s)",
				file, t.SourceName(), tensor.FormatShape(t.Shape), p.Key, configPath, tensor.FormatShape(p.Shape))
		}
		index[p.Key] = len(tensors)
		keys = append(keys, layout.Key{Name: p.Key, Tensor: len(tensors)})
		tensors = append(tensors, t)
	}
	return tensors, keys, nil
}
