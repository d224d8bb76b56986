package xlm

import (
	"fmt"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// Architecture is the class the reference loads the converted model into.
const Architecture = "XLMWithLMHeadModel"

// Names whose tying decides the output projection.
const (
	inputEmbeddings = "transformer.embeddings.weight"
	outputWeights   = "pred_layer.proj.weight"
)

// Mapping is the state dict as Hugging Face's XLMWithLMHeadModel has it.
type Mapping struct {
	Architecture string
	Tensors      []*tensor.Tensor
	Keys         []layout.Key
	Unused       []conversion.Leftover
	// Positions is the position table's size (XLM fixes it at 512).
	Positions int64
	// Untied is set when the output projection is not the input embedding
	// matrix (XLM's share_inout_emb off).
	Untied bool
}

// hfName is the reference's rename: keys of the prediction layer stay,
// every other key moves under `transformer.`.
func hfName(name string) string {
	if strings.Contains(name, "pred_layer") {
		return name
	}
	return "transformer." + name
}

// Map renames the state dict, checks every shape against the training flags
// and orders the keys as XLMWithLMHeadModel.state_dict() does.
func Map(r *Release, h *Hyper) (*Mapping, error) {
	m := &Mapping{Architecture: Architecture, Positions: maxPositions}
	byKey := map[string]Entry{}
	var order []string
	prefix := ddpPrefix(r.Model)
	for _, e := range r.Model {
		key := hfName(strings.TrimPrefix(e.Name, prefix))
		byKey[key] = e
		order = append(order, key)
	}
	if e, ok := byKey["transformer.position_embeddings.weight"]; ok && len(e.Tensor.Shape) == 2 {
		m.Positions = e.Tensor.Shape[0]
	}
	index, used := map[string]int{}, map[string]bool{}
	for _, p := range stateDict(h, m.Positions) {
		e, ok := byKey[p.key]
		if p.key == outputWeights {
			emb, hasEmb := index[inputEmbeddings]
			if hasEmb && (!ok || e.Tensor.SameData(byKey[inputEmbeddings].Tensor)) {
				m.Keys = append(m.Keys, layout.Key{Name: p.key, Tensor: emb})
				used[p.key] = true
				continue
			}
			m.Untied = ok
		}
		if !ok {
			continue // left to from_pretrained, as the reference leaves it
		}
		used[p.key] = true
		if !tensor.ShapeEqual(e.Tensor.Shape, p.shape) {
			return nil, fmt.Errorf("%s: tensor %s: shape %s does not match %s from the params (emb_dim %d, n_words %d, n_langs %d; want %s)",
				r.Path, e.Name, tensor.FormatShape(e.Tensor.Shape), p.key, h.EmbDim, h.NWords, h.NLangs, tensor.FormatShape(p.shape))
		}
		src, err := e.Tensor.Source(e.Name)
		if err != nil {
			return nil, err
		}
		index[p.key] = len(m.Tensors)
		m.Keys = append(m.Keys, layout.Key{Name: p.key, Tensor: len(m.Tensors)})
		m.Tensors = append(m.Tensors, &tensor.Tensor{Name: p.key, DType: src.DType, Shape: src.Shape, Src: src})
	}
	for _, key := range order {
		if e := byKey[key]; !used[key] {
			m.Unused = append(m.Unused, conversion.Leftover{Name: e.Name, DType: e.Tensor.DType.String(), Shape: e.Tensor.Shape})
		}
	}
	if len(m.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no XLM parameters in the `model` state dict", r.Path)
	}
	return m, nil
}

type param struct {
	key   string
	shape []int64
}

// stateDict lists XLMWithLMHeadModel's parameters in state-dict order
// (module registration order: embeddings, then each per-layer module list
// in turn, then the prediction layer).
func stateDict(h *Hyper, positions int64) []param {
	d, v := h.EmbDim, h.NWords
	vec := func(k string, n int64) param { return param{k, []int64{n}} }
	mat := func(k string, rows, cols int64) param { return param{k, []int64{rows, cols}} }
	norm := func(p string) []param { return []param{vec(p+".weight", d), vec(p+".bias", d)} }
	ps := []param{mat("transformer.position_embeddings.weight", positions, d)}
	if h.NLangs > 1 && h.UseLangEmb {
		ps = append(ps, mat("transformer.lang_embeddings.weight", h.NLangs, d))
	}
	ps = append(ps, mat(inputEmbeddings, v, d))
	ps = append(ps, norm("transformer.layer_norm_emb")...)
	layers := func(f func(p string) []param, module string) {
		for i := int64(0); i < h.NLayers; i++ {
			ps = append(ps, f(fmt.Sprintf("transformer.%s.%d", module, i))...)
		}
	}
	layers(func(p string) []param {
		var out []param
		for _, lin := range []string{"q_lin", "k_lin", "v_lin", "out_lin"} {
			out = append(out, mat(p+"."+lin+".weight", d, d), vec(p+"."+lin+".bias", d))
		}
		return out
	}, "attentions")
	layers(norm, "layer_norm1")
	layers(func(p string) []param {
		return []param{mat(p+".lin1.weight", 4*d, d), vec(p+".lin1.bias", 4*d), mat(p+".lin2.weight", d, 4*d), vec(p+".lin2.bias", d)}
	}, "ffns")
	layers(norm, "layer_norm2")
	return append(ps, mat(outputWeights, v, d), vec("pred_layer.proj.bias", v))
}
