package bert

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
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
	for i, p := range order {
		wanted[p.Key] = true
		if p.Key == "classifier.weight" || p.Key == "classifier.bias" {
			order[i].Shape = append([]int64{int64(m.NumLabels)}, p.Shape...)
		}
	}
	for key, t := range byKey {
		if !wanted[key] {
			m.Unmapped = append(m.Unmapped, t.Src.Name)
		}
	}
	var err error
	if m.Tensors, m.Keys, err = conversion.Assemble(order, byKey, cfg.Path); err != nil {
		return nil, err
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
			known[p.Key] = true
		}
	}
	return known
}

// stateDict lists the parameters of a Hugging Face BERT class in the order
// its state_dict has them (module registration order).
// For classifier.* the shape lacks the leading label dimension, which only
// the checkpoint knows.
func stateDict(cfg *Config, arch string) []conversion.Param {
	H, I := cfg.HiddenSize, cfg.IntermediateSize
	vec := func(k string, n int64) conversion.Param { return conversion.Param{Key: k, Shape: []int64{n}} }
	mat := func(k string, rows, cols int64) conversion.Param {
		return conversion.Param{Key: k, Shape: []int64{rows, cols}}
	}
	dense := func(prefix string, out, in int64) []conversion.Param {
		return []conversion.Param{mat(prefix+".weight", out, in), vec(prefix+".bias", out)}
	}
	norm := func(prefix string) []conversion.Param {
		return []conversion.Param{vec(prefix+".weight", H), vec(prefix+".bias", H)}
	}
	ps := []conversion.Param{
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
		return append(ps, conversion.Param{Key: "classifier.weight", Shape: []int64{H}}, conversion.Param{Key: "classifier.bias", Shape: []int64{}})
	}
	ps = append(ps, vec("cls.predictions.bias", cfg.VocabSize))
	ps = append(ps, dense("cls.predictions.transform.dense", H, H)...)
	ps = append(ps, norm("cls.predictions.transform.LayerNorm")...)
	ps = append(ps,
		conversion.Param{Key: "cls.predictions.decoder.weight", TiedTo: "bert.embeddings.word_embeddings.weight"},
		conversion.Param{Key: "cls.predictions.decoder.bias", TiedTo: "cls.predictions.bias"},
	)
	return append(ps, dense("cls.seq_relationship", 2, H)...)
}
