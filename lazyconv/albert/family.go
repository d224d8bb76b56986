package albert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/spm"
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
	Generated: []string{"config.json", "tokenizer_config.json", "spiece.model", "tokenizer.json"},
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
		if err := checkGroups(parts, cfg); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %w", ck.IndexPath(), e.Name, err)
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

// checkGroups refuses a layer group or inner group (layer) index beyond
// what albert_config.json declares: the reference crashes on such a
// variable, and mapping it anywhere would serve a model other than the
// checkpoint's.
func checkGroups(parts []string, c *Config) error {
	for i := 0; i+1 < len(parts); i++ {
		var limit int64
		var what, key string
		switch parts[i] {
		case "albert_layer_groups":
			limit, what, key = c.NumGroups, "layer group", "num_hidden_groups"
		case "albert_layers":
			limit, what, key = c.InnerGroupNum, "inner group", "inner_group_num"
		default:
			continue
		}
		n, err := strconv.ParseInt(parts[i+1], 10, 64)
		if err == nil && n >= limit {
			return fmt.Errorf("%s %d is beyond %s %d in %s", what, n, key, limit, c.Path)
		}
	}
	return nil
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
// transformers writes them, plus model_type and architectures) and, when
// the folder has a SentencePiece model (30k-clean.model, or the first
// *.model), the tokenizer files: that model under the name transformers
// expects (spiece.model), tokenizer_config.json, and tokenizer.json (see
// tokenizerJSON; left out for a model it cannot reproduce or parse). A
// folder without one (a run_pretraining.py output, say) gets no tokenizer
// files.
func generatedFiles(dir string, c *Config) (map[string][]byte, error) {
	out := map[string]any{"model_type": "albert", "architectures": []string{"AlbertForPreTraining"}}
	for k, v := range c.raw {
		out[k] = v
	}
	config, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"config.json": append(config, '\n')}
	models, err := filepath.Glob(filepath.Join(dir, "*.model"))
	if err != nil || len(models) == 0 {
		return files, err
	}
	sort.Strings(models)
	choice := models[0]
	for _, m := range models {
		if filepath.Base(m) == "30k-clean.model" {
			choice = m
		}
	}
	data, err := os.ReadFile(choice)
	if err != nil {
		return nil, err
	}
	// The release's pieces are lower case; AlbertTokenizer's defaults.
	const lowerCase, keepAccents = true, false
	tok, err := json.MarshalIndent(map[string]any{
		"tokenizer_class":  "AlbertTokenizer",
		"do_lower_case":    lowerCase,
		"keep_accents":     keepAccents,
		"remove_space":     true,
		"model_max_length": c.MaxPositions,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	files["spiece.model"] = data
	files["tokenizer_config.json"] = append(tok, '\n')
	// A model that does not parse is still served as it is, so that the
	// weights stay readable and the tokenizer library reports the file's
	// fault when it loads it; only tokenizer.json is left out.
	sp, err := spm.Parse(choice, data)
	if err != nil {
		return files, nil
	}
	tokJSON, ok, err := tokenizerJSON(sp, lowerCase, keepAccents)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", choice, err)
	}
	if ok {
		files["tokenizer.json"] = tokJSON
	}
	return files, nil
}
