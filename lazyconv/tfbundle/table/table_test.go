package table_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/tabletest"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/table"
)

// sampleKVs are sorted records with long shared prefixes, like tensor names.
func sampleKVs(n int) []tabletest.KV {
	kvs := []tabletest.KV{{Key: []byte{}, Value: []byte{0x08, 0x01}}}
	for i := 0; i < n; i++ {
		kvs = append(kvs, tabletest.KV{
			Key:   fmt.Appendf(nil, "bert/encoder/layer_%03d/attention/self/query/kernel", i),
			Value: bytes.Repeat([]byte{byte(i)}, i%7),
		})
	}
	return kvs
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.ckpt.index")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadAllRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		opts tabletest.Options
	}{
		{"empty table", 0, tabletest.Options{}},
		{"header only", 0, tabletest.Options{BlockEntries: 1}},
		{"one raw block", 40, tabletest.Options{}},
		{"restart every entry", 40, tabletest.Options{RestartInterval: 1}},
		{"restart every 3", 40, tabletest.Options{RestartInterval: 3, BlockEntries: 10}},
		{"many raw blocks", 100, tabletest.Options{BlockEntries: 7, RestartInterval: 4}},
		{"one snappy block", 40, tabletest.Options{Snappy: true}},
		{"many snappy blocks", 100, tabletest.Options{BlockEntries: 9, Snappy: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kvs := sampleKVs(tc.n)
			if tc.name == "empty table" {
				kvs = nil
			}
			path := writeFile(t, tabletest.Write(kvs, tc.opts))
			got, err := table.ReadAll(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(kvs) {
				t.Fatalf("got %d entries, want %d", len(got), len(kvs))
			}
			for i := range kvs {
				if !bytes.Equal(got[i].Key, kvs[i].Key) || !bytes.Equal(got[i].Value, kvs[i].Value) {
					t.Fatalf("entry %d = %q:%x, want %q:%x", i, got[i].Key, got[i].Value, kvs[i].Key, kvs[i].Value)
				}
			}
		})
	}
}

// TestSnappyBlocksAreCompressed guards the test writer: the Snappy cases
// above must really exercise decompression.
func TestSnappyBlocksAreCompressed(t *testing.T) {
	kvs := sampleKVs(40)
	raw := tabletest.Write(kvs, tabletest.Options{})
	compressed := tabletest.Write(kvs, tabletest.Options{Snappy: true})
	if len(compressed) >= len(raw) {
		t.Fatalf("Snappy table is %d bytes, raw %d", len(compressed), len(raw))
	}
}

func TestHasMagic(t *testing.T) {
	dir := t.TempDir()
	tbl := filepath.Join(dir, "t")
	os.WriteFile(tbl, tabletest.Write(sampleKVs(3), tabletest.Options{}), 0o644)
	other := filepath.Join(dir, "o")
	os.WriteFile(other, bytes.Repeat([]byte("x"), 100), 0o644)
	short := filepath.Join(dir, "s")
	os.WriteFile(short, []byte("x"), 0o644)
	for path, want := range map[string]bool{tbl: true, other: false, short: false, dir: false} {
		got, err := table.HasMagic(path)
		if err != nil || got != want {
			t.Errorf("HasMagic(%s) = %v, %v; want %v", path, got, err, want)
		}
	}
	if _, err := table.HasMagic(filepath.Join(dir, "missing")); err == nil {
		t.Error("HasMagic of a missing file: no error")
	}
}

// withDataBlock wraps one hand-made data block into an otherwise valid table.
func withDataBlock(block []byte, compression byte) []byte {
	var f tabletest.File
	h := f.AppendBlock(block, compression)
	meta := f.AppendBlock(tabletest.BuildBlock(nil, 1), tabletest.Raw)
	index := tabletest.BuildBlock([]tabletest.KV{{Key: []byte("\xff"), Value: tabletest.EncodeHandle(h)}}, 1)
	return f.Finish(meta, f.AppendBlock(index, tabletest.Raw))
}

