package tfbundle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/tabletest"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

func floats(vals ...float32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// readExtents returns a source's bytes from its shard files.
func readExtents(t *testing.T, src *tensor.Source) []byte {
	t.Helper()
	var out []byte
	for _, e := range src.Extents {
		f, err := os.Open(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, e.Length)
		if _, err := f.ReadAt(buf, e.Offset); err != nil && e.Length > 0 {
			t.Fatal(err)
		}
		f.Close()
		out = append(out, buf...)
	}
	return out
}

func TestOpenAndSource(t *testing.T) {
	b := newTestBundle(2)
	kernel := floats(1, 2, 3, 4, 5, 6)
	b.add("bert/embeddings/word_embeddings", 0, tfFloat, []int64{2, 3}, kernel)
	b.add("global_step", 1, tfInt64, nil, binary.LittleEndian.AppendUint64(nil, 1000))
	b.add("bert/pooler/dense/bias", 1, tfBFloat16, []int64{2}, []byte{1, 2, 3, 4})
	b.add("bert/empty", 0, tfInt32, []int64{0, 7}, nil)
	b.add("_CHECKPOINTABLE_OBJECT_GRAPH", 0, tfString, nil, []byte("\x03\x00\x00\x00\x00abc"))
	prefix := b.write(t, t.TempDir(), "bert_model.ckpt")

	c, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if c.NumShards != 2 || c.Prefix != prefix || c.IndexPath() != prefix+".index" {
		t.Fatalf("checkpoint %+v", c)
	}
	var names []string
	for _, e := range c.Entries {
		names = append(names, e.Name)
	}
	want := "_CHECKPOINTABLE_OBJECT_GRAPH bert/embeddings/word_embeddings bert/empty bert/pooler/dense/bias global_step"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
	if c.ShardPath(1) != prefix+".data-00001-of-00002" {
		t.Fatalf("ShardPath(1) = %s", c.ShardPath(1))
	}

	e, ok := c.Lookup("bert/embeddings/word_embeddings")
	if !ok || e.TFDType != tfFloat || !tensor.ShapeEqual(e.Shape, []int64{2, 3}) || e.Size != 24 || e.ShardID != 0 || e.Sliced {
		t.Fatalf("Lookup = %+v, %v", e, ok)
	}
	if _, ok := c.Lookup("bert/nope"); ok {
		t.Fatal("Lookup of a missing name succeeded")
	}

	for _, tc := range []struct {
		name  string
		dtype dtype.DType
		shape []int64
	}{
		{"bert/embeddings/word_embeddings", dtype.F32, []int64{2, 3}},
		{"global_step", dtype.I64, []int64{}},
		{"bert/pooler/dense/bias", dtype.BF16, []int64{2}},
		{"bert/empty", dtype.I32, []int64{0, 7}},
	} {
		e, _ := c.Lookup(tc.name)
		src, err := c.Source(e)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if src.File != c.IndexPath() || src.Name != tc.name || src.DType != tc.dtype || !tensor.ShapeEqual(src.Shape, tc.shape) ||
			len(src.Extents) != 1 || src.Extents[0].Path != c.ShardPath(e.ShardID) || !src.HasCRC {
			t.Fatalf("%s: source %+v", tc.name, src)
		}
		if got := MaskedCRC32C(readExtents(t, src)); got != src.CRC32C {
			t.Fatalf("%s: data CRC %#x, recorded %#x", tc.name, got, src.CRC32C)
		}
	}
	e, _ = c.Lookup("bert/embeddings/word_embeddings")
	src, _ := c.Source(e)
	if !bytes.Equal(readExtents(t, src), kernel) {
		t.Fatal("kernel bytes differ")
	}
}

func TestSourceUnsupported(t *testing.T) {
	b := newTestBundle(1)
	b.add("graph", 0, tfString, nil, []byte("\x01\x00\x00\x00\x00a"))
	b.add("c", 0, tfComplex64, []int64{1}, make([]byte, 8))
	b.add("handle", 0, tfResource, nil, nil)
	b.add("ds", 0, tfVariant, nil, nil)
	b.add("q", 0, 11, []int64{1}, []byte{1}) // DT_QINT8
	b.add("new", 0, 99, []int64{1}, []byte{1})
	// A partitioned variable: the full entry describes the whole tensor,
	// and each slice is an entry of its own under an encoded key.
	full := b.add("part/w", 0, tfFloat, []int64{2}, nil)
	full.Slices = []*pb.TensorSliceProto{{Extent: []*pb.TensorSliceProto_Extent{{Start: 0, HasLength: &pb.TensorSliceProto_Extent_Length{Length: 2}}}}}
	full.ShardId = 7 // ignored for a partitioned variable
	b.add("\x00part/w\x00\x01\x01\x01\x80\xc2", 0, tfFloat, []int64{2}, floats(1, 2))
	prefix := b.write(t, t.TempDir(), "m")
	c, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SliceEntries) != 1 || c.SliceEntries[0].Size != 8 || len(c.Entries) != 7 {
		t.Fatalf("entries %d, slice entries %+v", len(c.Entries), c.SliceEntries)
	}
	for name, want := range map[string]string{
		"graph":  `unsupported: tensor "graph" in ` + prefix + `.index has TensorFlow dtype string`,
		"c":      "dtype complex64",
		"handle": "dtype resource",
		"ds":     "dtype variant",
		"q":      "dtype DataType 11",
		"new":    "dtype DataType 99",
		"part/w": `unsupported: partitioned (sliced) variable "part/w" in ` + prefix + ".index",
	} {
		e, ok := c.Lookup(name)
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if name == "part/w" && (!e.Sliced || e.ShardID != 0) {
			t.Fatalf("partitioned entry %+v", e)
		}
		_, err := c.Source(e)
		if err == nil || !strings.HasPrefix(err.Error(), "unsupported: ") || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), prefix) || !strings.Contains(err.Error(), name) || !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
}

