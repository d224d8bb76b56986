package tfbundle

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/tabletest"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

// testBundle assembles a V2 checkpoint for tests. Entries can be edited
// (made invalid) between add and write.
type testBundle struct {
	header  *pb.BundleHeaderProto
	entries map[string]*pb.BundleEntryProto
	shards  [][]byte
	// raw replaces the header or an entry with these exact value bytes.
	raw map[string][]byte
}

func newTestBundle(numShards int) *testBundle {
	return &testBundle{
		header:  &pb.BundleHeaderProto{NumShards: int32(numShards), Version: &pb.VersionDef{Producer: 1}},
		entries: map[string]*pb.BundleEntryProto{},
		shards:  make([][]byte, numShards),
		raw:     map[string][]byte{},
	}
}

func shapeProto(dims ...int64) *pb.TensorShapeProto {
	s := &pb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &pb.TensorShapeProto_Dim{Size: d})
	}
	return s
}

// add appends data to a shard and records a matching entry.
func (b *testBundle) add(name string, shard int, tfDType int32, shape []int64, data []byte) *pb.BundleEntryProto {
	e := &pb.BundleEntryProto{
		Dtype:   tfDType,
		Shape:   shapeProto(shape...),
		ShardId: int32(shard),
		Offset:  int64(len(b.shards[shard])),
		Size:    int64(len(data)),
		Crc32C:  MaskedCRC32C(data),
	}
	b.shards[shard] = append(b.shards[shard], data...)
	b.entries[name] = e
	return e
}

// write stores the bundle as dir/name.{index,data-*} and returns the prefix.
func (b *testBundle) write(t *testing.T, dir, name string) string {
	t.Helper()
	prefix := filepath.Join(dir, name)
	kvs := []tabletest.KV{{Key: []byte{}, Value: b.value("", b.header)}}
	names := make([]string, 0, len(b.entries))
	for n := range b.entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		kvs = append(kvs, tabletest.KV{Key: []byte(n), Value: b.value(n, b.entries[n])})
	}
	// Small blocks and a short restart interval exercise the table reader.
	index := tabletest.Write(kvs, tabletest.Options{BlockEntries: 3, RestartInterval: 2})
	writeTestFile(t, prefix+".index", index)
	for i, data := range b.shards {
		writeTestFile(t, fmt.Sprintf("%s.data-%05d-of-%05d", prefix, i, len(b.shards)), data)
	}
	return prefix
}

func (b *testBundle) value(key string, m proto.Message) []byte {
	if v, ok := b.raw[key]; ok {
		return v
	}
	v, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return v
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
