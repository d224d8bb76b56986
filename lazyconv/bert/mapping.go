package bert

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// File names of a BERT release.
const (
	ConfigFile = "bert_config.json"
	VocabFile  = "vocab.txt"
)

// Architectures the mapping produces.
const (
	PreTraining            = "BertForPreTraining"
	SequenceClassification = "BertForSequenceClassification"
)

// Mapping is a checkpoint's tensors as a Hugging Face state dict.
type Mapping struct {
	Architecture string
	NumLabels    int // classifier heads only
	// Tensors are the distinct output tensors in state-dict order.
	Tensors []*tensor.Tensor
	// Keys is the full state dict in order, tied keys naming the tensor
	// they share (what torch.save writes).
	Keys []layout.Key
	// Skipped lists optimizer and bookkeeping variables; Unmapped lists every
	// other variable the model does not use.
	Skipped, Unmapped []string
}

// Map applies the reference loader's rules to every variable of ck and
// checks each shape against cfg.
func Map(ck *tfbundle.Checkpoint, cfg *Config) (*Mapping, error) {
	m := &Mapping{Architecture: PreTraining}
	known := knownKeys(cfg)
	byKey := map[string]*tensor.Tensor{}
	for i := range ck.Entries {
		e := &ck.Entries[i]
		if IsOptimizerState(e.Name) {
			m.Skipped = append(m.Skipped, e.Name)
			continue
		}
		key, transpose := hfName(e.Name)
		if !known[key] {
			m.Unmapped = append(m.Unmapped, e.Name)
			continue
		}
		src, err := ck.Source(e)
		if err != nil {
			return nil, err
		}
		t := &tensor.Tensor{Name: key, DType: src.DType, Shape: src.Shape, Src: src}
		if transpose {
			if len(src.Shape) != 2 {
				return nil, fmt.Errorf("%s: tensor %s: kernel has shape %s, want 2 dimensions", src.File, e.Name, tensor.FormatShape(src.Shape))
			}
			t.Shape = []int64{src.Shape[1], src.Shape[0]}
			t.Transform = tensor.Transpose2D
		}
		byKey[key] = t
	}
	if head, ok := byKey["classifier.weight"]; ok {
		m.Architecture = SequenceClassification
		if len(head.Shape) != 2 {
			return nil, fmt.Errorf("%s: tensor %s: classifier weights have shape %s, want [labels, hidden]", head.Src.File, head.Src.Name, tensor.FormatShape(head.Shape))
		}
		m.NumLabels = int(head.Shape[0])
	}
	order := stateDict(cfg, m.Architecture)
	wanted := map[string]bool{}
	for _, p := range order {
		wanted[p.key] = true
	}
	for key, t := range byKey {
		if !wanted[key] {
			m.Unmapped = append(m.Unmapped, t.Src.Name)
		}
	}
	index := map[string]int{}
	for _, p := range order {
		if p.tiedTo != "" {
			if i, ok := index[p.tiedTo]; ok {
				m.Keys = append(m.Keys, layout.Key{Name: p.key, Tensor: i})
			}
			continue
		}
		t, ok := byKey[p.key]
		if !ok {
			continue
		}
		want := p.shape
		if p.key == "classifier.weight" || p.key == "classifier.bias" {
			want = append([]int64{int64(m.NumLabels)}, want...)
		}
		if !tensor.ShapeEqual(t.Shape, want) {
			return nil, fmt.Errorf("%s: tensor %s: shape %s does not match %s from %s (want %s)", t.Src.File, t.Src.Name, tensor.FormatShape(t.Shape), p.key, cfg.Path, tensor.FormatShape(want))
		}
		index[p.key] = len(m.Tensors)
		m.Keys = append(m.Keys, layout.Key{Name: p.key, Tensor: len(m.Tensors)})
		m.Tensors = append(m.Tensors, t)
	}
	if len(m.Tensors) == 0 {
		return nil, fmt.Errorf("%s.index: no BERT variables found", ck.Prefix)
	}
	return m, nil
}

// knownKeys are the parameters of every BERT class the mapping produces.
func knownKeys(cfg *Config) map[string]bool {
	known := map[string]bool{}
	for _, arch := range []string{PreTraining, SequenceClassification} {
		for _, p := range stateDict(cfg, arch) {
			known[p.key] = true
		}
	}
	return known
}

type param struct {
	key    string
	shape  []int64 // for classifier.*: without the leading label dimension
	tiedTo string  // set for keys that share another key's tensor
}

// stateDict lists the parameters of a Hugging Face BERT class in the order
// its state_dict has them (module registration order).
func stateDict(cfg *Config, arch string) []param {
	H, I := cfg.HiddenSize, cfg.IntermediateSize
	vec := func(k string, n int64) param { return param{key: k, shape: []int64{n}} }
	mat := func(k string, rows, cols int64) param { return param{key: k, shape: []int64{rows, cols}} }
	dense := func(prefix string, out, in int64) []param {
		return []param{mat(prefix+".weight", out, in), vec(prefix+".bias", out)}
	}
	norm := func(prefix string) []param {
		return []param{vec(prefix+".weight", H), vec(prefix+".bias", H)}
	}
	ps := []param{
		mat("bert.embeddings.word_embeddings.weight", cfg.VocabSize, H),
		mat("bert.embeddings.position_embeddings.weight", cfg.MaxPositions, H),
		mat("bert.embeddings.token_type_embeddings.weight", cfg.TypeVocabSize, H),
	}
	ps = append(ps, norm("bert.embeddings.LayerNorm")...)
	for i := int64(0); i < cfg.NumLayers; i++ {
		l := fmt.Sprintf("bert.encoder.layer.%d.", i)
		for _, proj := range []string{"query", "key", "value"} {
			ps = append(ps, dense(l+"attention.self."+proj, H, H)...)
		}
		ps = append(ps, dense(l+"attention.output.dense", H, H)...)
		ps = append(ps, norm(l+"attention.output.LayerNorm")...)
		ps = append(ps, dense(l+"intermediate.dense", I, H)...)
		ps = append(ps, dense(l+"output.dense", H, I)...)
		ps = append(ps, norm(l+"output.LayerNorm")...)
	}
	ps = append(ps, dense("bert.pooler.dense", H, H)...)
	if arch == SequenceClassification {
		return append(ps, param{key: "classifier.weight", shape: []int64{H}}, param{key: "classifier.bias", shape: []int64{}})
	}
	ps = append(ps, vec("cls.predictions.bias", cfg.VocabSize))
	ps = append(ps, dense("cls.predictions.transform.dense", H, H)...)
	ps = append(ps, norm("cls.predictions.transform.LayerNorm")...)
	ps = append(ps,
		param{key: "cls.predictions.decoder.weight", tiedTo: "bert.embeddings.word_embeddings.weight"},
		param{key: "cls.predictions.decoder.bias", tiedTo: "cls.predictions.bias"},
	)
	return append(ps, dense("cls.seq_relationship", 2, H)...)
}
