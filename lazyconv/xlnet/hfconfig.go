package xlnet

import (
	"encoding/json"
	"fmt"
	"maps"
)

// referenceDefaults are the values transformers 4.x's XLNetConfig gives
// every key xlnet_config.json does not set; the conversion script writes
// them all to config.json, and so does the view, so that the model does not
// depend on the defaults of whichever transformers reads it.
var referenceDefaults = map[string]json.RawMessage{
	"attn_type":            json.RawMessage(`"bi"`),
	"bi_data":              json.RawMessage(`false`),
	"bos_token_id":         json.RawMessage(`1`),
	"clamp_len":            json.RawMessage(`-1`),
	"dropout":              json.RawMessage(`0.1`),
	"end_n_top":            json.RawMessage(`5`),
	"eos_token_id":         json.RawMessage(`2`),
	"ff_activation":        json.RawMessage(`"gelu"`),
	"initializer_range":    json.RawMessage(`0.02`),
	"layer_norm_eps":       json.RawMessage(`1e-12`),
	"mem_len":              json.RawMessage(`512`),
	"pad_token_id":         json.RawMessage(`5`),
	"reuse_len":            json.RawMessage(`null`),
	"same_length":          json.RawMessage(`false`),
	"start_n_top":          json.RawMessage(`5`),
	"summary_activation":   json.RawMessage(`"tanh"`),
	"summary_last_dropout": json.RawMessage(`0.1`),
	"summary_type":         json.RawMessage(`"last"`),
	"summary_use_proj":     json.RawMessage(`true`),
	"untie_r":              json.RawMessage(`true`),
	"use_mems_eval":        json.RawMessage(`true`),
	"use_mems_train":       json.RawMessage(`false`),
}

// hfConfig renders config.json: the reference's values (every original key
// as written, n_token under its Hugging Face name vocab_size, d_head as
// XLNetConfig derives it, the defaults above), what transformers needs to
// pick the class, and for a classifier its task and labels.
func hfConfig(c *Config, m *Mapping) ([]byte, error) {
	out := maps.Clone(referenceDefaults)
	for k, v := range c.raw {
		out[k] = v
	}
	delete(out, "n_token")
	out["vocab_size"] = c.raw["n_token"]
	out["d_head"] = json.RawMessage(fmt.Sprint(c.DHead))
	out["model_type"] = json.RawMessage(`"xlnet"`)
	if err := setJSON(out, "architectures", []string{m.Architecture}); err != nil {
		return nil, err
	}
	if h := m.Head; h != nil {
		if err := setJSON(out, "finetuning_task", h.Task); err != nil {
			return nil, err
		}
		id2label, label2id := map[string]string{}, map[string]int64{}
		for i := int64(0); i < h.NumLabels; i++ {
			name := fmt.Sprintf("LABEL_%d", i)
			id2label[fmt.Sprint(i)], label2id[name] = name, i
		}
		if err := setJSON(out, "id2label", id2label); err != nil {
			return nil, err
		}
		if err := setJSON(out, "label2id", label2id); err != nil {
			return nil, err
		}
		if !m.Summary {
			// Fine-tuned without use_summ_proj: the original pools with
			// neither projection nor tanh ("linear" is the identity).
			out["summary_use_proj"] = json.RawMessage(`false`)
			out["summary_activation"] = json.RawMessage(`"linear"`)
		}
	}
	return indentJSON(out)
}

// tokenizerConfig renders tokenizer_config.json for the spiece.model beside:
// XLNetTokenizer's settings for the cased releases, the only ones there are.
func tokenizerConfig() ([]byte, error) {
	return indentJSON(map[string]any{
		"tokenizer_class": "XLNetTokenizer",
		"do_lower_case":   false,
		"remove_space":    true,
		"keep_accents":    false,
	})
}

func setJSON(out map[string]json.RawMessage, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	out[key] = data
	return nil
}

// indentJSON writes keys sorted and indented as transformers writes them.
func indentJSON[V any](v map[string]V) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
