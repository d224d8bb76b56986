package xlnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Config is a parsed xlnet_config.json.
type Config struct {
	Path string
	// raw keeps every original key with its literal value, for config.json.
	raw map[string]json.RawMessage

	NToken, DModel, NLayer, NHead, DHead, DInner int64
}

// sizeKeys are the sizes the mapping checks shapes against. The original
// code (xlnet.XLNetConfig.init_from_json) requires every one of them.
var sizeKeys = []struct {
	key string
	dst func(*Config) *int64
}{
	{"n_token", func(c *Config) *int64 { return &c.NToken }},
	{"d_model", func(c *Config) *int64 { return &c.DModel }},
	{"n_layer", func(c *Config) *int64 { return &c.NLayer }},
	{"n_head", func(c *Config) *int64 { return &c.NHead }},
	{"d_inner", func(c *Config) *int64 { return &c.DInner }},
}

// readConfig parses and checks an xlnet_config.json the way the reference
// XLNetConfig would take it, refusing what transformers' XLNet cannot run.
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
	for _, f := range sizeKeys {
		lit, ok := c.raw[f.key]
		if !ok {
			return nil, fmt.Errorf("%s: %s is missing", path, f.key)
		}
		if v, ok := positive(lit); ok {
			*f.dst(c) = v
		} else {
			return nil, fmt.Errorf("%s: %s must be a positive integer, got %s", path, f.key, lit)
		}
	}
	if c.DModel%c.NHead != 0 {
		return nil, fmt.Errorf("%s: d_model %d is not a multiple of n_head %d", path, c.DModel, c.NHead)
	}
	c.DHead = c.DModel / c.NHead
	if lit, ok := c.raw["d_head"]; ok {
		// XLNetConfig derives d_head and rejects a file that disagrees.
		if v, ok := positive(lit); !ok || v != c.DHead {
			return nil, fmt.Errorf("%s: unsupported: d_head %s is not d_model / n_head = %d, which transformers' XLNet requires", path, lit, c.DHead)
		}
	}
	if lit, ok := c.raw["ff_activation"]; ok {
		var act string
		if err := json.Unmarshal(lit, &act); err != nil || (act != "gelu" && act != "relu") {
			return nil, fmt.Errorf("%s: ff_activation must be \"gelu\" or \"relu\" (the original code's two), got %s", path, lit)
		}
	}
	if lit, ok := c.raw["untie_r"]; ok {
		var untie bool
		if err := json.Unmarshal(lit, &untie); err != nil {
			return nil, fmt.Errorf("%s: untie_r must be true or false, got %s", path, lit)
		}
		if !untie {
			// The reference asks transformers' XLNet for model-level biases,
			// which it never has: it keeps relative biases per layer.
			return nil, fmt.Errorf("%s: unsupported: untie_r false (transformers' XLNet keeps relative biases per layer)", path)
		}
	}
	return c, nil
}

// positive decodes a JSON integer in (0, 2^40].
func positive(lit json.RawMessage) (int64, bool) {
	var v int64
	if err := json.Unmarshal(lit, &v); err != nil || v <= 0 || v > 1<<40 {
		return 0, false
	}
	return v, true
}
