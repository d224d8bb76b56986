// Package openaigpt maps OpenAI's original GPT release
// (openai/finetune-transformer-lm, folder model/) onto Hugging Face's
// OpenAI GPT, following transformers 4.x load_tf_weights_in_openai_gpt. The
// release is one flat float32 vector of every parameter, cut into ten .npy
// files and re-split by the shapes in params_shapes.json; each tensor is
// served from its byte ranges in those files, one or more of them.
package openaigpt

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
)

// Files of the release, and the optional files ckptfs also reads.
const (
	ShapesFile  = "params_shapes.json"
	EncoderFile = "encoder_bpe_40000.json"
	MergesFile  = "vocab_40000.bpe"
	// HParamsFile is not part of OpenAI's release: it records the
	// hyper-parameters the shapes do not tell (n_head), with train.py's
	// argument names.
	HParamsFile = "hparams.json"
	// NamesFile is what the reference loader pairs arrays with; OpenAI's
	// release lacks it, and its content follows from train.py.
	NamesFile = "parameters_names.json"
	// NumShards is how many params_N.npy files the release has and the
	// reference loader reads.
	NumShards = 10
)

// Architecture is the class the folder is served as: the converted
// OpenAIGPTModel's keys, which OpenAIGPTLMHeadModel loads under its
// transformer prefix with the LM head tied to tokens_embed (the Hub's
// layout for openai-gpt).
const Architecture = "OpenAIGPTLMHeadModel"

// Family is OpenAI's GPT release: params_shapes.json beside params_N.npy.
var Family = conversion.Family{
	Kind:      "openai-gpt",
	Detect:    detect,
	Generated: []string{"config.json", "tokenizer_config.json", "vocab.json", "merges.txt"},
	Convert:   convert,
}

func detect(names []string) bool {
	return slices.Contains(names, ShapesFile) && slices.Contains(names, shardName(0))
}

func shardName(i int) string { return fmt.Sprintf("params_%d.npy", i) }

func convert(dir string) (*conversion.Conversion, error) {
	shapesPath := filepath.Join(dir, ShapesFile)
	shapes, err := readShapes(shapesPath)
	if err != nil {
		return nil, err
	}
	dims, err := dimsFromShapes(shapesPath, shapes)
	if err != nil {
		return nil, err
	}
	hp, err := readHParams(filepath.Join(dir, HParamsFile), dims)
	if err != nil {
		return nil, err
	}
	params := stateDict(dims)
	arrays, err := arrayKeys(dir, dims, params)
	if err != nil {
		return nil, err
	}
	flat, err := openFlat(dir)
	if err != nil {
		return nil, err
	}
	conv, err := mapArrays(shapesPath, shapes, arrays, params, flat)
	if err != nil {
		return nil, err
	}
	if conv.Files, err = generatedFiles(dir, dims, hp); err != nil {
		return nil, err
	}
	return conv, nil
}
