package xlnet

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Mapping is a checkpoint's tensors as a Hugging Face state dict.
type Mapping struct {
	Architecture string
	// Head is the fine-tuning task head of a classifier; nil for the
	// pre-trained model.
	Head *TaskHead
	// Summary tells whether a classifier has the summary projection
	// (run_classifier.py's use_summ_proj).
	Summary bool
	// Tensors are the distinct output tensors in state-dict order; Keys is
	// the full state dict, lm_loss.weight naming the word embedding.
	Tensors []*tensor.Tensor
	Keys    []layout.Key
	// Skipped lists optimizer and bookkeeping variables; Unused every other
	// variable the model does not use.
	Skipped []string
	Unused  []conversion.Leftover
}

// Map applies the reference's explicit map to every variable of ck and
// checks each shape against cfg. A checkpoint with a task head becomes
// XLNetForSequenceClassification, any other XLNetLMHeadModel (what the
// conversion script builds without a fine-tuning task).
func Map(ck *tfbundle.Checkpoint, cfg *Config) (*Mapping, error) {
	h, err := findHead(ck, cfg)
	if err != nil {
		return nil, err
	}
	m := &Mapping{Architecture: LMHead, Head: h}
	targets := bodyTargets(cfg)
	if h == nil {
		targets[lmBias] = one("lm_loss.bias")
	} else {
		if err := checkSummary(ck); err != nil {
			return nil, err
		}
		m.Architecture = SequenceClassification
		_, m.Summary = ck.Lookup(summaryKernel)
		for name, t := range headTargets(h) {
			targets[name] = t
		}
	}
	byKey := map[string]*tensor.Tensor{}
	for i := range ck.Entries {
		e := &ck.Entries[i]
		if isOptimizerState(e.Name) {
			m.Skipped = append(m.Skipped, e.Name)
			continue
		}
		if l, ok := layerOf(e.Name); ok && l >= cfg.NLayer {
			return nil, fmt.Errorf("%s: tensor %s is in layer %d, but %s has n_layer %d", ck.IndexPath(), e.Name, l, cfg.Path, cfg.NLayer)
		}
		t, ok := targets[e.Name]
		if !ok || (!m.Summary && e.Name == summaryBias) { // a bias without its kernel is no projection
			m.Unused = append(m.Unused, conversion.Leftover{Name: e.Name, DType: dtype.TFDataTypeName(e.TFDType), Shape: e.Shape})
			continue
		}
		src, err := ck.Source(e)
		if err != nil {
			return nil, err
		}
		ts, err := place(src, t, cfg)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			byKey[t.Name] = t
		}
	}
	if m.Tensors, m.Keys, err = conversion.Assemble(stateDict(cfg, m), byKey, cfg.Path); err != nil {
		return nil, err
	}
	if len(m.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no XLNet variables found", ck.IndexPath())
	}
	return m, nil
}

// place makes the output tensors of one checkpoint variable: itself,
// transposed, or one slice per layer of a stacked variable.
func place(src *tensor.Source, t target, cfg *Config) ([]*tensor.Tensor, error) {
	if len(t.keys) > 1 {
		return perLayer(src, t.keys, cfg)
	}
	out := &tensor.Tensor{Name: t.keys[0], DType: src.DType, Shape: src.Shape, Src: src}
	if t.transpose {
		if len(src.Shape) != 2 {
			return nil, fmt.Errorf("%s: tensor %s: dense kernel has shape %s, want 2 dimensions", src.File, src.Name, tensor.FormatShape(src.Shape))
		}
		out.Shape, out.Transform = []int64{src.Shape[1], src.Shape[0]}, tensor.Transpose2D
	}
	return []*tensor.Tensor{out}, nil
}

// perLayer splits a variable stacked along axis 0 (one entry per layer)
// into slices of the stored tensor, verified through its checksum.
func perLayer(src *tensor.Source, keys []string, cfg *Config) ([]*tensor.Tensor, error) {
	if len(src.Shape) == 0 || src.Shape[0] != int64(len(keys)) {
		return nil, fmt.Errorf("%s: tensor %s: shape %s does not stack n_layer %d layers from %s",
			src.File, src.Name, tensor.FormatShape(src.Shape), len(keys), cfg.Path)
	}
	return src.SplitStacked(keys)
}
