package albert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// ConfigFile is the release's config.
const ConfigFile = "albert_config.json"

// Family is Google's ALBERT release: albert_config.json beside a
// TensorFlow checkpoint and a SentencePiece model.
var Family = conversion.Family{
	Kind:      "albert",
	Detect:    detect,
	Generated: []string{"config.json", "tokenizer_config.json", "spiece.model"},
	Convert:   convert,
}

func detect(names []string) bool { return tfbundle.BesideConfig(names, ConfigFile) }

// Config is a parsed albert_config.json.
type Config struct {
	Path string
	raw  map[string]json.RawMessage // every original key, literals kept

	VocabSize, EmbeddingSize, HiddenSize, NumLayers, NumHeads int64
	IntermediateSize, MaxPositions, TypeVocabSize             int64
	NumGroups, InnerGroupNum                                  int64
}

func readConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &Config{Path: path}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&c.raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %w", path, err)
	}
	// AlbertConfig's defaults for keys a file leaves out.
	fields := []struct {
		key string
		def int64
		dst *int64
	}{
		{"vocab_size", 30000, &c.VocabSize}, {"embedding_size", 128, &c.EmbeddingSize},
		{"hidden_size", 4096, &c.HiddenSize}, {"num_hidden_layers", 12, &c.NumLayers},
		{"num_attention_heads", 64, &c.NumHeads}, {"intermediate_size", 16384, &c.IntermediateSize},
		{"max_position_embeddings", 512, &c.MaxPositions}, {"type_vocab_size", 2, &c.TypeVocabSize},
		{"num_hidden_groups", 1, &c.NumGroups}, {"inner_group_num", 1, &c.InnerGroupNum},
	}
	for _, f := range fields {
		*f.dst = f.def
		if lit, ok := c.raw[f.key]; ok {
			if err := json.Unmarshal(lit, f.dst); err != nil || *f.dst <= 0 || *f.dst > 1<<40 {
				return nil, fmt.Errorf("%s: %s must be a positive integer, got %s", path, f.key, lit)
			}
		}
	}
	if c.HiddenSize%c.NumHeads != 0 {
		return nil, fmt.Errorf("%s: hidden_size %d is not a multiple of num_attention_heads %d", path, c.HiddenSize, c.NumHeads)
	}
	return c, nil
}

func convert(dir string) (*conversion.Conversion, error) {
	cfg, err := readConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	ck, err := tfbundle.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	if err := conversion.CheckCounts(cfg.Path, len(ck.Entries), ck.IndexPath(), conversion.Count{Key: "num_hidden_layers", N: cfg.NumLayers}); err != nil {
		return nil, err
	}
	if err := conversion.CheckCounts(cfg.Path, len(ck.Entries), ck.IndexPath(), conversion.Count{Key: "num_hidden_groups", N: cfg.NumGroups}, conversion.Count{Key: "inner_group_num", N: cfg.InnerGroupNum}); err != nil {
		return nil, err
	}
	params := stateDict(cfg)
	prefixes := map[string]bool{}
	for _, p := range params {
		parts := strings.Split(p.Key, ".")
		for i := 1; i <= len(parts); i++ {
			prefixes[strings.Join(parts[:i], ".")] = true
		}
	}
	known := func(prefix string) bool { return prefixes[prefix] }

	conv := &conversion.Conversion{Source: filepath.Base(ck.Prefix), Architecture: "AlbertForPreTraining"}
	byKey := map[string]*tensor.Tensor{}
	for i := range ck.Entries {
		e := &ck.Entries[i]
		parts := rewrite(e.Name)
		if isOptimizerState(parts) {
			conv.Skipped = append(conv.Skipped, e.Name)
			continue
		}
		key, transpose := hfName(parts, known)
		if _, isParam := shapeOf(params, key); !isParam || byKey[key] != nil {
			conv.Unused = append(conv.Unused, leftover(e))
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
			t.Shape, t.Transform = []int64{src.Shape[1], src.Shape[0]}, tensor.Transpose2D
		}
		byKey[key] = t
	}
	if conv.Tensors, conv.Keys, err = conversion.Assemble(params, byKey, cfg.Path); err != nil {
		return nil, err
	}
	if len(conv.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no ALBERT variables found", ck.IndexPath())
	}
	if conv.Files, err = generatedFiles(dir, cfg); err != nil {
		return nil, err
	}
	return conv, nil
}

