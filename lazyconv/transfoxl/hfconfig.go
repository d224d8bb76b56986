package transfoxl

import (
	"encoding/json"
)

// LMHead is the class the release is served as: what the conversion script
// (convert_transfo_xl_original_tf_checkpoint_to_pytorch.py) builds.
const LMHead = "TransfoXLLMHeadModel"

// hfConfig renders config.json: the sizes read off the release and, for
// every other setting, the value transformers 4.x's TransfoXLConfig gives
// it (its defaults are the wt103 evaluation settings: mem_len 1600,
// clamp_len 1000, same_length), written out so the model does not depend
// on the defaults of whichever transformers reads it.
func hfConfig(c *Config) ([]byte, error) {
	out := map[string]any{
		"model_type":    "transfo-xl",
		"architectures": []string{LMHead},
		"vocab_size":    c.VocabSize,
		"cutoffs":       c.Cutoffs,
		"tie_projs":     c.TieProjs,
		"d_model":       c.DModel,
		"d_embed":       c.DEmbed,
		"n_head":        c.NHead,
		"d_head":        c.DHead,
		"d_inner":       c.DInner,
		"div_val":       c.DivVal,
		"n_layer":       c.NLayer,
		"untie_r":       true,
		// tf/model.py has no pre-norm variant.
		"pre_lnorm":           false,
		"mem_len":             1600,
		"same_length":         true,
		"attn_type":           0,
		"clamp_len":           1000,
		"sample_softmax":      -1,
		"adaptive":            true,
		"dropout":             0.1,
		"dropatt":             0.0,
		"init":                "normal",
		"init_range":          0.01,
		"proj_init_std":       0.01,
		"init_std":            0.02,
		"layer_norm_epsilon":  1e-5,
		"eos_token_id":        0,
		"tie_word_embeddings": true,
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
