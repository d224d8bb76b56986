package gpt2

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

const endOfText = "<|endoftext|>"

// generatedFiles makes config.json and the tokenizer files. Hugging Face's
// vocab.json and merges.txt hold exactly what the release's encoder.json and
// vocab.bpe hold, under other names.
func generatedFiles(dir string, h *HParams) (map[string][]byte, error) {
	encoderPath := filepath.Join(dir, EncoderFile)
	encoder, err := os.ReadFile(encoderPath)
	if err != nil {
		return nil, err
	}
	var vocab map[string]int64
	if err := json.Unmarshal(encoder, &vocab); err != nil {
		return nil, fmt.Errorf("%s: %w", encoderPath, err)
	}
	merges, err := os.ReadFile(filepath.Join(dir, MergesFile))
	if err != nil {
		return nil, err
	}
	eos, ok := vocab[endOfText]
	if !ok {
		return nil, fmt.Errorf("%s: no %s token", encoderPath, endOfText)
	}
	config := map[string]any{
		"model_type":          "gpt2",
		"architectures":       []string{"GPT2LMHeadModel"},
		"vocab_size":          h.NVocab,
		"n_positions":         h.NCtx,
		"n_embd":              h.NEmbd,
		"n_layer":             h.NLayer,
		"n_head":              h.NHead,
		"activation_function": "gelu_new", // the release's tanh approximation
		"layer_norm_epsilon":  1e-5,
		"bos_token_id":        eos,
		"eos_token_id":        eos,
	}
	tokenizer := map[string]any{
		"tokenizer_class":  "GPT2Tokenizer",
		"model_max_length": h.NCtx,
		"bos_token":        endOfText,
		"eos_token":        endOfText,
		"unk_token":        endOfText,
	}
	files := map[string][]byte{"vocab.json": encoder, "merges.txt": merges}
	for name, v := range map[string]any{"config.json": config, "tokenizer_config.json": tokenizer} {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, err
		}
		files[name] = append(data, '\n')
	}
	return files, nil
}
