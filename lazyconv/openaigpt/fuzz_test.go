package openaigpt

import (
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/internal/fuzzdir"
)

// FuzzConfig converts the OpenAI GPT fixtures with a fuzzed
// params_shapes.json and hparams.json (absent when empty).
func FuzzConfig(f *testing.F) {
	fuzzdir.FuzzConfigPair(f, &Family, ShapesFile, HParamsFile, "openai-gpt/finetune-transformer-lm-tiny", "openai-gpt/default-heads-tiny")
}
