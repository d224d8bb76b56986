package layout

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// referenceStateDict mirrors testdata/torch_reference.bin, written by
// torch 2.15 after torch.serialization.set_crc32_options(False) with
// torch.save(sd, "pytorch_model.bin") for:
//
//	sd["a.weight"] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
//	sd["a.bias"] = torch.tensor([0.5, -1.0])
//	sd["b.weight"] = sd["a.weight"].detach()   # tied
//	sd["b.bias"] = torch.tensor([2.0, 3.0])
//	sd["proj.weight"] = (torch.arange(6, dtype=torch.float32) + 10).reshape(2, 3).T.contiguous()
//	sd["step"] = torch.tensor(7, dtype=torch.int64)
//	sd["empty"] = torch.zeros(0, 4, dtype=torch.float16)
//	sd["emb"] = torch.tensor([[1, 2], [3, 4]], dtype=torch.bfloat16)
func referenceStateDict(t *testing.T) ([]*tensor.Tensor, []Key) {
	tensors := []*tensor.Tensor{
		sourceTensor(t, "a.weight", dtype.F32, []int64{2, 3}, f32Bytes(0, 1, 2, 3, 4, 5)),
		sourceTensor(t, "a.bias", dtype.F32, []int64{2}, f32Bytes(0.5, -1)),
		sourceTensor(t, "b.bias", dtype.F32, []int64{2}, f32Bytes(2, 3)),
		transposedTensor(t, "proj.weight", dtype.F32, 2, 3, f32Bytes(10, 11, 12, 13, 14, 15)),
		sourceTensor(t, "step", dtype.I64, nil, i64Bytes(7)),
		sourceTensor(t, "empty", dtype.F16, []int64{0, 4}, nil),
		sourceTensor(t, "emb", dtype.BF16, []int64{2, 2}, []byte{0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40}),
	}
	keys := []Key{
		{"a.weight", 0}, {"a.bias", 1}, {"b.weight", 0}, {"b.bias", 2},
		{"proj.weight", 3}, {"step", 4}, {"empty", 5}, {"emb", 6},
	}
	return tensors, keys
}

func TestTorchZipStructure(t *testing.T) {
	tensors, keys := referenceStateDict(t)
	plan, err := TorchZip(tensors, keys)
	if err != nil {
		t.Fatal(err)
	}
	file := materialise(t, plan)
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}

	wantNames := []string{"data.pkl", ".format_version", ".storage_alignment", "byteorder",
		"data/0", "data/1", "data/2", "data/3", "data/4", "data/5", "data/6",
		"version", ".data/serialization_id"}
	if len(zr.File) != len(wantNames) {
		t.Fatalf("%d records, want %d", len(zr.File), len(wantNames))
	}
	// Storages in order of first use; b.weight reuses data/0.
	wantData := map[string][]byte{
		"data/0": f32Bytes(0, 1, 2, 3, 4, 5),
		"data/1": f32Bytes(0.5, -1),
		"data/2": f32Bytes(2, 3),
		"data/3": f32Bytes(10, 13, 11, 14, 12, 15), // transposed
		"data/4": i64Bytes(7),
		"data/5": {},
		"data/6": {0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40},
	}
	wantLiteral := map[string]string{
		".format_version": "1", ".storage_alignment": "64", "byteorder": "little", "version": "3\n",
	}
	for i, f := range zr.File {
		name, ok := strings.CutPrefix(f.Name, "pytorch_model/")
		if !ok || name != wantNames[i] {
			t.Fatalf("record %d is %q, want pytorch_model/%s", i, f.Name, wantNames[i])
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		if off%64 != 0 {
			t.Errorf("%s: data at %d, not 64-aligned", name, off)
		}
		if f.Method != zip.Store {
			t.Errorf("%s: method %d, want stored", name, f.Method)
		}
		wantFlags := uint16(0x0808)
		if f.UncompressedSize64 == 0 {
			wantFlags = 0x0800
		}
		if f.Flags != wantFlags {
			t.Errorf("%s: flags %#04x, want %#04x", name, f.Flags, wantFlags)
		}
		if want, isTensor := wantData[name]; isTensor {
			if f.CRC32 != 0 {
				t.Errorf("%s: CRC %#x, want 0", name, f.CRC32)
			}
			if got := file[off : off+int64(f.UncompressedSize64)]; !bytes.Equal(got, want) {
				t.Errorf("%s = %x, want %x", name, got, want)
			}
			continue
		}
		// Literal records: archive/zip checks the CRC in the data descriptor.
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if f.CRC32 == 0 || f.CRC32 != crc32.ChecksumIEEE(content) {
			t.Errorf("%s: CRC %#x, content has %#x", name, f.CRC32, crc32.ChecksumIEEE(content))
		}
		if want, ok := wantLiteral[name]; ok && string(content) != want {
			t.Errorf("%s = %q, want %q", name, content, want)
		}
		if name == ".data/serialization_id" && !regexp.MustCompile(`^[0-9]{40}$`).Match(content) {
			t.Errorf("serialization_id %q is not 40 digits", content)
		}
	}
}

