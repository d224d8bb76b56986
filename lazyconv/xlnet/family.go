// Package xlnet maps the original XLNet release (a TensorFlow checkpoint,
// xlnet_config.json, spiece.model) onto Hugging Face's XLNetLMHeadModel,
// following transformers 4.x build_tf_xlnet_to_pytorch_map and
// load_tf_weights_in_xlnet.
package xlnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// ConfigFile is the release's config.
const ConfigFile = "xlnet_config.json"

// Family is the XLNet release: xlnet_config.json beside a TensorFlow
// checkpoint.
var Family = conversion.Family{
	Kind:      "xlnet",
	Detect:    detect,
	Generated: []string{"config.json", "tokenizer_config.json"},
	Convert:   convert,
}

func detect(names []string) bool { return tfbundle.BesideConfig(names, ConfigFile) }

// Config is a parsed xlnet_config.json.
type Config struct {
	Path                                         string
	raw                                          map[string]json.RawMessage
	NToken, DModel, NLayer, NHead, DHead, DInner int64
	UntieR                                       bool
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
	for key, dst := range map[string]*int64{"n_token": &c.NToken, "d_model": &c.DModel, "n_layer": &c.NLayer,
		"n_head": &c.NHead, "d_head": &c.DHead, "d_inner": &c.DInner} {
		lit, ok := c.raw[key]
		if !ok {
			return nil, fmt.Errorf("%s: %s is missing", path, key)
		}
		if err := json.Unmarshal(lit, dst); err != nil || *dst <= 0 || *dst > 1<<40 {
			return nil, fmt.Errorf("%s: %s must be a positive integer, got %s", path, key, lit)
		}
	}
	if lit, ok := c.raw["untie_r"]; ok {
		if err := json.Unmarshal(lit, &c.UntieR); err != nil {
			return nil, fmt.Errorf("%s: untie_r must be true or false, got %s", path, lit)
		}
	}
	if !c.UntieR {
		return nil, fmt.Errorf("%s: unsupported: untie_r false (transformers' XLNet keeps relative biases per layer)", path)
	}
	return c, nil
}

// target is where a checkpoint variable goes: one key, or one key per
// layer when the variable stacks every layer's parameter along axis 0.
type target struct {
	keys      []string
	shape     []int64 // of each key
	transpose bool
}

// targets is the reference's explicit map from variable names to
// parameters; variables it does not name are not used.
func targets(c *Config) map[string]target {
	D, H, Dh, I := c.DModel, c.NHead, c.DHead, c.DInner
	m := map[string]target{
		"model/lm_loss/bias":                            {keys: []string{"lm_loss.bias"}, shape: []int64{c.NToken}},
		"model/transformer/word_embedding/lookup_table": {keys: []string{"transformer.word_embedding.weight"}, shape: []int64{c.NToken, D}},
		"model/transformer/mask_emb/mask_emb":           {keys: []string{"transformer.mask_emb"}, shape: []int64{1, 1, D}},
	}
	perLayer := func(name string, shape []int64) {
		t := target{shape: shape}
		for i := int64(0); i < c.NLayer; i++ {
			t.keys = append(t.keys, fmt.Sprintf("transformer.layer.%d.rel_attn.%s", i, name))
		}
		m["model/transformer/"+name] = t
	}
	perLayer("r_r_bias", []int64{H, Dh})
	perLayer("r_w_bias", []int64{H, Dh})
	perLayer("r_s_bias", []int64{H, Dh})
	perLayer("seg_embed", []int64{2, H, Dh})
	for i := int64(0); i < c.NLayer; i++ {
		tf := fmt.Sprintf("model/transformer/layer_%d/", i)
		hf := fmt.Sprintf("transformer.layer.%d.", i)
		for _, proj := range []string{"q", "k", "v", "o", "r"} {
			m[tf+"rel_attn/"+proj+"/kernel"] = target{keys: []string{hf + "rel_attn." + proj}, shape: []int64{D, H, Dh}}
		}
		m[tf+"rel_attn/LayerNorm/gamma"] = target{keys: []string{hf + "rel_attn.layer_norm.weight"}, shape: []int64{D}}
		m[tf+"rel_attn/LayerNorm/beta"] = target{keys: []string{hf + "rel_attn.layer_norm.bias"}, shape: []int64{D}}
		m[tf+"ff/LayerNorm/gamma"] = target{keys: []string{hf + "ff.layer_norm.weight"}, shape: []int64{D}}
		m[tf+"ff/LayerNorm/beta"] = target{keys: []string{hf + "ff.layer_norm.bias"}, shape: []int64{D}}
		m[tf+"ff/layer_1/kernel"] = target{keys: []string{hf + "ff.layer_1.weight"}, shape: []int64{I, D}, transpose: true}
		m[tf+"ff/layer_1/bias"] = target{keys: []string{hf + "ff.layer_1.bias"}, shape: []int64{I}}
		m[tf+"ff/layer_2/kernel"] = target{keys: []string{hf + "ff.layer_2.weight"}, shape: []int64{D, I}, transpose: true}
		m[tf+"ff/layer_2/bias"] = target{keys: []string{hf + "ff.layer_2.bias"}, shape: []int64{D}}
	}
	return m
}

