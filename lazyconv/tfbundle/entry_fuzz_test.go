package tfbundle

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

// FuzzDecodeEntry checks that any entry value either fails to decode or
// yields an entry whose shape and byte range are safe to compute with.
func FuzzDecodeEntry(f *testing.F) {
	for _, e := range []*pb.BundleEntryProto{
		{Dtype: tfFloat, Shape: shapeProto(2, 3), Offset: 8, Size: 24, Crc32C: 1},
		{Dtype: tfInt64, Shape: shapeProto()},
		{Dtype: tfFloat, Shape: shapeProto(4), Slices: []*pb.TensorSliceProto{{Extent: []*pb.TensorSliceProto_Extent{{}}}}},
	} {
		b, _ := proto.Marshal(e)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		e, err := decodeEntry("fuzz.index", "w", value, 2)
		if err != nil {
			return
		}
		if _, ok := numElements(e.Shape); !ok {
			t.Fatalf("accepted shape %v", e.Shape)
		}
		if !e.Sliced && (e.ShardID < 0 || e.ShardID >= 2 || e.Offset < 0 || e.Size < 0 || e.Offset+e.Size < 0) {
			t.Fatalf("accepted entry %+v", e)
		}
	})
}
