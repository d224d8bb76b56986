package tfbundle

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

// maxRank is TensorFlow's TensorShape::MaxDimensions.
const maxRank = 254

// decodeEntry decodes and validates the BundleEntryProto stored for name.
func decodeEntry(indexPath, name string, value []byte, numShards int) (Entry, error) {
	fail := func(format string, args ...any) (Entry, error) {
		return Entry{}, fmt.Errorf("%s: tensor %q: %s", indexPath, name, fmt.Sprintf(format, args...))
	}
	var p pb.BundleEntryProto
	if err := proto.Unmarshal(value, &p); err != nil {
		return fail("bad BundleEntryProto: %v", err)
	}
	shape, err := decodeShape(p.Shape)
	if err != nil {
		return fail("%v", err)
	}
	e := Entry{Name: name, TFDType: p.Dtype, Shape: shape}
	if len(p.Slices) > 0 {
		// The location fields of a partitioned variable are meaningless.
		e.Sliced = true
		return e, nil
	}
	e.ShardID, e.Offset, e.Size, e.CRC32C = p.ShardId, p.Offset, p.Size, p.Crc32C
	if e.ShardID < 0 || int(e.ShardID) >= numShards {
		return fail("shard id %d is not below the header's %d shards", e.ShardID, numShards)
	}
	if e.Offset < 0 || e.Size < 0 || e.Offset > math.MaxInt64-e.Size {
		return fail("bad byte range: offset %d, size %d", e.Offset, e.Size)
	}
	return e, nil
}

// decodeShape checks a shape the way TensorFlow does before it allocates a
// tensor, so nothing downstream meets a shape it cannot size. An absent
// shape is a scalar, as for TensorFlow.
func decodeShape(p *pb.TensorShapeProto) ([]int64, error) {
	if p.GetUnknownRank() {
		return nil, fmt.Errorf("invalid shape: unknown rank")
	}
	dims := p.GetDim()
	if len(dims) > maxRank {
		return nil, fmt.Errorf("invalid shape: %d dimensions, more than %d", len(dims), maxRank)
	}
	shape := make([]int64, len(dims))
	for i, d := range dims {
		if d.GetSize() < 0 {
			return nil, fmt.Errorf("invalid shape: dimension %d is %d", i, d.GetSize())
		}
		shape[i] = d.GetSize()
	}
	if _, ok := numElements(shape); !ok {
		return nil, fmt.Errorf("invalid shape %v: more than 2^63-1 elements", shape)
	}
	return shape, nil
}

// numElements is the product of the dims, with ok false if one is negative
// or the product overflows. A zero dimension makes it 0 whatever the others.
func numElements(shape []int64) (n int64, ok bool) {
	zero := false
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		zero = zero || d == 0
	}
	if zero {
		return 0, true
	}
	n = 1
	for _, d := range shape {
		if n, ok = mul(n, d); !ok {
			return 0, false
		}
	}
	return n, true
}

// mul multiplies non-negative a and b, with ok false on overflow.
func mul(a, b int64) (int64, bool) {
	if b != 0 && a > math.MaxInt64/b {
		return 0, false
	}
	return a * b, true
}
