// Package tfbundle reads TensorFlow V2 checkpoints ("tensor bundles"): the
// `.index` table describing every tensor and the `.data-*` shard files that
// hold their bytes. The format is described in the project notes,
// formats.md §1.
package tfbundle

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/table"
)

// ErrUnsupported is wrapped by errors about valid checkpoints, or tensors,
// that ckptfs cannot serve; their messages start with "unsupported: ".
var ErrUnsupported = errors.New("unsupported")

// Checkpoint is the decoded index of a V2 checkpoint.
type Checkpoint struct {
	Prefix    string // path without the .index / .data-* suffixes
	NumShards int
	// Entries are the tensors by name, sorted, including those ckptfs cannot
	// serve (strings, partitioned variables, ...): Source says why.
	Entries []Entry
	// SliceEntries hold the pieces of partitioned variables. Their Name is
	// TensorFlow's binary encoding of variable name and slice, which sorts
	// before every plain name (it starts with a 0 byte).
	SliceEntries []Entry

	shards shardSizes
}

// Entry is one tensor as the index describes it. Open has checked the shape
// (no negative or unknown dimensions, element count fits in int64) and, for
// unsliced entries, the shard id and the byte range's arithmetic.
type Entry struct {
	Name    string
	TFDType int32 // TensorFlow DataType enum value
	Shape   []int64
	ShardID int32
	Offset  int64
	Size    int64
	CRC32C  uint32 // masked CRC32C of the tensor bytes
	// Sliced marks a partitioned variable: its bytes are in SliceEntries and
	// ShardID, Offset, Size and CRC32C are zero.
	Sliced bool
}

// IndexPath is the checkpoint's `.index` file.
func (c *Checkpoint) IndexPath() string { return c.Prefix + ".index" }

// ShardPath is the data file holding shard id.
func (c *Checkpoint) ShardPath(id int32) string {
	return fmt.Sprintf("%s.data-%05d-of-%05d", c.Prefix, id, c.NumShards)
}

// Lookup finds an entry of Entries by name.
func (c *Checkpoint) Lookup(name string) (*Entry, bool) {
	i := sort.Search(len(c.Entries), func(i int) bool { return c.Entries[i].Name >= name })
	if i < len(c.Entries) && c.Entries[i].Name == name {
		return &c.Entries[i], true
	}
	return nil, false
}

// Open reads and validates prefix.index. Shard files are not opened until
// Source is asked for a tensor.
func Open(prefix string) (*Checkpoint, error) {
	c := &Checkpoint{Prefix: prefix}
	indexPath := c.IndexPath()
	records, err := table.ReadAll(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		if v1 := findV1Files(prefix); v1 != "" {
			return nil, v1Error(v1)
		}
		return nil, fmt.Errorf("no TensorFlow checkpoint with prefix %s: %w", prefix, err)
	}
	if err != nil {
		return nil, err
	}
	if len(records) == 0 || len(records[0].Key) != 0 {
		return nil, fmt.Errorf("%s: the first entry is not the bundle header (empty key)", indexPath)
	}
	if c.NumShards, err = decodeHeader(indexPath, records[0].Value); err != nil {
		return nil, err
	}
	for _, r := range records[1:] {
		e, err := decodeEntry(indexPath, string(r.Key), r.Value, c.NumShards)
		if err != nil {
			return nil, err
		}
		// Table keys are in strictly increasing byte order, so both lists
		// come out sorted and unique.
		if r.Key[0] == 0 {
			c.SliceEntries = append(c.SliceEntries, e)
		} else {
			c.Entries = append(c.Entries, e)
		}
	}
	return c, nil
}

// shardSizes caches the size of each data shard, or why it is unusable.
type shardSizes struct {
	mu    sync.Mutex
	sizes map[int32]shardSize
}

type shardSize struct {
	size int64
	err  error
}
