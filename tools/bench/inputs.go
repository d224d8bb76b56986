package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/bundlewrite"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// bertShape is a BERT configuration; the checkpoint written for it has the
// variables and shapes Google's release checkpoints have.
type bertShape struct {
	Layers, Hidden, Intermediate, Heads, Vocab, Positions int
}

var (
	bertBase  = bertShape{Layers: 12, Hidden: 768, Intermediate: 3072, Heads: 12, Vocab: 30522, Positions: 512}   // ~440 MB
	bertLarge = bertShape{Layers: 24, Hidden: 1024, Intermediate: 4096, Heads: 16, Vocab: 30522, Positions: 512}  // ~1.3 GB
	bert10G   = bertShape{Layers: 30, Hidden: 2560, Intermediate: 10240, Heads: 32, Vocab: 30522, Positions: 512} // ~10 GB
	bertTiny  = bertShape{Layers: 1, Hidden: 8, Intermediate: 16, Heads: 2, Vocab: 16, Positions: 8}
)

type variable struct {
	name  string
	shape []int64
}

func (s bertShape) variables() []variable {
	h, i, v := int64(s.Hidden), int64(s.Intermediate), int64(s.Vocab)
	vars := []variable{
		{"bert/embeddings/word_embeddings", []int64{v, h}},
		{"bert/embeddings/position_embeddings", []int64{int64(s.Positions), h}},
		{"bert/embeddings/token_type_embeddings", []int64{2, h}},
		{"bert/embeddings/LayerNorm/gamma", []int64{h}},
		{"bert/embeddings/LayerNorm/beta", []int64{h}},
	}
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("bert/encoder/layer_%d/", l)
		for _, qkv := range []string{"query", "key", "value"} {
			vars = append(vars, variable{p + "attention/self/" + qkv + "/kernel", []int64{h, h}}, variable{p + "attention/self/" + qkv + "/bias", []int64{h}})
		}
		vars = append(vars,
			variable{p + "attention/output/dense/kernel", []int64{h, h}}, variable{p + "attention/output/dense/bias", []int64{h}},
			variable{p + "attention/output/LayerNorm/gamma", []int64{h}}, variable{p + "attention/output/LayerNorm/beta", []int64{h}},
			variable{p + "intermediate/dense/kernel", []int64{h, i}}, variable{p + "intermediate/dense/bias", []int64{i}},
			variable{p + "output/dense/kernel", []int64{i, h}}, variable{p + "output/dense/bias", []int64{h}},
			variable{p + "output/LayerNorm/gamma", []int64{h}}, variable{p + "output/LayerNorm/beta", []int64{h}},
		)
	}
	return append(vars,
		variable{"bert/pooler/dense/kernel", []int64{h, h}}, variable{"bert/pooler/dense/bias", []int64{h}},
		variable{"cls/predictions/output_bias", []int64{v}},
		variable{"cls/predictions/transform/dense/kernel", []int64{h, h}}, variable{"cls/predictions/transform/dense/bias", []int64{h}},
		variable{"cls/predictions/transform/LayerNorm/gamma", []int64{h}}, variable{"cls/predictions/transform/LayerNorm/beta", []int64{h}},
		variable{"cls/seq_relationship/output_weights", []int64{2, h}}, variable{"cls/seq_relationship/output_bias", []int64{2}},
	)
}

// bytes is the size of the checkpoint's data file.
func (s bertShape) bytes() int64 {
	var n int64
	for _, v := range s.variables() {
		n += 4 * tensor.NumElements(v.shape) // float32
	}
	return n
}

// pool is a buffer of small random float32 values that every variable's
// data is cut from (at varying offsets), so 10 GB of checkpoint need only
// its largest tensor in memory.
type pool []byte

func newPool(n int64) pool {
	p := make(pool, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := int64(0); i+4 <= n; i += 4 {
		binary.LittleEndian.PutUint32(p[i:], math.Float32bits(float32(r.NormFloat64()*0.02)))
	}
	return p
}

// writeBERT writes a model folder as Google's BERT releases lay it out:
// bert_config.json, vocab.txt, bert_model.ckpt.{index,data-00000-of-00001}.
func writeBERT(dir string, s bertShape, data pool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var vars []bundlewrite.Var
	var at int64
	for _, v := range s.variables() {
		n := int64(4)
		for _, d := range v.shape {
			n *= d
		}
		if at+n > int64(len(data)) {
			at = 0
		}
		vars = append(vars, bundlewrite.Var{Name: v.name, DType: dtype.F32, Shape: v.shape, Data: data[at : at+n]})
		at += 4096 // neighbouring tensors differ
	}
	if err := bundlewrite.Write(filepath.Join(dir, "bert_model.ckpt"), vars); err != nil {
		return err
	}
	config, _ := json.MarshalIndent(map[string]any{
		"attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
		"hidden_size": s.Hidden, "initializer_range": 0.02, "intermediate_size": s.Intermediate,
		"max_position_embeddings": s.Positions, "num_attention_heads": s.Heads,
		"num_hidden_layers": s.Layers, "type_vocab_size": 2, "vocab_size": s.Vocab,
	}, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "bert_config.json"), config, 0o644); err != nil {
		return err
	}
	var vocab strings.Builder
	for _, t := range []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"} {
		vocab.WriteString(t + "\n")
	}
	for i := 5; i < s.Vocab; i++ {
		fmt.Fprintf(&vocab, "tok%d\n", i)
	}
	return os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte(vocab.String()), 0o644)
}

// largestTensor is the pool size a shape's checkpoint needs.
func (s bertShape) largestTensor() int64 {
	var m int64
	for _, v := range s.variables() {
		m = max(m, 4*tensor.NumElements(v.shape))
	}
	return m
}

// writeManyModels makes a store of n tiny BERT folders in groups of 50, all
// hard links of one written model, for the mount-at-scale figure.
func writeManyModels(store string, n int) (oneModel string, err error) {
	first := filepath.Join(store, "org000", "uncased_tiny_000")
	if err := writeBERT(first, bertTiny, newPool(bertTiny.largestTensor()+8192)); err != nil {
		return "", err
	}
	files, err := os.ReadDir(first)
	if err != nil {
		return "", err
	}
	for i := 1; i < n; i++ {
		dir := filepath.Join(store, fmt.Sprintf("org%03d", i/50), fmt.Sprintf("uncased_tiny_%03d", i%50))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		for _, f := range files {
			if err := os.Link(filepath.Join(first, f.Name()), filepath.Join(dir, f.Name())); err != nil {
				return "", err
			}
		}
	}
	return filepath.Join(fmt.Sprintf("org%03d", (n-1)/50), fmt.Sprintf("uncased_tiny_%03d", (n-1)%50)), nil
}
