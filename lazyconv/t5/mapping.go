package t5

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Mapping is a checkpoint's variables as T5ForConditionalGeneration's state
// dict.
type Mapping struct {
	Tensors []*tensor.Tensor // distinct tensors in state-dict order
	Keys    []layout.Key     // the full state dict, tied keys naming their tensor
	Skipped []string
	Unused  []conversion.Leftover
}

// Map applies the reference loader to every variable of ck: Adafactor slots
// and bookkeeping are skipped, every other variable lands on a parameter
// (whose shape must match cfg) or is listed as unused. Every parameter must
// come from the checkpoint: the reference would leave a missing one
// randomly initialised.
func Map(ck *tfbundle.Checkpoint, cfg *Config) (*Mapping, error) {
	params := stateDict(cfg)
	paths := map[string]bool{}
	aliasOf := map[string]string{}
	for _, p := range params {
		parts := strings.Split(p.key, ".")
		for i := 1; i <= len(parts); i++ {
			paths[strings.Join(parts[:i], ".")] = true
		}
		if p.tiedTo != "" {
			aliasOf[p.key] = p.tiedTo
		}
	}
	has := func(path string) bool { return paths[path] }

	type found struct {
		entry     *tfbundle.Entry
		transpose bool
	}
	m := &Mapping{}
	byKey := map[string]found{}
	for i := range ck.Entries { // sorted by name, the order the reference assigns in
		e := &ck.Entries[i]
		if isSkipped(e.Name) {
			m.Skipped = append(m.Skipped, e.Name)
			continue
		}
		key, transpose, ok := hfName(e.Name, has)
		if ok && aliasOf[key] != "" {
			key = aliasOf[key] // writing an alias writes the shared tensor
		}
		if !ok || !isParam(params, key) {
			m.Unused = append(m.Unused, leftover(e))
			continue
		}
		if prev, dup := byKey[key]; dup {
			m.Unused = append(m.Unused, leftover(prev.entry)) // the later assignment wins
		}
		byKey[key] = found{e, transpose}
	}

	index := map[string]int{}
	for _, p := range params {
		if p.tiedTo != "" {
			m.Keys = append(m.Keys, layout.Key{Name: p.key, Tensor: index[p.tiedTo]})
			continue
		}
		f, ok := byKey[p.key]
		if !ok {
			return nil, fmt.Errorf("%s: no variable for %s (from %s); the reference would leave it randomly initialised", ck.IndexPath(), p.key, cfg.Source)
		}
		t, err := output(ck, f.entry, f.transpose, p, cfg)
		if err != nil {
			return nil, err
		}
		index[p.key] = len(m.Tensors)
		m.Keys = append(m.Keys, layout.Key{Name: p.key, Tensor: len(m.Tensors)})
		m.Tensors = append(m.Tensors, t)
	}
	return m, nil
}

func isParam(params []param, key string) bool {
	return slices.ContainsFunc(params, func(p param) bool { return p.key == key && p.tiedTo == "" })
}

// output describes parameter p made from entry e: cast to float32 as the
// reference casts every array (exactly: from bfloat16 or float32), and
// transposed unless it is an embedding.
func output(ck *tfbundle.Checkpoint, e *tfbundle.Entry, transpose bool, p param, cfg *Config) (*tensor.Tensor, error) {
	src, err := ck.Source(e)
	if err != nil {
		return nil, err
	}
	if src.DType != dtype.BF16 && src.DType != dtype.F32 {
		return nil, fmt.Errorf("unsupported: %s: tensor %s is %s; the reference casts it to float32, which ckptfs does exactly only from bfloat16 or float32", src.File, src.Name, src.DType)
	}
	t := &tensor.Tensor{Name: p.key, DType: dtype.F32, Shape: src.Shape, Src: src}
	if transpose && len(src.Shape) >= 2 {
		t.Shape = slices.Clone(src.Shape)
		slices.Reverse(t.Shape) // numpy's transpose reverses every axis
		t.Transform = tensor.Transpose2D
	}
	if !tensor.ShapeEqual(t.Shape, p.shape) || len(src.Shape) > 2 {
		return nil, fmt.Errorf("%s: tensor %s: shape %s (%s as the reference uses it) does not match %s from %s (want %s)",
			src.File, src.Name, tensor.FormatShape(src.Shape), tensor.FormatShape(t.Shape), p.key, cfg.Source, tensor.FormatShape(p.shape))
	}
	return t, nil
}

func leftover(e *tfbundle.Entry) conversion.Leftover {
	return conversion.Leftover{Name: e.Name, DType: dtype.TFDataTypeName(e.TFDType), Shape: e.Shape}
}