func leftover(e *tfbundle.Entry) conversion.Leftover {
	return conversion.Leftover{Name: e.Name, DType: dtype.TFDataTypeName(e.TFDType), Shape: e.Shape}
}

func shapeOf(params []conversion.Param, key string) ([]int64, bool) {
	for _, p := range params {
		if p.Key == key && p.TiedTo == "" {
			return p.Shape, true
		}
	}
	return nil, false
}

// stateDict lists AlbertForPreTraining's parameters in state-dict order.
func stateDict(c *Config) []conversion.Param {
	E, H, I, V := c.EmbeddingSize, c.HiddenSize, c.IntermediateSize, c.VocabSize
	vec := func(k string, n int64) conversion.Param { return conversion.Param{Key: k, Shape: []int64{n}} }
	mat := func(k string, r, cols int64) conversion.Param {
		return conversion.Param{Key: k, Shape: []int64{r, cols}}
	}
	ps := []conversion.Param{
		mat("albert.embeddings.word_embeddings.weight", V, E),
		mat("albert.embeddings.position_embeddings.weight", c.MaxPositions, E),
		mat("albert.embeddings.token_type_embeddings.weight", c.TypeVocabSize, E),
		vec("albert.embeddings.LayerNorm.weight", E), vec("albert.embeddings.LayerNorm.bias", E),
		mat("albert.encoder.embedding_hidden_mapping_in.weight", H, E), vec("albert.encoder.embedding_hidden_mapping_in.bias", H),
	}
	for g := int64(0); g < c.NumGroups; g++ {
		for k := int64(0); k < c.InnerGroupNum; k++ {
			l := fmt.Sprintf("albert.encoder.albert_layer_groups.%d.albert_layers.%d.", g, k)
			ps = append(ps, vec(l+"full_layer_layer_norm.weight", H), vec(l+"full_layer_layer_norm.bias", H))
			for _, proj := range []string{"query", "key", "value", "dense"} {
				ps = append(ps, mat(l+"attention."+proj+".weight", H, H), vec(l+"attention."+proj+".bias", H))
			}
			ps = append(ps, vec(l+"attention.LayerNorm.weight", H), vec(l+"attention.LayerNorm.bias", H),
				mat(l+"ffn.weight", I, H), vec(l+"ffn.bias", I),
				mat(l+"ffn_output.weight", H, I), vec(l+"ffn_output.bias", H))
		}
	}
	return append(ps,
		mat("albert.pooler.weight", H, H), vec("albert.pooler.bias", H),
		vec("predictions.bias", V),
		vec("predictions.LayerNorm.weight", E), vec("predictions.LayerNorm.bias", E),
		mat("predictions.dense.weight", E, H), vec("predictions.dense.bias", E),
		conversion.Param{Key: "predictions.decoder.weight", TiedTo: "albert.embeddings.word_embeddings.weight"},
		conversion.Param{Key: "predictions.decoder.bias", TiedTo: "predictions.bias"},
		mat("sop_classifier.classifier.weight", 2, H), vec("sop_classifier.classifier.bias", 2),
	)
}

// generatedFiles makes config.json (the original keys, sorted as
// transformers writes them, plus model_type and architectures), the
// tokenizer config, and spiece.model: the release's SentencePiece model
// (30k-clean.model, or the folder's only *.model) under the name
// transformers expects.
func generatedFiles(dir string, c *Config) (map[string][]byte, error) {
	out := map[string]any{"model_type": "albert", "architectures": []string{"AlbertForPreTraining"}}
	for k, v := range c.raw {
		out[k] = v
	}
	config, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	tok, err := json.MarshalIndent(map[string]any{
		"tokenizer_class":  "AlbertTokenizer",
		"do_lower_case":    true,
		"keep_accents":     false,
		"remove_space":     true,
		"model_max_length": c.MaxPositions,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"config.json": append(config, '\n'), "tokenizer_config.json": append(tok, '\n')}
	models, _ := filepath.Glob(filepath.Join(dir, "*.model"))
	sort.Strings(models)
	if len(models) > 0 {
		choice := models[0]
		for _, m := range models {
			if filepath.Base(m) == "30k-clean.model" {
				choice = m
			}
		}
		if files["spiece.model"], err = os.ReadFile(choice); err != nil {
			return nil, err
		}
	}
	return files, nil
}
