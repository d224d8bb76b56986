package xlm

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/torchpickle"
)

// maxPositions is XLM's fixed position table size (N_MAX_POSITIONS), which
// is also XLMConfig's default max_position_embeddings.
const maxPositions = 512

// Hyper are the training flags that shape the model.
type Hyper struct {
	EmbDim, NLayers, NHeads, NWords, NLangs int64
	UseLangEmb                              bool
}

// readHyper checks the flags XLM's TransformerModel is built from.
func readHyper(r *Release) (*Hyper, error) {
	p := r.Params
	h := &Hyper{UseLangEmb: true} // XLM: getattr(params, 'use_lang_emb', True)
	for _, f := range []struct {
		key string
		dst *int64
	}{{"emb_dim", &h.EmbDim}, {"n_layers", &h.NLayers}, {"n_heads", &h.NHeads}, {"n_words", &h.NWords}, {"n_langs", &h.NLangs}} {
		v, _ := p.Get(f.key)
		n, ok := v.(int64)
		if !ok || n <= 0 || n > 1<<40 {
			return nil, fmt.Errorf("%s: params[%q] must be a positive integer, got %v", r.Path, f.key, v)
		}
		*f.dst = n
	}
	if h.EmbDim%h.NHeads != 0 {
		return nil, fmt.Errorf("%s: params emb_dim %d is not a multiple of n_heads %d", r.Path, h.EmbDim, h.NHeads)
	}
	if v, ok := p.Get("use_lang_emb"); ok {
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: params[\"use_lang_emb\"] must be a bool, got %v", r.Path, v)
		}
		h.UseLangEmb = b
	}
	// Layers transformers' XLM does not have.
	for key, what := range map[string]string{"asm": "an adaptive softmax output layer", "use_memory": "product-key memory layers"} {
		if v, _ := p.Get(key); v == true {
			return nil, fmt.Errorf("%s: unsupported: the model has %s (params[%q]), which transformers' XLM lacks", r.Path, what, key)
		}
	}
	if n := int64(len(r.Word2ID)); n != h.NWords {
		return nil, fmt.Errorf("%s: the dictionary has %d words, params[\"n_words\"] says %d", r.Path, n, h.NWords)
	}
	return h, nil
}

// configJSON is the reference's config.json, the training flags without
// tensors and arrays (and, unlike the reference, which crashes on them,
// without the flags JSON cannot hold), plus what AutoConfig needs to pick
// the class and what the checkpoint tells that XLMConfig's defaults would
// get wrong.
func configJSON(r *Release, m *Mapping) ([]byte, error) {
	out := &torchpickle.Dict{}
	for _, it := range r.Params.Items {
		if _, err := pyJSON(it.Value); err != nil {
			continue
		}
		if _, err := jsonKey(it.Key); err != nil {
			continue
		}
		out.Items = append(out.Items, it)
	}
	set(out, "model_type", "xlm")
	set(out, "architectures", torchpickle.List{m.Architecture})
	if m.Positions != maxPositions {
		set(out, "max_position_embeddings", m.Positions)
	}
	if m.Untied {
		set(out, "tie_word_embeddings", false)
	}
	data, err := pyJSON(out)
	if err != nil {
		return nil, fmt.Errorf("%s: config.json: %w", r.Path, err)
	}
	return append(data, '\n'), nil
}

// set replaces a key's value in place, or appends the key.
func set(d *torchpickle.Dict, key string, value any) {
	for i := range d.Items {
		if d.Items[i].Key == key {
			d.Items[i].Value = value
			return
		}
	}
	d.Items = append(d.Items, torchpickle.Item{Key: key, Value: value})
}
