// Package bert maps Google's original BERT TensorFlow checkpoints onto the
// Hugging Face BERT classes, following transformers 4.x
// load_tf_weights_in_bert, and derives the model's config and tokenizer
// files.
package bert

import (
	"regexp"
	"strings"
)

// optimizerWords mark variables that are optimizer or bookkeeping state.
// The first five are the words transformers skips; the rest are what other
// BERT trainers (BioBERT's BERTAdam, TF1 Adam) leave in released checkpoints.
var optimizerWords = map[string]bool{
	"adam_v": true, "adam_m": true, "AdamWeightDecayOptimizer": true,
	"AdamWeightDecayOptimizer_1": true, "global_step": true,
	"beta1_power": true, "beta2_power": true, "BERTAdam": true, "BERTAdam_1": true,
	"Adam": true, "Adam_1": true, "bad_steps": true, "good_steps": true, "loss_scale": true,
}

// IsOptimizerState reports whether a checkpoint variable is optimizer or
// training bookkeeping state, which a converted model never carries.
func IsOptimizerState(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if optimizerWords[part] {
			return true
		}
	}
	return false
}

// indexed matches a scope with a numeric suffix, such as "layer_11".
var indexed = regexp.MustCompile(`^([A-Za-z]+)_(\d+)$`)

// hfName turns a TF variable name into the Hugging Face key the reference
// loader assigns it to, and whether the loader transposes it. It follows the
// loader's walk: "kernel" and "gamma" become "weight", "beta" and
// "output_bias" become "bias", "output_weights" becomes "weight",
// "layer_N" becomes "layer.N", and a trailing "*_embeddings" gains
// ".weight". Root-level output_weights/output_bias, written by
// run_classifier.py, become the classifier head.
func hfName(tfName string) (key string, transpose bool) {
	parts := strings.Split(tfName, "/")
	if len(parts) == 1 && (parts[0] == "output_weights" || parts[0] == "output_bias") {
		parts = []string{"classifier", parts[0]}
	}
	var out []string
	for _, p := range parts {
		name, num := p, ""
		if m := indexed.FindStringSubmatch(p); m != nil {
			name, num = m[1], strings.TrimLeft(m[2], "0")
			if num == "" {
				num = "0"
			}
		}
		switch name {
		case "kernel", "gamma", "output_weights":
			name = "weight"
		case "beta", "output_bias":
			name = "bias"
		case "squad":
			name = "classifier"
		}
		out = append(out, name)
		if num != "" {
			out = append(out, num)
		}
	}
	last := parts[len(parts)-1]
	if strings.HasSuffix(last, "_embeddings") {
		out = append(out, "weight")
	}
	return strings.Join(out, "."), last == "kernel"
}