// withIndex builds a table from data blocks and hand-chosen index entries
// (their values are indexes into blocks).
func withIndex(blocks [][]tabletest.KV, separators []string) []byte {
	var f tabletest.File
	var index []tabletest.KV
	for i, b := range blocks {
		h := f.AppendBlock(tabletest.BuildBlock(b, 16), tabletest.Raw)
		index = append(index, tabletest.KV{Key: []byte(separators[i]), Value: tabletest.EncodeHandle(h)})
	}
	meta := f.AppendBlock(tabletest.BuildBlock(nil, 1), tabletest.Raw)
	return f.Finish(meta, f.AppendBlock(tabletest.BuildBlock(index, 1), tabletest.Raw))
}

func kvs(keys ...string) []tabletest.KV {
	var out []tabletest.KV
	for _, k := range keys {
		out = append(out, tabletest.KV{Key: []byte(k), Value: []byte("v")})
	}
	return out
}

// entryBytes encodes one block entry with explicit lengths.
func entryBytes(shared, nonShared, valueLen uint64, rest string) []byte {
	b := binary.AppendUvarint(nil, shared)
	b = binary.AppendUvarint(b, nonShared)
	b = binary.AppendUvarint(b, valueLen)
	return append(b, rest...)
}

func TestReadAllErrors(t *testing.T) {
	valid := tabletest.Write(sampleKVs(20), tabletest.Options{BlockEntries: 8})
	handle := func(off, size uint64) tabletest.Handle { return tabletest.Handle{Offset: off, Size: size} }

	flipped := bytes.Clone(valid)
	flipped[3] ^= 0x40 // inside the first data block

	badMagic := bytes.Clone(valid)
	badMagic[len(badMagic)-1] ^= 1

	badFooterVarint := bytes.Clone(valid)
	copy(badFooterVarint[len(badFooterVarint)-48:], bytes.Repeat([]byte{0xff}, 40))

	indexPastEnd := append(bytes.Clone(valid[:len(valid)-48]), tabletest.Footer(handle(0, 0), handle(10, 1<<40))...)
	indexHugeOffset := append(bytes.Clone(valid[:len(valid)-48]), tabletest.Footer(handle(0, 0), handle(1<<63, 5))...)
	indexIntoFooter := append(bytes.Clone(valid[:len(valid)-48]), tabletest.Footer(handle(0, 0), handle(uint64(len(valid)-48-4), 0))...)

	var f tabletest.File
	dataPastEnd := func() []byte {
		f = tabletest.File{}
		f.AppendBlock(tabletest.BuildBlock(kvs("a"), 16), tabletest.Raw)
		index := tabletest.BuildBlock([]tabletest.KV{{Key: []byte("a"), Value: tabletest.EncodeHandle(handle(0, 1000))}}, 1)
		meta := f.AppendBlock(tabletest.BuildBlock(nil, 1), tabletest.Raw)
		return f.Finish(meta, f.AppendBlock(index, tabletest.Raw))
	}()
	indexValueNotHandle := func() []byte {
		f = tabletest.File{}
		index := tabletest.BuildBlock([]tabletest.KV{{Key: []byte("a"), Value: []byte{0x80}}}, 1)
		meta := f.AppendBlock(tabletest.BuildBlock(nil, 1), tabletest.Raw)
		return f.Finish(meta, f.AppendBlock(index, tabletest.Raw))
	}()

	// A block claiming to decode to 1 GiB from a handful of bytes.
	snappyBomb := binary.AppendUvarint(nil, 1<<30)
	snappyBomb = append(snappyBomb, 0, 'x')
	// AppendBlock would compress it, so the block is stored by hand.
	var bombFile tabletest.File
	bombFile.Bytes = append(bombFile.Bytes, snappyBomb...)
	bombFile.Bytes = append(bombFile.Bytes, tabletest.Snappy)
	bombFile.Bytes = binary.LittleEndian.AppendUint32(bombFile.Bytes, maskedCRC(bombFile.Bytes))
	bombIndex := tabletest.BuildBlock([]tabletest.KV{{Key: []byte("a"), Value: tabletest.EncodeHandle(handle(0, uint64(len(snappyBomb))))}}, 1)
	bombMeta := bombFile.AppendBlock(tabletest.BuildBlock(nil, 1), tabletest.Raw)
	snappyBombTable := bombFile.Finish(bombMeta, bombFile.AppendBlock(bombIndex, tabletest.Raw))

	var garbageSnappy []byte
	{
		var g tabletest.File
		g.Bytes = append(g.Bytes, 5, 0xff, 0xff, 0xff, tabletest.Snappy)
		g.Bytes = binary.LittleEndian.AppendUint32(g.Bytes, maskedCRC(g.Bytes))
		idx := tabletest.BuildBlock([]tabletest.KV{{Key: []byte("a"), Value: tabletest.EncodeHandle(handle(0, 4))}}, 1)
		meta := g.AppendBlock(tabletest.BuildBlock(nil, 1), tabletest.Raw)
		garbageSnappy = g.Finish(meta, g.AppendBlock(idx, tabletest.Raw))
	}

	// Key growing by one byte per entry, each sharing the whole previous key.
	var bomb []byte
	bomb = append(bomb, entryBytes(0, 1, 0, "a")...)
	for i := 1; i < 3000; i++ {
		bomb = append(bomb, entryBytes(uint64(i), 1, 0, "a")...)
	}

	for _, tc := range []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{"empty file", nil, "shorter than the 48-byte footer", table.ErrNotTable},
		{"short file", valid[len(valid)-47:], "shorter than the 48-byte footer", table.ErrNotTable},
		{"bad magic", badMagic, "bad magic number", table.ErrNotTable},
		{"bad footer varint", badFooterVarint, "footer metaindex handle: bad block handle", table.ErrCorrupt},
		{"index handle past end", indexPastEnd, "bad block handle: index block at offset 10", table.ErrCorrupt},
		{"index handle offset huge", indexHugeOffset, "bad block handle", table.ErrCorrupt},
		{"index block overlaps footer", indexIntoFooter, "bad block handle", table.ErrCorrupt},
		{"data handle past end", dataPastEnd, "bad block handle: data block at offset 0 with size 1000", table.ErrCorrupt},
		{"index value not a handle", indexValueNotHandle, `index entry "a": bad block handle`, table.ErrCorrupt},
		{"crc mismatch", flipped, "data block at offset 0: checksum mismatch", table.ErrCorrupt},
		{"bad compression type", withDataBlock(tabletest.BuildBlock(kvs("a"), 16), 2), "bad block compression type 2", table.ErrCorrupt},
		{"snappy length bomb", snappyBombTable, "Snappy length 1073741824 is impossible", table.ErrCorrupt},
		{"garbage snappy", garbageSnappy, "bad Snappy data", table.ErrCorrupt},
		{"block shorter than restart count", withDataBlock([]byte{1, 0}, tabletest.Raw), "has no restart count", table.ErrCorrupt},
		{"restart count too large", withDataBlock([]byte{0, 0, 0, 0, 5, 0, 0, 0}, tabletest.Raw), "does not fit", table.ErrCorrupt},
		{"entries without restarts", withDataBlock(tabletest.AppendRestarts(entryBytes(0, 1, 0, "a"), nil), tabletest.Raw), "no restart points", table.ErrCorrupt},
		{"first entry shares bytes", withDataBlock(tabletest.AppendRestarts(entryBytes(1, 1, 0, "a"), []uint32{0}), tabletest.Raw), "shares 1 bytes with a 0-byte previous key", table.ErrCorrupt},
		{"shared beyond previous key", withDataBlock(tabletest.AppendRestarts(append(entryBytes(0, 1, 0, "a"), entryBytes(2, 1, 0, "b")...), []uint32{0}), tabletest.Raw), "shares 2 bytes with a 1-byte previous key", table.ErrCorrupt},
		{"key runs past block", withDataBlock(tabletest.AppendRestarts(entryBytes(0, 50, 0, "a"), []uint32{0}), tabletest.Raw), "run past the entries' end", table.ErrCorrupt},
		{"value runs past block", withDataBlock(tabletest.AppendRestarts(entryBytes(0, 1, 1<<31, "a"), []uint32{0}), tabletest.Raw), "run past the entries' end", table.ErrCorrupt},
		{"truncated varint", withDataBlock(tabletest.AppendRestarts([]byte{0x80}, []uint32{0}), tabletest.Raw), "shared key length: bad varint", table.ErrCorrupt},
		{"varint over 32 bits", withDataBlock(tabletest.AppendRestarts([]byte{0, 0x80, 0x80, 0x80, 0x80, 0x10, 0}, []uint32{0}), tabletest.Raw), "unshared key length: bad varint", table.ErrCorrupt},
		{"restart inside an entry", withDataBlock(tabletest.AppendRestarts(append(entryBytes(0, 1, 0, "a"), entryBytes(0, 1, 0, "b")...), []uint32{0, 2}), tabletest.Raw), "restart point 2 is not at the start of an entry", table.ErrCorrupt},
		{"restart past entries", withDataBlock(tabletest.AppendRestarts(entryBytes(0, 1, 0, "a"), []uint32{0, 99}), tabletest.Raw), "restart point 99", table.ErrCorrupt},
		{"restart on shared entry", withDataBlock(tabletest.AppendRestarts(append(entryBytes(0, 1, 0, "a"), entryBytes(1, 1, 0, "b")...), []uint32{0, 4}), tabletest.Raw), "entry at restart point 4 shares 1 key bytes", table.ErrCorrupt},
		{"key expansion bomb", withDataBlock(tabletest.AppendRestarts(bomb, []uint32{0}), tabletest.Raw), "expand beyond", table.ErrCorrupt},
		{"unsorted in block", withDataBlock(tabletest.BuildBlock(kvs("b", "a"), 16), tabletest.Raw), `keys "b" and "a" are not in increasing order`, table.ErrCorrupt},
		{"duplicate in block", withDataBlock(tabletest.BuildBlock(kvs("a", "a"), 16), tabletest.Raw), `duplicate key "a"`, table.ErrCorrupt},
		{"unsorted across blocks", withIndex([][]tabletest.KV{kvs("c"), kvs("b")}, []string{"c", "d"}), `keys "c" and "b" are not in increasing order`, table.ErrCorrupt},
		{"duplicate across blocks", withIndex([][]tabletest.KV{kvs("a", "b"), kvs("b")}, []string{"b", "c"}), `duplicate key "b"`, table.ErrCorrupt},
		{"unsorted index", withIndex([][]tabletest.KV{kvs("a"), kvs("b")}, []string{"c", "b"}), `index block at offset 49: keys "c" and "b" are not in increasing order`, table.ErrCorrupt},
		{"separator below block", withIndex([][]tabletest.KV{kvs("a", "c")}, []string{"b"}), `index key "b" sorts before`, table.ErrCorrupt},
		{"block below previous separator", withIndex([][]tabletest.KV{kvs("a"), kvs("b")}, []string{"bb", "c"}), `first key "b" is not after the previous index key "bb"`, table.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.data)
			_, err := table.ReadAll(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q should name %s and say %q", err, path, tc.want)
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %q is not %v", err, tc.is)
			}
		})
	}
}

func TestReadAllMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.index")
	if _, err := table.ReadAll(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v should name %s", err, path)
	}
}

// TestEmptySeparator: a first block holding only the header key "" gets the
// index key "" from TF's separator shortening.
func TestEmptySeparator(t *testing.T) {
	data := withIndex([][]tabletest.KV{kvs(""), kvs("a")}, []string{"", "a"})
	got, err := table.Read(bytes.NewReader(data), int64(len(data)), "t")
	if err != nil || len(got) != 2 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	data = withIndex([][]tabletest.KV{kvs(""), kvs("")}, []string{"", "a"})
	if _, err := table.Read(bytes.NewReader(data), int64(len(data)), "t"); err == nil {
		t.Fatal("duplicate empty key accepted")
	}
}