// TestTorchZipMatchesTorchSave compares with the file torch.save wrote for
// the same state dict. The only differences allowed are the CRCs of the
// literal records (torch wrote 0 for every record, we write real ones) and
// the serialization id, which torch derives from hashes of its own.
func TestTorchZipMatchesTorchSave(t *testing.T) {
	want, err := os.ReadFile("testdata/torch_reference.bin")
	if err != nil {
		t.Fatal(err)
	}
	tensors, keys := referenceStateDict(t)
	plan, err := TorchZip(tensors, keys)
	if err != nil {
		t.Fatal(err)
	}
	got := materialise(t, plan)
	if len(got) != len(want) {
		t.Fatalf("size %d, torch wrote %d", len(got), len(want))
	}
	maskVolatile(t, got)
	maskVolatile(t, want)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("first difference at byte %d: %x vs torch's %x", i, got[i:min(i+16, len(got))], want[i:min(i+16, len(want))])
		}
	}
}

// maskVolatile zeroes the CRCs of non-tensor records (in data descriptors
// and central directory) and the serialization id.
func maskVolatile(t *testing.T, file []byte) {
	t.Helper()
	r := bytes.NewReader(file)
	entries, _, err := parseCentralDirectory(r, int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.name, "/data/") {
			continue
		}
		lh, err := parseLocalHeader(r, e.localOffset)
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint32(file[e.at+16:], 0)
		if e.usize > 0 {
			binary.LittleEndian.PutUint32(file[lh.dataOffset+e.usize+4:], 0)
		}
		if strings.HasSuffix(e.name, "/.data/serialization_id") {
			clear(file[lh.dataOffset : lh.dataOffset+e.usize])
		}
	}
}

func TestTorchZipHeadersNeedNoTensorData(t *testing.T) {
	tensors := []*tensor.Tensor{declaredTensor("a", dtype.F32, 3, 5), declaredTensor("b", dtype.BF16, 7)}
	plan, err := TorchZip(tensors, []Key{{"a", 0}, {"b", 1}, {"c", 0}})
	if err != nil {
		t.Fatal(err)
	}
	// The tensors' source file does not exist, so the plan was built
	// without reading it; the central directory and every local header are
	// literal bytes.
	entries, _, err := parseCentralDirectory(literalReader{plan: plan}, plan.Size)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 8 { // 4 literals before, 2 storages, 2 after
		t.Errorf("%d records, want 8", len(entries))
	}
	for _, e := range entries {
		if _, err := parseLocalHeader(literalReader{plan: plan}, e.localOffset); err != nil {
			t.Errorf("%s: %v", e.name, err)
		}
	}
	zr, err := zip.NewReader(literalReader{plan: plan, zeroTensors: true}, plan.Size)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if _, err := f.DataOffset(); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
}

func TestTorchZipDeterministic(t *testing.T) {
	tensors, keys := referenceStateDict(t)
	p1, err := TorchZip(tensors, keys)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := TorchZip(tensors, keys)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(materialise(t, p1), materialise(t, p2)) {
		t.Error("two builds of the same state dict differ")
	}
}

