package openaigpt

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/npy"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// flatVector is the concatenation of params_0.npy … params_9.npy, which
// the reference loader builds with np.concatenate before splitting it by
// params_shapes.json. Here it is only an address map: global element
// index → file and byte offset.
type flatVector struct {
	shards []shard
	total  int64 // elements
}

// shard is one file's piece of the vector.
type shard struct {
	path       string
	first, n   int64 // global index of its first element, its element count
	dataOffset int64
}

// openFlat reads the ten files' headers (no data). Each must hold a
// one-dimensional little-endian float32 array, as the release's do: the
// reference concatenates along axis 0, and another dtype would change the
// concatenation's type.
func openFlat(dir string) (*flatVector, error) {
	f := &flatVector{}
	for i := range NumShards {
		path := filepath.Join(dir, shardName(i))
		h, err := npy.ReadHeader(path)
		if err != nil {
			return nil, err
		}
		if h.DType != dtype.F32 {
			return nil, fmt.Errorf("%s: %w: %s array; the release's pieces are float32", path, npy.ErrUnsupported, h.DType)
		}
		if len(h.Shape) != 1 {
			return nil, fmt.Errorf("%s: array of shape %s; the release's pieces are one-dimensional", path, tensor.FormatShape(h.Shape))
		}
		f.shards = append(f.shards, shard{path: path, first: f.total, n: h.Shape[0], dataOffset: h.DataOffset})
		f.total += h.Shape[0]
	}
	return f, nil
}

// source describes elements [first, first+n) of the vector, which the
// caller has checked lie inside it, as a tensor of the given shape: one
// extent per file the range touches, so a tensor that straddles files is
// read from each in turn, never copied.
func (f *flatVector) source(name string, first, n int64, shape []int64) *tensor.Source {
	size := int64(dtype.F32.Size())
	src := &tensor.Source{File: f.shards[0].path, Name: name, DType: dtype.F32, Shape: slices.Clone(shape)}
	for _, s := range f.shards {
		lo, hi := max(first, s.first), min(first+n, s.first+s.n)
		if lo >= hi {
			continue
		}
		if len(src.Extents) == 0 {
			src.File = s.path // where the tensor begins
		}
		src.Extents = append(src.Extents, tensor.Extent{Path: s.path, Offset: s.dataOffset + (lo-s.first)*size, Length: (hi - lo) * size})
	}
	return src
}
