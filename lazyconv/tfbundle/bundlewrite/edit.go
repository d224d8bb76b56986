package bundlewrite

// Editing checkpoints for tests: existing `.index` files rewritten with
// edited, reordered or duplicated records, and bundles assembled entry by
// entry with any field made invalid, so tests anywhere in the module can
// produce precisely broken checkpoints. ckptfs itself never writes
// checkpoints.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/tabletest"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/table"
)

// Record is one key/value record of an `.index` table. The header has the
// empty key; every other record is a tensor's BundleEntryProto.
type Record struct {
	Key, Value []byte
}

// Layout shapes the table WriteIndex produces.
type Layout struct {
	BlockEntries    int // records per data block; 0 means all in one block
	RestartInterval int // records between restart points; 0 means 16
}

// ReadIndex returns the records of the `.index` file at path in file order.
func ReadIndex(path string) ([]Record, error) {
	entries, err := table.ReadAll(path)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(entries))
	for i, e := range entries {
		out[i] = Record{Key: e.Key, Value: e.Value}
	}
	return out, nil
}

// WriteIndex writes records as a table in exactly the given order: records
// out of order or with a repeated key make the corrupt tables tests need.
func WriteIndex(path string, records []Record, l Layout) error {
	kvs := make([]tabletest.KV, len(records))
	for i, r := range records {
		kvs[i] = tabletest.KV{Key: r.Key, Value: r.Value}
	}
	data := tabletest.Write(kvs, tabletest.Options{BlockEntries: l.BlockEntries, RestartInterval: l.RestartInterval})
	return os.WriteFile(path, data, 0o644)
}

// EditEntry rewrites the `.index` file at path with the entry of tensor name
// changed by edit; every other record keeps its bytes.
func EditEntry(path, name string, edit func(*pb.BundleEntryProto)) error {
	records, err := ReadIndex(path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(records, func(r Record) bool { return string(r.Key) == name })
	if i < 0 {
		return fmt.Errorf("%s: no tensor %q", path, name)
	}
	var e pb.BundleEntryProto
	if err := proto.Unmarshal(records[i].Value, &e); err != nil {
		return fmt.Errorf("%s: tensor %q: %w", path, name, err)
	}
	edit(&e)
	if records[i].Value, err = proto.Marshal(&e); err != nil {
		return err
	}
	return WriteIndex(path, records, Layout{})
}

// Entry decodes a tensor record's value.
func Entry(r Record) (*pb.BundleEntryProto, error) {
	var e pb.BundleEntryProto
	if err := proto.Unmarshal(r.Value, &e); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", r.Key, err)
	}
	return &e, nil
}

// Shape builds a shape proto.
func Shape(dims ...int64) *pb.TensorShapeProto {
	s := &pb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &pb.TensorShapeProto_Dim{Size: d})
	}
	return s
}

// Bundle assembles a new V2 checkpoint. Header and entries may be edited
// (made invalid) between Add and Write.
type Bundle struct {
	Header  *pb.BundleHeaderProto
	Entries map[string]*pb.BundleEntryProto
	Shards  [][]byte
	// Raw replaces the header ("") or an entry with these exact value bytes.
	Raw map[string][]byte
	// Layout of the index; the zero value writes one data block.
	Layout Layout
}

// New starts a little-endian bundle of numShards shards.
func New(numShards int) *Bundle {
	return &Bundle{
		Header:  &pb.BundleHeaderProto{NumShards: int32(numShards), Version: &pb.VersionDef{Producer: 1}},
		Entries: map[string]*pb.BundleEntryProto{},
		Shards:  make([][]byte, numShards),
		Raw:     map[string][]byte{},
	}
}

// Add appends data to a shard and records a matching entry.
func (b *Bundle) Add(name string, shard int, tfDType int32, shape []int64, data []byte) *pb.BundleEntryProto {
	e := &pb.BundleEntryProto{
		Dtype:   tfDType,
		Shape:   Shape(shape...),
		ShardId: int32(shard),
		Offset:  int64(len(b.Shards[shard])),
		Size:    int64(len(data)),
		Crc32C:  tfbundle.MaskedCRC32C(data),
	}
	b.Shards[shard] = append(b.Shards[shard], data...)
	b.Entries[name] = e
	return e
}

// Write stores the bundle as dir/name.{index,data-*} with entries in sorted
// order and returns the prefix.
func (b *Bundle) Write(dir, name string) (string, error) {
	prefix := filepath.Join(dir, name)
	header, err := b.value("", b.Header)
	if err != nil {
		return "", err
	}
	records := []Record{{Key: []byte{}, Value: header}}
	names := make([]string, 0, len(b.Entries))
	for n := range b.Entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		v, err := b.value(n, b.Entries[n])
		if err != nil {
			return "", err
		}
		records = append(records, Record{Key: []byte(n), Value: v})
	}
	if err := WriteIndex(prefix+".index", records, b.Layout); err != nil {
		return "", err
	}
	for i, data := range b.Shards {
		if err := os.WriteFile(fmt.Sprintf("%s.data-%05d-of-%05d", prefix, i, len(b.Shards)), data, 0o644); err != nil {
			return "", err
		}
	}
	return prefix, nil
}

func (b *Bundle) value(key string, m proto.Message) ([]byte, error) {
	if v, ok := b.Raw[key]; ok {
		return v, nil
	}
	return proto.Marshal(m)
}
