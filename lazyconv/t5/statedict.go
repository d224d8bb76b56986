package t5

import "fmt"

// Architecture is the class the folder is served as, the one the
// reference conversion script builds.
const Architecture = "T5ForConditionalGeneration"

// param is one key of the state dict.
type param struct {
	key    string
	shape  []int64
	tiedTo string // set for keys that share another key's tensor
}

// stateDict lists T5ForConditionalGeneration's keys in the order its
// state_dict has them (module registration order): the shared embedding,
// each stack with its embed_tokens alias first, then lm_head (an alias of
// the embedding when tied).
func stateDict(c *Config) []param {
	D, HK, F, V := c.DModel, c.NumHeads*c.DKV, c.DFF, c.VocabSize
	mat := func(k string, rows, cols int64) param { return param{key: k, shape: []int64{rows, cols}} }
	vec := func(k string) param { return param{key: k, shape: []int64{D}} }
	attention := func(prefix string, bias bool) []param {
		ps := []param{mat(prefix+".q.weight", HK, D), mat(prefix+".k.weight", HK, D),
			mat(prefix+".v.weight", HK, D), mat(prefix+".o.weight", D, HK)}
		if bias {
			ps = append(ps, mat(prefix+".relative_attention_bias.weight", c.Buckets, c.NumHeads))
		}
		return ps
	}
	feedForward := func(prefix string) []param {
		var ps []param
		if c.Gated() {
			ps = append(ps, mat(prefix+".DenseReluDense.wi_0.weight", F, D), mat(prefix+".DenseReluDense.wi_1.weight", F, D))
		} else {
			ps = append(ps, mat(prefix+".DenseReluDense.wi.weight", F, D))
		}
		return append(ps, mat(prefix+".DenseReluDense.wo.weight", D, F), vec(prefix+".layer_norm.weight"))
	}
	ps := []param{mat("shared.weight", V, D)}
	for _, stack := range []string{"encoder", "decoder"} {
		ps = append(ps, param{key: stack + ".embed_tokens.weight", tiedTo: "shared.weight"})
		layers := c.NumLayers
		if stack == "decoder" {
			layers = c.NumDecoderLayers
		}
		for b := int64(0); b < layers; b++ {
			block := fmt.Sprintf("%s.block.%d.layer.", stack, b)
			ps = append(ps, attention(block+"0.SelfAttention", b == 0)...)
			ps = append(ps, vec(block+"0.layer_norm.weight"))
			ff := block + "1"
			if stack == "decoder" {
				ps = append(ps, attention(block+"1.EncDecAttention", false)...)
				ps = append(ps, vec(block+"1.layer_norm.weight"))
				ff = block + "2"
			}
			ps = append(ps, feedForward(ff)...)
		}
		ps = append(ps, vec(stack+".final_layer_norm.weight"))
	}
	if c.Tied {
		return append(ps, param{key: "lm_head.weight", tiedTo: "shared.weight"})
	}
	return append(ps, mat("lm_head.weight", V, D))
}