func TestSourceErrors(t *testing.T) {
	b := newTestBundle(2)
	b.add("ok", 0, tfFloat, []int64{2}, floats(1, 2))
	b.add("wrong_size", 0, tfFloat, []int64{3}, floats(1, 2))
	huge := b.add("huge", 0, tfFloat, []int64{1e9, 1e9}, nil) // 10^18 elements
	huge.Offset, huge.Size = 0, 4e18
	hugeMismatch := b.add("huge_mismatch", 0, tfFloat, []int64{1e9, 1e9}, nil)
	hugeMismatch.Size = 8
	b.add("in_missing_shard", 1, tfFloat, []int64{1}, floats(1))
	past := b.add("past_end", 0, tfFloat, []int64{2}, nil)
	past.Offset, past.Size = 12, 8 // the shard holds 16 bytes
	dir := t.TempDir()
	prefix := b.write(t, dir, "m")
	os.Remove(prefix + ".data-00001-of-00002")

	c, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"wrong_size":       "stored size 8 bytes does not match float32 shape [3]",
		"huge":             "bytes [0, 4000000000000000000) run past the end of " + prefix + ".data-00000-of-00002 (16 bytes)",
		"huge_mismatch":    "stored size 8 bytes does not match float32 shape [1000000000, 1000000000]",
		"in_missing_shard": "data shard: stat " + prefix + ".data-00001-of-00002: no such file",
		"past_end":         "bytes [12, 20) run past the end",
	} {
		e, _ := c.Lookup(name)
		_, err := c.Source(e)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), prefix+".index") || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
	// The stat of a missing shard is cached, the answer stays the same.
	e, _ := c.Lookup("in_missing_shard")
	if _, err := c.Source(e); err == nil {
		t.Error("second Source of a tensor in a missing shard succeeded")
	}
}

