package layout

import (
	"archive/zip"
	"encoding/binary"
	"math"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// zip64Tensors: a record of ≥ 4 GiB, records after 4 GiB, and both at once.
// torch 2.15 wrote the reference layout (offsets below) for the same state
// dict of torch.empty tensors under torch.serialization.skip_data().
func zip64Tensors() ([]*tensor.Tensor, []Key) {
	tensors := []*tensor.Tensor{
		declaredTensor("small", dtype.F32, 3),
		declaredTensor("big", dtype.F32, 1<<30+5),
		declaredTensor("after", dtype.F32, 7),
		declaredTensor("big2", dtype.U8, 1<<32+3),
		declaredTensor("last", dtype.F32, 2),
	}
	var keys []Key
	for i, t := range tensors {
		keys = append(keys, Key{t.Name, i})
	}
	return tensors, keys
}

func TestTorchZip64(t *testing.T) {
	tensors, keys := zip64Tensors()
	plan, err := TorchZip(tensors, keys)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Size != 8589937475 {
		t.Errorf("size %d, torch wrote 8589937475", plan.Size)
	}
	r := literalReader{plan: plan} // fails on any read of tensor bytes
	entries, end, err := parseCentralDirectory(r, plan.Size)
	if err != nil {
		t.Fatal(err)
	}

	want := []struct {
		name   string
		offset int64
		size   int64
		tensor int // -1 for literal records
	}{
		{"data.pkl", 0, 445, -1},
		{".format_version", 525, 1, -1},
		{".storage_alignment", 657, 2, -1},
		{"byteorder", 786, 6, -1},
		{"data/0", 918, 12, 0},
		{"data/1", 1052, 4294967316, 1},
		{"data/2", 4294968492, 28, 2},
		{"data/3", 4294968628, 4294967299, 3},
		{"data/4", 8589936091, 8, 4},
		{"version", 8589936224, 2, -1},
		{".data/serialization_id", 8589936346, 40, -1},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	if end.cdOffset != 8589936512 || end.end64Offset != 8589937377 {
		t.Errorf("central directory at %d, zip64 end at %d; torch: 8589936512, 8589937377", end.cdOffset, end.end64Offset)
	}
	le := binary.LittleEndian
	if n := le.Uint16(end.eocd[10:]); n != uint16(len(want)) {
		t.Errorf("end record counts %d entries", n)
	}
	if off := le.Uint32(end.eocd[16:]); off != math.MaxUint32 {
		t.Errorf("end record central directory offset %#x, want saturated", off)
	}

	for i, e := range entries {
		w := want[i]
		if e.name != "pytorch_model/"+w.name || e.localOffset != w.offset || e.usize != w.size || e.csize != w.size {
			t.Errorf("entry %d: %s at %d, %d/%d bytes; want %s at %d, %d bytes", i, e.name, e.localOffset, e.usize, e.csize, w.name, w.offset, w.size)
			continue
		}
		big := w.size >= math.MaxUint32 || w.offset >= math.MaxUint32
		if (findExtra(e.extra, zip64ExtraID) != nil) != big {
			t.Errorf("%s: central zip64 extra present = %v, want %v", w.name, !big, big)
		}
		lh, err := parseLocalHeader(r, e.localOffset)
		if err != nil {
			t.Fatal(err)
		}
		if lh.name != e.name || lh.crc != 0 || lh.csize != 0 || lh.usize != 0 {
			t.Errorf("%s: local header %+v", w.name, lh)
		}
		if lh.dataOffset%64 != 0 || findExtra(lh.extra, 0x4246) == nil {
			t.Errorf("%s: data at %d, FB padding present: %v", w.name, lh.dataOffset, findExtra(lh.extra, 0x4246) != nil)
		}
		checkLocalZip64(t, w.name, findExtra(lh.extra, zip64ExtraID), w.size, w.offset)

		// descriptor: 24 bytes once the header had a zip64 extra
		ddLen := int64(16)
		if big {
			ddLen = 24
		}
		dd := r.bytes(t, lh.dataOffset+w.size, ddLen)
		if le.Uint32(dd) != 0x08074b50 || le.Uint32(dd[4:]) != e.crc {
			t.Errorf("%s: bad data descriptor %x", w.name, dd)
		}
		if big && (le.Uint64(dd[8:]) != uint64(w.size) || le.Uint64(dd[16:]) != uint64(w.size)) {
			t.Errorf("%s: zip64 descriptor sizes %x", w.name, dd)
		}
		next := end.cdOffset
		if i+1 < len(want) {
			next = want[i+1].offset
		}
		if lh.dataOffset+w.size+ddLen != next {
			t.Errorf("%s: descriptor ends at %d, next header at %d", w.name, lh.dataOffset+w.size+ddLen, next)
		}

		if w.tensor >= 0 {
			run := plan.Runs[plan.Find(lh.dataOffset)]
			if run.Kind != index.Source || run.Off != lh.dataOffset || run.Len != w.size || run.Tensor != w.tensor {
				t.Errorf("%s: data run %+v", w.name, run)
			}
		}
	}

	// Go's archive/zip reads the same structure.
	zr, err := zip.NewReader(r, plan.Size)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil || f.UncompressedSize64 != uint64(want[i].size) || off%64 != 0 {
			t.Errorf("archive/zip: %s: %d bytes at %d (%v)", f.Name, f.UncompressedSize64, off, err)
		}
	}
}

// checkLocalZip64 checks a local zip64 extra: miniz stores [size, 0] when
// the size is large (the compressed size is not known yet) and the header
// offset when that is large.
func checkLocalZip64(t *testing.T, name string, x []byte, size, offset int64) {
	t.Helper()
	var want []byte
	if size >= math.MaxUint32 {
		want = binary.LittleEndian.AppendUint64(want, uint64(size))
		want = binary.LittleEndian.AppendUint64(want, 0)
	}
	if offset >= math.MaxUint32 {
		want = binary.LittleEndian.AppendUint64(want, uint64(offset))
	}
	if string(x) != string(want) {
		t.Errorf("%s: local zip64 extra %x, want %x", name, x, want)
	}
}

// TestTorchZip64EmptyRecordPastLimit: an empty record after 4 GiB still gets
// the offset in zip64 extras but, like every empty record, no descriptor.
func TestTorchZip64EmptyRecordPastLimit(t *testing.T) {
	tensors := []*tensor.Tensor{declaredTensor("big", dtype.U8, 1<<32), declaredTensor("empty", dtype.F32, 0, 3)}
	plan, err := TorchZip(tensors, []Key{{"big", 0}, {"empty", 1}})
	if err != nil {
		t.Fatal(err)
	}
	r := literalReader{plan: plan}
	entries, _, err := parseCentralDirectory(r, plan.Size)
	if err != nil {
		t.Fatal(err)
	}
	e := entries[5]
	if e.name != "pytorch_model/data/1" || e.usize != 0 || e.flags != 0x0800 || e.localOffset < math.MaxUint32 {
		t.Fatalf("entry %+v", e)
	}
	lh, err := parseLocalHeader(r, e.localOffset)
	if err != nil {
		t.Fatal(err)
	}
	checkLocalZip64(t, "data/1", findExtra(lh.extra, zip64ExtraID), 0, e.localOffset)
	if next, err := parseLocalHeader(r, lh.dataOffset); err != nil || next.name != "pytorch_model/version" {
		t.Errorf("after the empty record: %+v, %v", next, err)
	}
}
