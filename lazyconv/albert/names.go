// Package albert maps Google's original ALBERT release (a TensorFlow
// checkpoint, albert_config.json, a SentencePiece model) onto Hugging Face's
// AlbertForPreTraining, following transformers 4.x load_tf_weights_in_albert.
package albert

import (
	"regexp"
	"strings"
)

// renames are the reference loader's textual rewrites, applied in order to
// every variable name before it walks the model.
var renames = []struct{ from, to string }{
	{"module/", ""}, // TF-Hub modules
	{"ffn_1", "ffn"},
	{"bert/", "albert/"},
	{"attention_1", "attention"},
	{"transform/", ""},
	{"LayerNorm_1", "full_layer_layer_norm"},
	{"LayerNorm", "attention/LayerNorm"},
	{"transformer/", ""},
	{"intermediate/dense/", ""},
	{"ffn/intermediate/output/dense/", "ffn_output/"},
	{"/output/", "/"},
	{"/self/", "/"},
	{"pooler/dense", "pooler"},
	{"cls/predictions", "predictions"},
	{"predictions/attention", "predictions"},
	{"embeddings/attention", "embeddings"},
	{"inner_group_", "albert_layers/"},
	{"group_", "albert_layer_groups/"},
}

// optimizerWords mark optimizer and bookkeeping variables the reference
// skips (LAMB/Adam slots, the step counter).
var optimizerWords = map[string]bool{
	"adam_m": true, "adam_v": true, "AdamWeightDecayOptimizer": true,
	"AdamWeightDecayOptimizer_1": true, "global_step": true,
}

var indexed = regexp.MustCompile(`^([A-Za-z]+)_(\d+)$`)

// rewrite applies the renames and the head rules, and splits the result
// into path components.
func rewrite(tfName string) []string {
	name := tfName
	for _, r := range renames {
		name = strings.ReplaceAll(name, r.from, r.to)
	}
	if !strings.Contains(name, "/") && (strings.Contains(name, "output_bias") || strings.Contains(name, "output_weights")) {
		name = "classifier/" + name
	}
	if strings.Contains(name, "seq_relationship") {
		name = strings.ReplaceAll(name, "seq_relationship/output_", "sop_classifier/classifier/")
		name = strings.ReplaceAll(name, "weights", "weight")
	}
	return strings.Split(name, "/")
}

// isOptimizerState reports whether the reference skips the variable.
func isOptimizerState(parts []string) bool {
	for _, p := range parts {
		if optimizerWords[p] {
			return true
		}
	}
	return false
}

// hfName walks the rewritten components as the reference does: leaf
// aliases become weight/bias, "name_N" becomes "name.N", and a component
// naming no attribute of the current module is passed over (the walk stays
// where it is). known answers whether a dotted path prefixes some
// parameter of the model. It returns the key and whether the array is
// transposed.
func hfName(parts []string, known func(prefix string) bool) (string, bool) {
	var path []string
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
		step := []string{name}
		if num != "" {
			step = append(step, num)
		}
		if !known(strings.Join(append(append([]string{}, path...), step...), ".")) {
			continue
		}
		path = append(path, step...)
	}
	last := parts[len(parts)-1]
	if strings.HasSuffix(last, "_embeddings") {
		path = append(path, "weight")
	}
	return strings.Join(path, "."), last == "kernel"
}
