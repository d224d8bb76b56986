package index

import (
	"fmt"

	"github.com/ckptfs/ckptfs/cache"
)

// ReadAll produces a whole virtual file from its plan, with a chunk cache
// and source files of its own: the bytes a mount would serve, for tools
// and tests that want them without one.
func ReadAll(plan *Plan) ([]byte, error) {
	chunks, err := cache.New(64 << 20)
	if err != nil {
		return nil, err
	}
	defer chunks.Close()
	sources := NewSources()
	defer sources.Close()
	buf := make([]byte, plan.Size)
	n, err := NewReader("readall", plan, chunks, sources).ReadAt(buf, 0)
	if err != nil {
		return nil, err
	}
	if int64(n) != plan.Size {
		return nil, fmt.Errorf("read %d bytes of %d", n, plan.Size)
	}
	return buf, nil
}
