// Package gpt2 maps OpenAI's original GPT-2 release (a TensorFlow
// checkpoint, hparams.json, encoder.json, vocab.bpe) onto Hugging Face's
// GPT-2, following transformers 4.x load_tf_weights_in_gpt2.
package gpt2

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Files of the release.
const (
	HParamsFile = "hparams.json"
	EncoderFile = "encoder.json"
	MergesFile  = "vocab.bpe"
)

// Family is OpenAI's GPT-2 release: hparams.json beside a TensorFlow
// checkpoint.
var Family = conversion.Family{
	Kind:      "gpt2",
	Detect:    detect,
	Generated: []string{"config.json", "tokenizer_config.json", "vocab.json", "merges.txt"},
	Convert:   convert,
}

func detect(names []string) bool { return tfbundle.BesideConfig(names, HParamsFile) }

// HParams is the release's hparams.json.
type HParams struct {
	NVocab int64 `json:"n_vocab"`
	NCtx   int64 `json:"n_ctx"`
	NEmbd  int64 `json:"n_embd"`
	NHead  int64 `json:"n_head"`
	NLayer int64 `json:"n_layer"`
}

func readHParams(path string) (*HParams, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h HParams
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for name, v := range map[string]int64{"n_vocab": h.NVocab, "n_ctx": h.NCtx, "n_embd": h.NEmbd, "n_head": h.NHead, "n_layer": h.NLayer} {
		if v <= 0 || v > 1<<40 {
			return nil, fmt.Errorf("%s: %s must be a positive integer, got %d", path, name, v)
		}
	}
	if h.NEmbd%h.NHead != 0 {
		return nil, fmt.Errorf("%s: n_embd %d is not a multiple of n_head %d", path, h.NEmbd, h.NHead)
	}
	return &h, nil
}

func convert(dir string) (*conversion.Conversion, error) {
	h, err := readHParams(filepath.Join(dir, HParamsFile))
	if err != nil {
		return nil, err
	}
	ck, err := tfbundle.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	if err := conversion.CheckCounts(filepath.Join(dir, HParamsFile), len(ck.Entries), ck.IndexPath(), conversion.Count{Key: "n_layer", N: h.NLayer}); err != nil {
		return nil, err
	}
	conv := &conversion.Conversion{Source: filepath.Base(ck.Prefix), Architecture: "GPT2LMHeadModel"}
	byKey := map[string]*tensor.Tensor{}
	for i := range ck.Entries {
		e := &ck.Entries[i]
		key, ok := hfName(e.Name)
		if !ok {
			conv.Unused = append(conv.Unused, leftover(e))
			continue
		}
		src, err := ck.Source(e)
		if err != nil {
			return nil, err
		}
		// The reference squeezes every array: Conv1D weights [1, in, out]
		// become [in, out]; the bytes are unchanged.
		byKey[key] = &tensor.Tensor{Name: key, DType: src.DType, Shape: squeeze(src.Shape), Src: src}
	}
	params := stateDict(h)
	if conv.Tensors, conv.Keys, err = conversion.Assemble(params, byKey, filepath.Join(dir, HParamsFile)); err != nil {
		return nil, err
	}
	for _, p := range params {
		delete(byKey, p.Key)
	}
	for _, t := range byKey { // names that look like GPT-2's but are not parameters of this size
		e, _ := ck.Lookup(t.Src.Name)
		conv.Unused = append(conv.Unused, leftover(e))
	}
	if len(conv.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no GPT-2 variables found", ck.IndexPath())
	}
	if conv.Files, err = generatedFiles(dir, h); err != nil {
		return nil, err
	}
	return conv, nil
}

func leftover(e *tfbundle.Entry) conversion.Leftover {
	return conversion.Leftover{Name: e.Name, DType: dtype.TFDataTypeName(e.TFDType), Shape: e.Shape}
}

// indexed matches a scope with a numeric suffix and no separator ("h11").
var indexed = regexp.MustCompile(`^([A-Za-z]+)(\d+)$`)

// hfName is the reference loader's walk: strip "model/", "hN" → "h.N",
// "w"/"g" → weight, "b" → bias, "wte"/"wpe" → their embedding's weight.
func hfName(tfName string) (string, bool) {
	rest, ok := strings.CutPrefix(tfName, "model/")
	if !ok {
		return "", false
	}
	var out []string
	for _, part := range strings.Split(rest, "/") {
		name, num := part, ""
		if m := indexed.FindStringSubmatch(part); m != nil {
			name, num = m[1], m[2]
		}
		switch name {
		case "w", "g":
			name = "weight"
		case "b":
			name = "bias"
		case "wte", "wpe":
			name += ".weight"
		}
		out = append(out, name)
		if num != "" {
			out = append(out, strings.TrimLeft(num, "0"))
			if out[len(out)-1] == "" {
				out[len(out)-1] = "0"
			}
		}
	}
	return strings.Join(out, "."), true
}

// squeeze drops every dimension of size 1, as numpy's squeeze does.
func squeeze(shape []int64) []int64 {
	out := []int64{}
	for _, d := range shape {
		if d != 1 {
			out = append(out, d)
		}
	}
	return out
}

// stateDict lists GPT2Model's parameters in state-dict order.
func stateDict(h *HParams) []conversion.Param {
	E := h.NEmbd
	ps := []conversion.Param{{Key: "wte.weight", Shape: []int64{h.NVocab, E}}, {Key: "wpe.weight", Shape: []int64{h.NCtx, E}}}
	for i := int64(0); i < h.NLayer; i++ {
		p := fmt.Sprintf("h.%d.", i)
		ps = append(ps,
			conversion.Param{Key: p + "ln_1.weight", Shape: []int64{E}}, conversion.Param{Key: p + "ln_1.bias", Shape: []int64{E}},
			conversion.Param{Key: p + "attn.c_attn.weight", Shape: []int64{E, 3 * E}}, conversion.Param{Key: p + "attn.c_attn.bias", Shape: []int64{3 * E}},
			conversion.Param{Key: p + "attn.c_proj.weight", Shape: []int64{E, E}}, conversion.Param{Key: p + "attn.c_proj.bias", Shape: []int64{E}},
			conversion.Param{Key: p + "ln_2.weight", Shape: []int64{E}}, conversion.Param{Key: p + "ln_2.bias", Shape: []int64{E}},
			conversion.Param{Key: p + "mlp.c_fc.weight", Shape: []int64{E, 4 * E}}, conversion.Param{Key: p + "mlp.c_fc.bias", Shape: []int64{4 * E}},
			conversion.Param{Key: p + "mlp.c_proj.weight", Shape: []int64{4 * E, E}}, conversion.Param{Key: p + "mlp.c_proj.bias", Shape: []int64{E}},
		)
	}
	return append(ps, conversion.Param{Key: "ln_f.weight", Shape: []int64{E}}, conversion.Param{Key: "ln_f.bias", Shape: []int64{E}})
}
