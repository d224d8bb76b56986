package albert

import (
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/internal/fuzzdir"
)

// FuzzConfig converts the ALBERT fixture with a fuzzed albert_config.json.
func FuzzConfig(f *testing.F) {
	fuzzdir.FuzzConfig(f, &Family, ConfigFile, "albert/albert_base_v2-tiny")
}
