package t5

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Config holds the T5Config values the state dict depends on, and where
// they came from for messages.
type Config struct {
	Source string // operative_config.gin, or a config.json supplied beside it

	VocabSize, DModel, DKV, DFF, NumLayers, NumDecoderLayers int64
	NumHeads, Buckets, MaxDistance                           int64
	DropoutRate, LayerNormEpsilon                            float64
	// FeedForwardProj is T5Config's feed_forward_proj ("relu", "gated-gelu").
	FeedForwardProj string
	Tied            bool
	// ExtraIDs is how many sentinels the vocabulary appends (tokenizer).
	ExtraIDs int64

	// raw is a supplied config.json, served as it is.
	raw []byte
}

// Gated reports whether the feed-forward layers have wi_0 and wi_1.
func (c *Config) Gated() bool { return strings.HasPrefix(c.FeedForwardProj, "gated-") }

// Defaults of T5Config and of Mesh TF's layers for what a gin leaves out.
const (
	defaultDropout     = 0.1
	defaultEpsilon     = 1e-6
	defaultExtraIDs    = 100
	maxDistance        = 128 // Mesh TF's _relative_position_bucket max_distance
	tokenizerMaxLength = 512 // model_max_length of T5's published tokenizers
)

// ReadHFConfig reads the sizes, activation and tying of a T5 config.json
// supplied beside the checkpoint, with T5Config's defaults for keys it
// leaves out. The file is served as it is.
func ReadHFConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %w", path, err)
	}
	c := &Config{Source: path, raw: data, VocabSize: 32128, DModel: 512, DKV: 64, DFF: 2048, NumLayers: 6,
		NumDecoderLayers: -1, NumHeads: 8, Buckets: 32, MaxDistance: maxDistance, FeedForwardProj: "relu", Tied: true}
	ints := map[string]*int64{
		"vocab_size": &c.VocabSize, "d_model": &c.DModel, "d_kv": &c.DKV, "d_ff": &c.DFF,
		"num_layers": &c.NumLayers, "num_decoder_layers": &c.NumDecoderLayers, "num_heads": &c.NumHeads,
		"relative_attention_num_buckets": &c.Buckets, "relative_attention_max_distance": &c.MaxDistance,
	}
	for key, dst := range ints {
		lit, ok := raw[key]
		if !ok || string(lit) == "null" {
			continue
		}
		if err := json.Unmarshal(lit, dst); err != nil || *dst <= 0 || *dst > 1<<40 {
			return nil, fmt.Errorf("%s: %s must be a positive integer, got %s", path, key, lit)
		}
	}
	if c.NumDecoderLayers < 0 {
		c.NumDecoderLayers = c.NumLayers
	}
	if lit, ok := raw["feed_forward_proj"]; ok {
		if err := json.Unmarshal(lit, &c.FeedForwardProj); err != nil {
			return nil, fmt.Errorf("%s: feed_forward_proj must be a string, got %s", path, lit)
		}
	}
	if lit, ok := raw["tie_word_embeddings"]; ok {
		if err := json.Unmarshal(lit, &c.Tied); err != nil {
			return nil, fmt.Errorf("%s: tie_word_embeddings must be true or false, got %s", path, lit)
		}
	}
	return c, nil
}

// HFConfig renders config.json: a supplied one as it is, else the values
// derived from the gin and the checkpoint with T5's fixed ids, keys sorted
// and floats spelled as Python writes them.
func (c *Config) HFConfig() ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	out := map[string]any{
		"architectures":                   []string{Architecture},
		"model_type":                      "t5",
		"vocab_size":                      c.VocabSize,
		"d_model":                         c.DModel,
		"d_kv":                            c.DKV,
		"d_ff":                            c.DFF,
		"num_layers":                      c.NumLayers,
		"num_decoder_layers":              c.NumDecoderLayers,
		"num_heads":                       c.NumHeads,
		"relative_attention_num_buckets":  c.Buckets,
		"relative_attention_max_distance": c.MaxDistance,
		"dropout_rate":                    json.RawMessage(pyFloat(c.DropoutRate)),
		"layer_norm_epsilon":              json.RawMessage(pyFloat(c.LayerNormEpsilon)),
		"initializer_factor":              json.RawMessage("1.0"),
		"feed_forward_proj":               c.FeedForwardProj,
		"tie_word_embeddings":             c.Tied,
		"is_encoder_decoder":              true,
		"use_cache":                       true,
		// T5's vocabularies: <pad> 0, </s> 1; decoding starts from <pad>.
		"pad_token_id":           0,
		"eos_token_id":           1,
		"decoder_start_token_id": 0,
	}
	return marshal(out)
}

// TokenizerConfig renders tokenizer_config.json for T5Tokenizer over the
// folder's SentencePiece model served as spiece.model.
func (c *Config) TokenizerConfig() ([]byte, error) {
	return marshal(map[string]any{
		"tokenizer_class":  "T5Tokenizer",
		"extra_ids":        c.ExtraIDs,
		"eos_token":        "</s>",
		"unk_token":        "<unk>",
		"pad_token":        "<pad>",
		"legacy":           true, // the behaviour of the T5Tokenizer the reference builds
		"model_max_length": tokenizerMaxLength,
	})
}

// marshal writes JSON as transformers does: keys sorted, two-space
// indent, "</s>" unescaped, a final newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pyFloat spells a finite float as Python's repr does ("0.1", "1e-06",
// "0.0"), which is what transformers writes into config.json.
func pyFloat(f float64) string {
	if f == 0 {
		return "0.0"
	}
	if exp := math.Floor(math.Log10(math.Abs(f))); exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.FormatFloat(f, 'e', -1, 64) // "1e-06", "1.5e+16"
}
