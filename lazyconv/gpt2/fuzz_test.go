package gpt2

import (
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/internal/fuzzdir"
)

// FuzzHParams converts the GPT-2 fixture with a fuzzed hparams.json.
func FuzzHParams(f *testing.F) {
	fuzzdir.FuzzConfig(f, &Family, HParamsFile, "gpt2/124M-tiny")
}
