package tfbundle

import (
	"fmt"
	"os"
	"slices"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// Source locates a tensor's bytes for the read path, after checking that
// they can be served as is: a supported numeric dtype, a size that matches
// the shape, and a byte range inside an existing shard file.
func (c *Checkpoint) Source(e *Entry) (*tensor.Source, error) {
	indexPath := c.IndexPath()
	if e.Sliced {
		return nil, fmt.Errorf("%w: partitioned (sliced) variable %q in %s", ErrUnsupported, e.Name, indexPath)
	}
	dt, err := dtype.FromTF(e.TFDType)
	if err != nil {
		return nil, fmt.Errorf("%w: tensor %q in %s has TensorFlow dtype %s", ErrUnsupported, e.Name, indexPath, dtype.TFDataTypeName(e.TFDType))
	}
	numel, ok := numElements(e.Shape)
	want, ok2 := mul(numel, int64(dt.Size()))
	if !ok || !ok2 || want != e.Size {
		return nil, fmt.Errorf("%s: tensor %q: stored size %d bytes does not match %s shape %s", indexPath, e.Name, e.Size, dt, tensor.FormatShape(e.Shape))
	}
	if e.ShardID < 0 || int(e.ShardID) >= c.NumShards {
		return nil, fmt.Errorf("%s: tensor %q: shard id %d is not below the header's %d shards", indexPath, e.Name, e.ShardID, c.NumShards)
	}
	shardPath := c.ShardPath(e.ShardID)
	shardSize, err := c.shardSize(e.ShardID)
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %q: data shard: %w", indexPath, e.Name, err)
	}
	if e.Offset < 0 || e.Size < 0 || e.Offset > shardSize-e.Size {
		return nil, fmt.Errorf("%s: tensor %q: bytes [%d, %d) run past the end of %s (%d bytes)", indexPath, e.Name, e.Offset, e.Offset+e.Size, shardPath, shardSize)
	}
	return &tensor.Source{
		File:    indexPath,
		Name:    e.Name,
		DType:   dt,
		Shape:   slices.Clone(e.Shape),
		Extents: []tensor.Extent{{Path: shardPath, Offset: e.Offset, Length: e.Size}},
		CRC32C:  e.CRC32C,
		HasCRC:  true,
	}, nil
}

// shardSize stats a data shard once; later calls reuse the answer, error
// included, since a checkpoint being served does not change.
func (c *Checkpoint) shardSize(id int32) (int64, error) {
	c.shards.mu.Lock()
	defer c.shards.mu.Unlock()
	if s, ok := c.shards.sizes[id]; ok {
		return s.size, s.err
	}
	var s shardSize
	st, err := os.Stat(c.ShardPath(id))
	switch {
	case err != nil:
		s.err = err
	case !st.Mode().IsRegular():
		s.err = fmt.Errorf("%s is not a regular file", c.ShardPath(id))
	default:
		s.size = st.Size()
	}
	if c.shards.sizes == nil {
		c.shards.sizes = make(map[int32]shardSize)
	}
	c.shards.sizes[id] = s
	return s.size, s.err
}
