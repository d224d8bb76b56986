package xlnet

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Variable names of zihangdai/xlnet: modeling.transformer_xl builds the
// network under model/transformer, lm_loss the pre-training output bias,
// summarize_sequence the fine-tuning summary projection.
const (
	lmBias        = "model/lm_loss/bias"
	summaryScope  = "model/sequnece_summary/" // sic: the original code spells it so
	summaryKernel = summaryScope + "summary/kernel"
	summaryBias   = summaryScope + "summary/bias"
)

// target is where the reference puts a checkpoint variable: one key, or,
// for a variable that stacks every layer's parameter along axis 0, one key
// per layer.
type target struct {
	keys      []string
	transpose bool // a dense kernel: TF [in, out] becomes torch [out, in]
}

func one(key string) target        { return target{keys: []string{key}} }
func transposed(key string) target { return target{keys: []string{key}, transpose: true} }

// bodyTargets is build_tf_xlnet_to_pytorch_map's map for the transformer
// (untie_r): relative attention kernels stay [d_model, n_head, d_head], the
// feed-forward kernels are transposed, the untied biases and seg_embed are
// split per layer.
func bodyTargets(c *Config) map[string]target {
	m := map[string]target{
		"model/transformer/word_embedding/lookup_table": one("transformer.word_embedding.weight"),
		"model/transformer/mask_emb/mask_emb":           one("transformer.mask_emb"),
	}
	for _, name := range []string{"r_r_bias", "r_w_bias", "r_s_bias", "seg_embed"} {
		var t target
		for i := int64(0); i < c.NLayer; i++ {
			t.keys = append(t.keys, fmt.Sprintf("transformer.layer.%d.rel_attn.%s", i, name))
		}
		m["model/transformer/"+name] = t
	}
	for i := int64(0); i < c.NLayer; i++ {
		tf := fmt.Sprintf("model/transformer/layer_%d/", i)
		hf := fmt.Sprintf("transformer.layer.%d.", i)
		for _, proj := range []string{"q", "k", "v", "o", "r"} {
			m[tf+"rel_attn/"+proj+"/kernel"] = one(hf + "rel_attn." + proj)
		}
		m[tf+"rel_attn/LayerNorm/gamma"] = one(hf + "rel_attn.layer_norm.weight")
		m[tf+"rel_attn/LayerNorm/beta"] = one(hf + "rel_attn.layer_norm.bias")
		m[tf+"ff/LayerNorm/gamma"] = one(hf + "ff.layer_norm.weight")
		m[tf+"ff/LayerNorm/beta"] = one(hf + "ff.layer_norm.bias")
		for _, dense := range []string{"layer_1", "layer_2"} {
			m[tf+"ff/"+dense+"/kernel"] = transposed(hf + "ff." + dense + ".weight")
			m[tf+"ff/"+dense+"/bias"] = one(hf + "ff." + dense + ".bias")
		}
	}
	return m
}

// optimizerSlots are the last name components of optimizer slots:
// tf.train.AdamOptimizer's (Adam, Adam_1, the default in run_classifier.py)
// and model_utils.AdamWeightDecayOptimizer's (adam_m, adam_v).
var optimizerSlots = map[string]bool{"Adam": true, "Adam_1": true, "adam_m": true, "adam_v": true}

// isOptimizerState reports whether a variable is optimizer or bookkeeping
// state: a slot, Adam's beta powers, or the step counter.
func isOptimizerState(name string) bool {
	switch name {
	case "global_step", "beta1_power", "beta2_power":
		return true
	}
	return optimizerSlots[name[strings.LastIndexByte(name, '/')+1:]]
}

var layerScope = regexp.MustCompile(`^model/transformer/layer_(\d+)/`)

// layerOf is the layer index a variable belongs to, if it is in one.
func layerOf(name string) (int64, bool) {
	m := layerScope.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	i, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return math.MaxInt64, true // too many digits: past any config's n_layer
	}
	return i, true
}
