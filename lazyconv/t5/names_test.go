package t5

import (
	"strings"
	"testing"
)

// treeOf answers hfName's "is this a module or parameter" from the state
// dict of cfg, as Map does.
func treeOf(cfg *Config) func(string) bool {
	paths := map[string]bool{}
	for _, p := range stateDict(cfg) {
		parts := strings.Split(p.key, ".")
		for i := 1; i <= len(parts); i++ {
			paths[strings.Join(parts[:i], ".")] = true
		}
	}
	return func(p string) bool { return paths[p] }
}

func tinyConfig(gated, tied bool) *Config {
	c := &Config{VocabSize: 160, DModel: 16, DKV: 6, DFF: 37, NumLayers: 2, NumDecoderLayers: 2,
		NumHeads: 4, Buckets: 32, MaxDistance: 128, FeedForwardProj: "relu", Tied: tied}
	if gated {
		c.FeedForwardProj = "gated-gelu"
	}
	return c
}

func TestNamesFollowTheReferenceWalk(t *testing.T) {
	has := treeOf(tinyConfig(true, false))
	for tf, want := range map[string]struct {
		key       string
		transpose bool
	}{
		"shared/embedding": {"shared.weight", false},
		"encoder/block_000/layer_000/SelfAttention/q":                       {"encoder.block.0.layer.0.SelfAttention.q.weight", true},
		"encoder/block_000/layer_000/SelfAttention/relative_attention_bias": {"encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", true},
		"encoder/block_001/layer_000/layer_norm/scale":                      {"encoder.block.1.layer.0.layer_norm.weight", true},
		"encoder/block_001/layer_001/DenseReluDense/wi_0/kernel":            {"encoder.block.1.layer.1.DenseReluDense.wi_0.weight", true},
		"encoder/block_001/layer_001/DenseReluDense/wo/kernel":              {"encoder.block.1.layer.1.DenseReluDense.wo.weight", true},
		"encoder/final_layer_norm/scale":                                    {"encoder.final_layer_norm.weight", true},
		"decoder/block_001/layer_001/EncDecAttention/o":                     {"decoder.block.1.layer.1.EncDecAttention.o.weight", true},
		"decoder/block_000/layer_002/DenseReluDense/wi_1/kernel":            {"decoder.block.0.layer.2.DenseReluDense.wi_1.weight", true},
		"decoder/logits/kernel":                                             {"lm_head.weight", true},
		// The aliases of later Mesh TF naming.
		"encoder/rms_norm/scale":                                      {"encoder.final_layer_norm.weight", true},
		"decoder/block_001/layer_000/rms_norm/scale":                  {"decoder.block.1.layer.0.layer_norm.weight", true},
		"decoder/block_001/enc_dec_attention/layer_norm/scale":        {"decoder.block.1.layer.1.layer_norm.weight", true},
		"decoder/block_000/dense_relu_dense/DenseReluDense/wo/kernel": {"decoder.block.0.layer.2.DenseReluDense.wo.weight", true},
	} {
		key, transpose, ok := hfName(tf, has)
		if !ok || key != want.key || transpose != want.transpose {
			t.Errorf("hfName(%s) = %q, %v, %v; want %q, %v", tf, key, transpose, ok, want.key, want.transpose)
		}
	}
	for _, tf := range []string{
		// Only block 0 holds the bias in transformers' T5.
		"encoder/block_001/layer_000/SelfAttention/relative_attention_bias",
		"encoder/block_002/layer_000/SelfAttention/q",          // no such block
		"encoder/block_000/layer_001/DenseReluDense/wi/kernel", // gated model: wi_0/wi_1
		"encoder/block_000/layer_000/SelfAttention/q/ExponentialMovingAverage",
		"encoder/embedding_scale", // not a parameter
		"loss_scale",
	} {
		if key, _, ok := hfName(tf, has); ok {
			t.Errorf("hfName(%s) = %q; the reference cannot place it", tf, key)
		}
	}
}

func TestSkippedAreTheReferencesOptimizerVariables(t *testing.T) {
	for name, want := range map[string]bool{
		"global_step":              true,
		"shared/embedding_slot_vc": true,
		"encoder/block_000/layer_001/DenseReluDense/wi/kernel_slot_vr": true,
		"encoder/final_layer_norm/scale_slot_v":                        true,
		"decoder/logits/kernel/adam_m":                                 true,
		"encoder/_slot_/scale":                                         false, // only the last component counts
		"shared/embedding":                                             false,
	} {
		if got := isSkipped(name); got != want {
			t.Errorf("isSkipped(%s) = %v", name, got)
		}
	}
}

func TestStateDictOrderAndTies(t *testing.T) {
	tied := stateDict(tinyConfig(false, true))
	if tied[0].key != "shared.weight" || tied[1].key != "encoder.embed_tokens.weight" || tied[1].tiedTo != "shared.weight" {
		t.Errorf("starts %v %v", tied[0], tied[1])
	}
	last := tied[len(tied)-1]
	if last.key != "lm_head.weight" || last.tiedTo != "shared.weight" {
		t.Errorf("tied head %+v", last)
	}
	untied := stateDict(tinyConfig(true, false))
	last = untied[len(untied)-1]
	if last.key != "lm_head.weight" || last.tiedTo != "" || last.shape[0] != 160 || last.shape[1] != 16 {
		t.Errorf("untied head %+v", last)
	}
	// T5's relative attention bias: block 0 of each stack only.
	var biases []string
	for _, p := range untied {
		if strings.HasSuffix(p.key, "relative_attention_bias.weight") {
			biases = append(biases, p.key)
		}
	}
	if len(biases) != 2 || !strings.HasPrefix(biases[0], "encoder.block.0.") || !strings.HasPrefix(biases[1], "decoder.block.0.") {
		t.Errorf("biases %v", biases)
	}
}