func TestSourceConcurrent(t *testing.T) {
	b := newTestBundle(3)
	for i, name := range []string{"a", "b", "c"} {
		b.add(name, i, tfFloat, []int64{1}, floats(float32(i)))
	}
	c, err := Open(b.write(t, t.TempDir(), "m"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		for i := range c.Entries {
			wg.Go(func() {
				if _, err := c.Source(&c.Entries[i]); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}

func TestOpenErrors(t *testing.T) {
	type edit func(b *testBundle)
	for _, tc := range []struct {
		name string
		edit edit
		want string
	}{
		{"big endian", func(b *testBundle) { b.header.Endianness = pb.BundleHeaderProto_BIG }, "unsupported: big-endian checkpoint"},
		{"unknown endianness", func(b *testBundle) { b.header.Endianness = 5 }, "unsupported: checkpoint"},
		{"min consumer", func(b *testBundle) { b.header.Version.MinConsumer = 2 }, "needs a reader of format version 2"},
		{"bad consumer", func(b *testBundle) { b.header.Version.BadConsumers = []int32{0, 1} }, "disallows readers of format version 1"},
		{"negative producer", func(b *testBundle) { b.header.Version.Producer = -1 }, "producer version -1"},
		{"negative shards", func(b *testBundle) { b.header.NumShards = -1 }, "-1 shards"},
		{"bad header proto", func(b *testBundle) { b.raw[""] = []byte{0x08} }, "bad bundle header"},
		{"V1 header", func(b *testBundle) { b.raw[""] = []byte{0x0a, 0x00} }, "unsupported: TensorFlow V1 checkpoint"},
		{"bad entry proto", func(b *testBundle) { b.raw["w"] = []byte{0x12, 0x05} }, `tensor "w": bad BundleEntryProto`},
		{"negative dim", func(b *testBundle) { b.entries["w"].Shape = shapeProto(2, -1) }, `tensor "w": invalid shape: dimension 1 is -1`},
		{"unknown rank", func(b *testBundle) { b.entries["w"].Shape.UnknownRank = true }, `tensor "w": invalid shape: unknown rank`},
		{"element overflow", func(b *testBundle) { b.entries["w"].Shape = shapeProto(1e10, 1e10) }, "more than 2^63-1 elements"},
		{"too many dims", func(b *testBundle) { b.entries["w"].Shape = shapeProto(make([]int64, 255)...) }, "255 dimensions"},
		{"shard id too big", func(b *testBundle) { b.entries["w"].ShardId = 1 }, "shard id 1 is not below the header's 1 shards"},
		{"negative shard id", func(b *testBundle) { b.entries["w"].ShardId = -1 }, "shard id -1"},
		{"negative offset", func(b *testBundle) { b.entries["w"].Offset = -4 }, "bad byte range: offset -4"},
		{"negative size", func(b *testBundle) { b.entries["w"].Size = -4 }, "bad byte range"},
		{"range overflow", func(b *testBundle) { b.entries["w"].Offset = math.MaxInt64 - 2 }, "bad byte range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBundle(1)
			b.add("w", 0, tfFloat, []int64{2}, floats(1, 2))
			tc.edit(b)
			prefix := b.write(t, t.TempDir(), "m")
			_, err := Open(prefix)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), prefix+".index") {
				t.Fatalf("error %v, want %q naming %s.index", err, tc.want, prefix)
			}
		})
	}
}

func TestOpenWithoutVersion(t *testing.T) {
	// Bundles from before 2016-09 have no version in their header.
	b := newTestBundle(1)
	b.header.Version = nil
	b.add("w", 0, tfFloat, []int64{}, floats(1))
	if _, err := Open(b.write(t, t.TempDir(), "m")); err != nil {
		t.Fatal(err)
	}
}

func TestOpenTableProblems(t *testing.T) {
	dir := t.TempDir()
	header := []byte{0x08, 0x01, 0x1a, 0x02, 0x08, 0x01}
	for _, tc := range []struct {
		name string
		kvs  []tabletest.KV
		want string
	}{
		{"no header", []tabletest.KV{{Key: []byte("w"), Value: nil}}, "first entry is not the bundle header"},
		{"empty table", nil, "first entry is not the bundle header"},
		{"duplicate keys", []tabletest.KV{{Key: nil, Value: header}, {Key: []byte("w")}, {Key: []byte("w")}}, `duplicate key "w"`},
	} {
		prefix := dir + "/" + strings.ReplaceAll(tc.name, " ", "_")
		writeTestFile(t, prefix+".index", tabletest.Write(tc.kvs, tabletest.Options{}))
		_, err := Open(prefix)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), prefix+".index") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// v1Table is a minimal V1 checkpoint: a table whose header (SavedTensorSlices)
// starts with field 1, a message.
func v1Table() []byte {
	return tabletest.Write([]tabletest.KV{{Key: nil, Value: []byte{0x0a, 0x00}}}, tabletest.Options{})
}

func TestOpenMissingAndV1(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir + "/absent"); err == nil || !strings.Contains(err.Error(), "no TensorFlow checkpoint with prefix "+dir+"/absent") {
		t.Errorf("missing prefix: %v", err)
	}
	writeTestFile(t, dir+"/v1.ckpt", v1Table())
	if _, err := Open(dir + "/v1.ckpt"); err == nil || !strings.HasPrefix(err.Error(), "unsupported: TensorFlow V1 checkpoint") || !strings.Contains(err.Error(), dir+"/v1.ckpt") {
		t.Errorf("V1 prefix file: %v", err)
	}
	writeTestFile(t, dir+"/sharded.ckpt-00000-of-00001", v1Table())
	if _, err := Open(dir + "/sharded.ckpt"); err == nil || !strings.Contains(err.Error(), "V1 checkpoint") || !strings.Contains(err.Error(), "sharded.ckpt-00000-of-00001") {
		t.Errorf("V1 sharded prefix: %v", err)
	}
}
