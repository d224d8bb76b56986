package tfbundle

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/table"
)

// v1ShardSuffix is how TF1's sharded V1 saver named its files:
// PREFIX-00000-of-00002.
var v1ShardSuffix = regexp.MustCompile(`^-[0-9]{5}-of-[0-9]{5}$`)

func v1Error(path string) error {
	return fmt.Errorf("%w: TensorFlow V1 checkpoint (single-file TensorSliceWriter format) %s; re-save it with a TensorFlow 2 or tf.compat.v1 V2 saver", ErrUnsupported, path)
}

// findV1Files returns a V1 checkpoint file for prefix (PREFIX itself or one
// of its -NNNNN-of-NNNNN shards), or "" if there is none. A V1 checkpoint is
// a single table file, recognised by the table magic at its end.
func findV1Files(prefix string) string {
	if isTable(prefix) {
		return prefix
	}
	dir, base := filepath.Split(prefix)
	if dir == "" {
		dir = "."
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, n := range names {
		name := n.Name()
		if len(name) > len(base) && name[:len(base)] == base && v1ShardSuffix.MatchString(name[len(base):]) {
			if p := filepath.Join(dir, name); isTable(p) {
				return p
			}
		}
	}
	return ""
}

// findV1InDir returns any file of dir that is a table, or "".
func findV1InDir(dir string) string {
	names, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, n := range names {
		if p := filepath.Join(dir, n.Name()); isTable(p) {
			return p
		}
	}
	return ""
}

func isTable(path string) bool {
	ok, err := table.HasMagic(path)
	return err == nil && ok
}
