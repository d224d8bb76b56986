package t5

import (
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/internal/fuzzdir"
)

// FuzzGin converts the T5 fixtures (v1.0 and v1.1) with a fuzzed
// operative_config.gin.
func FuzzGin(f *testing.F) {
	fuzzdir.FuzzConfig(f, &Family, GinFile, "t5/small-tiny", "t5/t5.1.1.small-tiny")
}
