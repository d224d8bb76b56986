package bert

import (
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/internal/fuzzdir"
)

// FuzzConfig converts the BERT fixtures (pre-training and classifier) with a
// fuzzed bert_config.json.
func FuzzConfig(f *testing.F) {
	fuzzdir.FuzzConfig(f, &Family, ConfigFile, "google/uncased_L-2_H-32_A-4", "finetuned/cased_L-2_H-32_A-4_sst2", "fp16/uncased_fp16")
}