func TestTorchZipArchiveName(t *testing.T) {
	tensors, keys := referenceStateDict(t)
	plan, err := TorchZipArchive("pytorch_model-00001-of-00002", tensors, keys)
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := parseCentralDirectory(literalReader{plan: plan}, plan.Size)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.name, "pytorch_model-00001-of-00002/") {
			t.Errorf("record %s outside the archive folder", e.name)
		}
	}
	for name, want := range map[string]string{
		"pytorch_model.bin":                    "pytorch_model",
		"/models/pytorch_model-00001-of-2.bin": "pytorch_model-00001-of-2",
		`C:\x\a.b.c`:                           "a.b",
		"noext":                                "noext",
		".bin":                                 "",
		"dir/":                                 "",
	} {
		if got := TorchArchiveName(name); got != want {
			t.Errorf("TorchArchiveName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestTorchZipRejects(t *testing.T) {
	good := func() []*tensor.Tensor {
		return []*tensor.Tensor{declaredTensor("a", dtype.F32, 2)}
	}
	mismatched := good()
	mismatched[0].Shape = []int64{3}
	cases := map[string]struct {
		archive string
		tensors []*tensor.Tensor
		keys    []Key
	}{
		"duplicate key":       {TorchArchive, good(), []Key{{"a", 0}, {"a", 0}}},
		"negative index":      {TorchArchive, good(), []Key{{"a", -1}}},
		"index out of range":  {TorchArchive, good(), []Key{{"a", 1}}},
		"nil tensor":          {TorchArchive, []*tensor.Tensor{nil}, []Key{{"a", 0}}},
		"stray dtype":         {TorchArchive, []*tensor.Tensor{{Name: "a", DType: dtype.DType(200), Shape: []int64{1}}}, []Key{{"a", 0}}},
		"invalid dtype":       {TorchArchive, []*tensor.Tensor{{Name: "a", Shape: []int64{1}}}, []Key{{"a", 0}}},
		"negative dimension":  {TorchArchive, []*tensor.Tensor{{Name: "a", DType: dtype.F32, Shape: []int64{-1}}}, []Key{{"a", 0}}},
		"size overflow":       {TorchArchive, []*tensor.Tensor{{Name: "a", DType: dtype.F64, Shape: []int64{1 << 31, 1 << 31}}}, []Key{{"a", 0}}},
		"stride overflow":     {TorchArchive, []*tensor.Tensor{{Name: "a", DType: dtype.F32, Shape: []int64{0, 1 << 40, 1 << 40}}}, []Key{{"a", 0}}},
		"source size":         {TorchArchive, mismatched, []Key{{"a", 0}}},
		"key not UTF-8":       {TorchArchive, good(), []Key{{"\xff", 0}}},
		"empty archive name":  {"", good(), []Key{{"a", 0}}},
		"archive with slash":  {"a/b", good(), []Key{{"a", 0}}},
		"archive with bslash": {`a\b`, good(), []Key{{"a", 0}}},
	}
	for name, c := range cases {
		if _, err := TorchZipArchive(c.archive, c.tensors, c.keys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A computed tensor is a literal record of its data in the archive; a
// computed tensor whose data does not fill its shape is refused.
func TestTorchZipComputedTensor(t *testing.T) {
	data := f32Bytes(1, 0.5, 0.25, 0.125)
	tensors := []*tensor.Tensor{
		sourceTensor(t, "w", dtype.F32, []int64{2}, f32Bytes(7, 8)),
		{Name: "inv_freq", DType: dtype.F32, Shape: []int64{4}, Data: data},
	}
	plan, err := TorchZip(tensors, []Key{{"w", 0}, {"inv_freq", 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range plan.Runs {
		if run.Kind != index.Literal && plan.Tensors[run.Tensor].Name == "inv_freq" {
			t.Errorf("computed tensor served as a %s run", run.Kind)
		}
	}
	if file := materialise(t, plan); !bytes.Contains(file, data) || !bytes.Contains(file, f32Bytes(7, 8)) {
		t.Error("archive lacks a tensor's bytes")
	}
	tensors[1].Data = data[:8]
	if _, err := TorchZip(tensors, []Key{{"w", 0}, {"inv_freq", 1}}); err == nil || !strings.Contains(err.Error(), "inv_freq") {
		t.Errorf("short computed data: %v", err)
	}
}
