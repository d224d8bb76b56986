// Package t5 maps Google's original T5 releases (Mesh TensorFlow
// checkpoints with an operative_config.gin, optionally the vocabulary's
// SentencePiece model beside) onto Hugging Face's
// T5ForConditionalGeneration, following transformers 4.x
// load_tf_weights_in_t5 and convert_t5_original_tf_checkpoint_to_pytorch.py,
// and derives the config the conversion script needs from the gin and the
// checkpoint's shapes.
package t5

import (
	"regexp"
	"strconv"
	"strings"
)

// skipWords are the components for which the reference skips a whole
// variable (the list it shares with the BERT loader); it also skips every
// variable whose last component contains "_slot_" (Adafactor's slots).
var skipWords = map[string]bool{
	"adam_v": true, "adam_m": true, "AdamWeightDecayOptimizer": true,
	"AdamWeightDecayOptimizer_1": true, "global_step": true,
}

// isSkipped reports whether the reference skips a variable as optimizer or
// bookkeeping state.
func isSkipped(name string) bool {
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if skipWords[p] {
			return true
		}
	}
	return strings.Contains(parts[len(parts)-1], "_slot_")
}

// scopeIndex matches a component naming a list element, "block_003".
var scopeIndex = regexp.MustCompile(`^([A-Za-z]+)_(\d+)$`)

// leaves are the last components that name a parameter themselves.
var leaves = map[string]bool{"kernel": true, "scale": true, "embedding": true}

// hfName walks a variable name through the model as the reference does and
// returns the state-dict key it lands on and whether the array is
// transposed (every array but an `embedding`). has answers whether a dotted
// path names a module or parameter of the model.
//
// The walk's aliases: kernel/scale/embedding → weight; "name_N" → element N
// of list "name"; self_attention, enc_dec_attention, dense_relu_dense →
// layer[0], layer[1], layer[2]; rms_norm → layer_norm or final_layer_norm;
// decoder/logits → lm_head; wi_N → attribute wi_N; any other leaf gains
// ".weight". Where the reference would pass over a component it cannot
// resolve and keep walking (and then crash, or write the array somewhere
// unintended), hfName reports no key: the variable is listed as unused.
func hfName(tfName string, has func(path string) bool) (key string, transpose, ok bool) {
	parts := strings.Split(tfName, "/")
	var path []string
	enter := func(names ...string) bool {
		next := append(append([]string{}, path...), names...)
		if !has(strings.Join(next, ".")) {
			return false
		}
		path = next
		return true
	}
	var last string
	for _, comp := range parts {
		name, num := comp, ""
		if m := scopeIndex.FindStringSubmatch(comp); m != nil {
			name, num = m[1], m[2]
		}
		last = name
		switch {
		case leaves[name]:
			ok = enter("weight")
		case name == "self_attention":
			ok = enter("layer", "0")
		case name == "enc_dec_attention":
			ok = enter("layer", "1")
		case name == "dense_relu_dense":
			ok = enter("layer", "2")
		case name == "rms_norm":
			ok = enter("layer_norm") || enter("final_layer_norm")
		case name == "decoder" && len(parts) > 1 && parts[1] == "logits":
			continue // the head hangs off the model, not the decoder
		case name == "logits":
			ok = enter("lm_head")
		case name == "wi" && num != "":
			if !enter("wi_" + num) {
				return "", false, false
			}
			continue // an attribute, not a list element
		default:
			ok = enter(name)
		}
		if !ok {
			return "", false, false
		}
		if num != "" {
			n, err := strconv.Atoi(num)
			if err != nil || !enter(strconv.Itoa(n)) {
				return "", false, false
			}
		}
	}
	if !leaves[last] && !enter("weight") {
		return "", false, false
	}
	return strings.Join(path, "."), last != "embedding", true
}
