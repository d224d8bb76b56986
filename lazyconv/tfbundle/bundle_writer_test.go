package tfbundle

import (
	"os"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/bundlewrite"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

// testBundle assembles a V2 checkpoint for tests with bundlewrite. Its
// header, entries and raw values can be edited (made invalid) between add
// and write.
type testBundle struct {
	b       *bundlewrite.Bundle
	header  *pb.BundleHeaderProto
	entries map[string]*pb.BundleEntryProto
	raw     map[string][]byte
}

func newTestBundle(numShards int) *testBundle {
	b := bundlewrite.New(numShards)
	// Small blocks and a short restart interval exercise the table reader.
	b.Layout = bundlewrite.Layout{BlockEntries: 3, RestartInterval: 2}
	return &testBundle{b: b, header: b.Header, entries: b.Entries, raw: b.Raw}
}

func shapeProto(dims ...int64) *pb.TensorShapeProto { return bundlewrite.Shape(dims...) }

// add appends data to a shard and records a matching entry.
func (b *testBundle) add(name string, shard int, tfDType int32, shape []int64, data []byte) *pb.BundleEntryProto {
	return b.b.Add(name, shard, tfDType, shape, data)
}

// write stores the bundle as dir/name.{index,data-*} and returns the prefix.
func (b *testBundle) write(t *testing.T, dir, name string) string {
	t.Helper()
	prefix, err := b.b.Write(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return prefix
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TensorFlow DataType values used in tests.
const (
	tfFloat     = 1
	tfInt32     = 3
	tfString    = 7
	tfComplex64 = 8
	tfInt64     = 9
	tfBFloat16  = 14
	tfResource  = 20
	tfVariant   = 21
)
