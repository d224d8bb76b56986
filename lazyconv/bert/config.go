package bert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config is a parsed bert_config.json.
type Config struct {
	Path string
	// raw keeps every original key with its literal value, so the generated
	// config.json carries the numbers exactly as Google wrote them.
	raw map[string]json.RawMessage

	VocabSize, HiddenSize, NumLayers, NumHeads    int64
	IntermediateSize, MaxPositions, TypeVocabSize int64
}

// sizeFields are the integer hyper-parameters the mapping checks shapes
// against, with BertConfig's defaults for keys a file leaves out.
var sizeFields = []struct {
	key string
	def int64
	dst func(*Config) *int64
}{
	{"vocab_size", 30522, func(c *Config) *int64 { return &c.VocabSize }},
	{"hidden_size", 768, func(c *Config) *int64 { return &c.HiddenSize }},
	{"num_hidden_layers", 12, func(c *Config) *int64 { return &c.NumLayers }},
	{"num_attention_heads", 12, func(c *Config) *int64 { return &c.NumHeads }},
	{"intermediate_size", 3072, func(c *Config) *int64 { return &c.IntermediateSize }},
	{"max_position_embeddings", 512, func(c *Config) *int64 { return &c.MaxPositions }},
	{"type_vocab_size", 2, func(c *Config) *int64 { return &c.TypeVocabSize }},
}

// ReadConfig parses and checks a bert_config.json.
func ReadConfig(path string) (*Config, error) {
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
	for _, f := range sizeFields {
		v := f.def
		if lit, ok := c.raw[f.key]; ok {
			if err := json.Unmarshal(lit, &v); err != nil {
				return nil, fmt.Errorf("%s: %s must be an integer, got %s", path, f.key, lit)
			}
			if v <= 0 || v > 1<<40 {
				return nil, fmt.Errorf("%s: %s must be positive, got %d", path, f.key, v)
			}
		}
		*f.dst(c) = v
	}
	if c.HiddenSize%c.NumHeads != 0 {
		return nil, fmt.Errorf("%s: hidden_size %d is not a multiple of num_attention_heads %d", path, c.HiddenSize, c.NumHeads)
	}
	return c, nil
}

// HFConfig renders config.json: every original key, plus what transformers
// needs to pick the class (model_type, architectures) and, for a classifier,
// its labels. Keys are sorted and indented as transformers writes them.
func (c *Config) HFConfig(m *Mapping) ([]byte, error) {
	out := make(map[string]any, len(c.raw)+4)
	for k, v := range c.raw {
		out[k] = v
	}
	out["model_type"] = "bert"
	out["architectures"] = []string{m.Architecture}
	if m.NumLabels > 0 {
		id2label := map[string]string{}
		label2id := map[string]int{}
		for i := 0; i < m.NumLabels; i++ {
			name := fmt.Sprintf("LABEL_%d", i)
			id2label[fmt.Sprint(i)] = name
			label2id[name] = i
		}
		out["id2label"], out["label2id"] = id2label, label2id
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// TokenizerConfig renders tokenizer_config.json. Google's releases do not
// record lower-casing; their folder names do (uncased_…, cased_…,
// multi_cased_…). Without either word, a vocabulary with no upper-case word
// pieces is taken to be lower-cased.
func (c *Config) TokenizerConfig(modelDir string) ([]byte, error) {
	lower, err := lowerCasing(modelDir)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"tokenizer_class":  "BertTokenizer",
		"do_lower_case":    lower,
		"model_max_length": c.MaxPositions,
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func lowerCasing(modelDir string) (bool, error) {
	base := strings.ToLower(filepath.Base(modelDir))
	switch {
	case strings.Contains(base, "uncased"):
		return true, nil
	case strings.Contains(base, "cased"):
		return false, nil
	}
	vocab, err := os.ReadFile(filepath.Join(modelDir, VocabFile))
	if err != nil {
		return false, err
	}
	for _, tok := range strings.Split(string(vocab), "\n") {
		if strings.HasPrefix(tok, "[") && strings.HasSuffix(tok, "]") {
			continue // [CLS], [unused0] and the like
		}
		if strings.ToLower(tok) != tok {
			return false, nil
		}
	}
	return true, nil
}
