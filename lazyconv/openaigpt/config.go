package openaigpt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// HParams are the hyper-parameters the shapes do not tell.
type HParams struct {
	NHead int64
	Afn   string
	// Source says where they came from, for error messages.
	Source string
}

// defaultHParams are train.py's defaults, which the released model was
// trained with (n_head 12, afn gelu).
var defaultHParams = HParams{NHead: 12, Afn: "gelu", Source: "train.py's defaults (no " + HParamsFile + ")"}

// activations are train.py's afn choices; transformers' OpenAI GPT knows
// each under the same name.
var activations = map[string]bool{"gelu": true, "relu": true, "swish": true}

// readHParams reads the optional hparams.json: train.py's argument names,
// of which n_head and afn are used, and n_ctx, n_embd and n_layer, when
// present, must agree with the shapes. Other keys are ignored.
func readHParams(path string, d Dims) (HParams, error) {
	hp := defaultHParams
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// The defaults' problem is the shapes file's: name it, so the
		// user knows which folder.
		if err := checkHeads(hp, d); err != nil {
			return HParams{}, fmt.Errorf("%s: %w", filepath.Join(filepath.Dir(path), ShapesFile), err)
		}
		return hp, nil
	}
	if err != nil {
		return HParams{}, err
	}
	var raw struct {
		NHead  *int64  `json:"n_head"`
		Afn    *string `json:"afn"`
		NCtx   *int64  `json:"n_ctx"`
		NEmbd  *int64  `json:"n_embd"`
		NLayer *int64  `json:"n_layer"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return HParams{}, fmt.Errorf("%s: %w", path, err)
	}
	hp.Source = path
	if raw.NHead != nil {
		hp.NHead = *raw.NHead
	}
	if raw.Afn != nil {
		hp.Afn = *raw.Afn
	}
	if !activations[hp.Afn] {
		return HParams{}, fmt.Errorf("%s: afn %q is not one of train.py's gelu, relu, swish", path, hp.Afn)
	}
	for _, c := range []struct {
		name      string
		got       *int64
		fromShape int64
	}{{"n_ctx", raw.NCtx, d.Positions}, {"n_embd", raw.NEmbd, d.Embd}, {"n_layer", raw.NLayer, d.Layers}} {
		if c.got != nil && *c.got != c.fromShape {
			return HParams{}, fmt.Errorf("%s: %s is %d, %s says %d", path, c.name, *c.got, ShapesFile, c.fromShape)
		}
	}
	return hp, checkHeads(hp, d)
}

// checkHeads refuses a head count the attention cannot split n_embd into.
func checkHeads(hp HParams, d Dims) error {
	if hp.NHead <= 0 || d.Embd%hp.NHead != 0 {
		return fmt.Errorf("%s: n_head %d does not divide n_embd %d from %s; record the model's n_head in %s", hp.Source, hp.NHead, d.Embd, ShapesFile, HParamsFile)
	}
	return nil
}

// py writes a float as Python's json.dumps does, so config.json reads as
// the one transformers writes.
type py string

func (f py) MarshalJSON() ([]byte, error) { return []byte(f), nil }

// hfConfig renders config.json: OpenAIGPTConfig's fields with the release's
// values (sizes from the shapes, the rest transformers' defaults, which are
// train.py's), and what transformers needs to pick the class.
func hfConfig(d Dims, hp HParams) ([]byte, error) {
	return marshal(map[string]any{
		"model_type":             "openai-gpt",
		"architectures":          []string{Architecture},
		"vocab_size":             d.Vocab,
		"n_positions":            d.Positions,
		"n_embd":                 d.Embd,
		"n_layer":                d.Layers,
		"n_head":                 hp.NHead,
		"afn":                    hp.Afn,
		"resid_pdrop":            py("0.1"),
		"embd_pdrop":             py("0.1"),
		"attn_pdrop":             py("0.1"),
		"layer_norm_epsilon":     py("1e-05"),
		"initializer_range":      py("0.02"),
		"summary_type":           "cls_index",
		"summary_use_proj":       true,
		"summary_activation":     nil,
		"summary_proj_to_labels": true,
		"summary_first_dropout":  py("0.1"),
		"tie_word_embeddings":    true,
	})
}

// tokenizerConfig renders tokenizer_config.json: OpenAI GPT's tokenizer
// (lower-casing BPE over BERT's basic tokenization) over vocab.json and
// merges.txt.
func tokenizerConfig(d Dims) ([]byte, error) {
	return marshal(map[string]any{
		"tokenizer_class":  "OpenAIGPTTokenizer",
		"model_max_length": d.Positions,
	})
}

func marshal(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