// stateOrder is XLNetLMHeadModel's state-dict order.
func stateOrder(c *Config) []string {
	keys := []string{"transformer.mask_emb", "transformer.word_embedding.weight"}
	for i := int64(0); i < c.NLayer; i++ {
		p := fmt.Sprintf("transformer.layer.%d.", i)
		for _, k := range []string{"rel_attn.q", "rel_attn.k", "rel_attn.v", "rel_attn.o", "rel_attn.r",
			"rel_attn.r_r_bias", "rel_attn.r_s_bias", "rel_attn.r_w_bias", "rel_attn.seg_embed",
			"rel_attn.layer_norm.weight", "rel_attn.layer_norm.bias", "ff.layer_norm.weight", "ff.layer_norm.bias",
			"ff.layer_1.weight", "ff.layer_1.bias", "ff.layer_2.weight", "ff.layer_2.bias"} {
			keys = append(keys, p+k)
		}
	}
	return append(keys, "lm_loss.weight", "lm_loss.bias")
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
	conv := &conversion.Conversion{Source: filepath.Base(ck.Prefix), Architecture: "XLNetLMHeadModel"}
	byKey := map[string]*tensor.Tensor{}
	tmap := targets(cfg)
	for i := range ck.Entries {
		e := &ck.Entries[i]
		tg, ok := tmap[e.Name]
		if !ok {
			if e.Name == "global_step" || strings.Contains(e.Name, "/adam_") || strings.Contains(e.Name, "/Adam") {
				conv.Skipped = append(conv.Skipped, e.Name)
			} else {
				conv.Unused = append(conv.Unused, conversion.Leftover{Name: e.Name, DType: dtype.TFDataTypeName(e.TFDType), Shape: e.Shape})
			}
			continue
		}
		src, err := ck.Source(e)
		if err != nil {
			return nil, err
		}
		ts, err := place(src, tg)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			byKey[t.Name] = t
		}
	}
	var word int = -1
	for _, key := range stateOrder(cfg) {
		if key == "lm_loss.weight" { // tied to the word embedding
			if word >= 0 {
				conv.Keys = append(conv.Keys, layout.Key{Name: key, Tensor: word})
			}
			continue
		}
		t, ok := byKey[key]
		if !ok {
			continue
		}
		if key == "transformer.word_embedding.weight" {
			word = len(conv.Tensors)
		}
		conv.Keys = append(conv.Keys, layout.Key{Name: key, Tensor: len(conv.Tensors)})
		conv.Tensors = append(conv.Tensors, t)
	}
	if len(conv.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no XLNet variables found", ck.IndexPath())
	}
	if conv.Files, err = generatedFiles(cfg); err != nil {
		return nil, err
	}
	return conv, nil
}

// place turns one checkpoint variable into its output tensors, checking
// shapes against the config.
func place(src *tensor.Source, tg target) ([]*tensor.Tensor, error) {
	mismatch := func(got []int64) error {
		return fmt.Errorf("%s: tensor %s: shape %s does not match the config (want %s for %s)",
			src.File, src.Name, tensor.FormatShape(got), tensor.FormatShape(tg.shape), tg.keys[0])
	}
	if len(tg.keys) > 1 { // stacked per layer: one slice each
		want := append([]int64{int64(len(tg.keys))}, tg.shape...)
		if !tensor.ShapeEqual(src.Shape, want) {
			return nil, mismatch(src.Shape)
		}
		per := tensor.NumElements(tg.shape) * int64(src.DType.Size())
		var out []*tensor.Tensor
		for i, key := range tg.keys {
			part, err := src.Slice(fmt.Sprintf("%s[%d]", src.Name, i), int64(i)*per, per, tg.shape)
			if err != nil {
				return nil, err
			}
			out = append(out, &tensor.Tensor{Name: key, DType: src.DType, Shape: tg.shape, Src: part})
		}
		return out, nil
	}
	t := &tensor.Tensor{Name: tg.keys[0], DType: src.DType, Shape: src.Shape, Src: src}
	if tg.transpose && len(src.Shape) == 2 {
		t.Shape, t.Transform = []int64{src.Shape[1], src.Shape[0]}, tensor.Transpose2D
	}
	if !tensor.ShapeEqual(t.Shape, tg.shape) {
		return nil, mismatch(t.Shape)
	}
	return []*tensor.Tensor{t}, nil
}

// generatedFiles makes config.json (every original key, plus the names
// transformers reads them by) and tokenizer_config.json; spiece.model is
// already in the folder under the name transformers expects.
func generatedFiles(c *Config) (map[string][]byte, error) {
	out := map[string]any{"model_type": "xlnet", "architectures": []string{"XLNetLMHeadModel"}, "vocab_size": c.NToken}
	for k, v := range c.raw {
		out[k] = v
	}
	config, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	tok, err := json.MarshalIndent(map[string]any{"tokenizer_class": "XLNetTokenizer", "do_lower_case": false, "keep_accents": false, "remove_space": true}, "", "  ")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"config.json": append(config, '\n'), "tokenizer_config.json": append(tok, '\n')}, nil
}
