package xlnet

import (
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/internal/fuzzdir"
)

// FuzzConfig converts the XLNet fixtures (pre-trained and fine-tuned) with
// a fuzzed xlnet_config.json.
func FuzzConfig(f *testing.F) {
	fuzzdir.FuzzConfig(f, &Family, ConfigFile, "xlnet/xlnet_cased_L-2_H-32_A-4", "xlnet/finetuned_L-2_H-16_A-2_mnli")
}
