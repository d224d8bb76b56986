package layout

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// safetensorsReference mirrors testdata/reference.safetensors, written by
// safetensors 0.8.0: safetensors.torch.save_file(sd, path,
// metadata={"format": "pt"}) for these tensors (a.weight is
// (torch.arange(6.) + 10).reshape(2, 3).T.contiguous()).
func safetensorsReference(t *testing.T) []*tensor.Tensor {
	f64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5)), math.Float64bits(-2))
	return []*tensor.Tensor{
		sourceTensor(t, "z.bias", dtype.F32, []int64{2}, f32Bytes(2, 3)),
		transposedTensor(t, "a.weight", dtype.F32, 2, 3, f32Bytes(10, 11, 12, 13, 14, 15)),
		sourceTensor(t, "emb", dtype.BF16, []int64{2, 2}, []byte{0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40}),
		sourceTensor(t, "h", dtype.F16, []int64{2}, []byte{0x00, 0x3c, 0x00, 0xc0}),
		sourceTensor(t, "ids", dtype.I64, []int64{3}, i64Bytes(0, 1, 2)),
		sourceTensor(t, "d", dtype.F64, []int64{2}, f64),
		sourceTensor(t, "n32", dtype.I32, []int64{1, 1}, []byte{0xfe, 0xff, 0xff, 0xff}),
		sourceTensor(t, "n16", dtype.I16, []int64{1}, []byte{0x34, 0x12}),
		sourceTensor(t, "n8", dtype.I8, []int64{2}, []byte{0xff, 0x07}),
		sourceTensor(t, "u", dtype.U8, []int64{5}, []byte{1, 2, 3, 250, 255}),
		sourceTensor(t, "mask", dtype.Bool, []int64{3}, []byte{1, 0, 1}),
		sourceTensor(t, "empty", dtype.F32, []int64{0, 4}, nil),
		sourceTensor(t, "scalar", dtype.F32, nil, f32Bytes(0.25)),
		sourceTensor(t, "q\"\\\n\x01\x7f\u00e9<&>\u2028", dtype.F32, []int64{1}, f32Bytes(1)),
	}
}

func TestSafetensorsMatchesReferenceWriter(t *testing.T) {
	want, err := os.ReadFile("testdata/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Safetensors(safetensorsReference(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := materialise(t, plan); !bytes.Equal(got, want) {
		t.Errorf("differs from safetensors' own output:\n got %q\nwant %q", got, want)
	}
}

type safetensorsInfo struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

func TestSafetensorsHeader(t *testing.T) {
	tensors := safetensorsReference(t)
	plan, err := Safetensors(tensors)
	if err != nil {
		t.Fatal(err)
	}
	file := materialise(t, plan)
	n := int64(binary.LittleEndian.Uint64(file))
	if n%8 != 0 || 8+n > int64(len(file)) {
		t.Fatalf("header length %d", n)
	}
	header := file[8 : 8+n]
	if header[0] != '{' {
		t.Errorf("header starts with %q", header[0])
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(raw["__metadata__"], &meta); err != nil || len(meta) != 1 || meta["format"] != "pt" {
		t.Errorf("__metadata__ = %s", raw["__metadata__"])
	}
	delete(raw, "__metadata__")
	if len(raw) != len(tensors) {
		t.Fatalf("%d tensors in header, want %d", len(raw), len(tensors))
	}

	buffer := file[8+n:]
	type placed struct {
		name string
		info safetensorsInfo
	}
	var all []placed
	for _, want := range tensors {
		var info safetensorsInfo
		if err := json.Unmarshal(raw[want.Name], &info); err != nil {
			t.Fatalf("%q: %v", want.Name, err)
		}
		if info.DType != want.DType.Safetensors() || !tensor.ShapeEqual(info.Shape, want.Shape) || len(info.DataOffsets) != 2 {
			t.Errorf("%q: %+v", want.Name, info)
			continue
		}
		begin, end := info.DataOffsets[0], info.DataOffsets[1]
		if end-begin != want.Bytes() || begin%int64(want.DType.Size()) != 0 {
			t.Errorf("%q: offsets %v for %d bytes of %s", want.Name, info.DataOffsets, want.Bytes(), want.DType)
		}
		all = append(all, placed{want.Name, info})
	}
	// Offsets tile the buffer: no gap, no overlap, nothing after.
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].info.DataOffsets, all[j].info.DataOffsets
		return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1])
	})
	var next int64
	for _, p := range all {
		if p.info.DataOffsets[0] != next {
			t.Errorf("%q begins at %d, previous tensor ended at %d", p.name, p.info.DataOffsets[0], next)
		}
		next = p.info.DataOffsets[1]
	}
	if next != int64(len(buffer)) {
		t.Errorf("tensors end at %d, buffer has %d bytes", next, len(buffer))
	}

	var weight safetensorsInfo
	if err := json.Unmarshal(raw["a.weight"], &weight); err != nil {
		t.Fatal(err)
	}
	if got := buffer[weight.DataOffsets[0]:weight.DataOffsets[1]]; !bytes.Equal(got, f32Bytes(10, 13, 11, 14, 12, 15)) {
		t.Errorf("transposed a.weight = %x", got)
	}
}

func TestSafetensorsLargeOffsetsNeedNoData(t *testing.T) {
	tensors := []*tensor.Tensor{declaredTensor("big", dtype.U8, 5<<30), declaredTensor("w", dtype.F32, 3)}
	plan, err := Safetensors(tensors)
	if err != nil {
		t.Fatal(err)
	}
	r := literalReader{plan: plan}
	n := int64(binary.LittleEndian.Uint64(r.bytes(t, 0, 8)))
	want := `{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"big":{"dtype":"U8","shape":[5368709120],"data_offsets":[12,5368709132]}}`
	if got := string(bytes.TrimRight(r.bytes(t, 8, n), " ")); got != want {
		t.Errorf("header %s", got)
	}
	if plan.Size != 8+n+12+5<<30 {
		t.Errorf("size %d", plan.Size)
	}
}

func TestSafetensorsRejects(t *testing.T) {
	cases := map[string][]*tensor.Tensor{
		"duplicate name":     {declaredTensor("a", dtype.F32, 1), declaredTensor("a", dtype.F16, 1)},
		"reserved name":      {declaredTensor("__metadata__", dtype.F32, 1)},
		"name not UTF-8":     {declaredTensor("\xff", dtype.F32, 1)},
		"invalid dtype":      {{Name: "a", Shape: []int64{1}}},
		"stray dtype":        {{Name: "a", DType: dtype.DType(99), Shape: []int64{1}}},
		"nil tensor":         {nil},
		"negative dimension": {{Name: "a", DType: dtype.F32, Shape: []int64{2, -1}}},
		"size overflow":      {{Name: "a", DType: dtype.I64, Shape: []int64{1 << 62}}},
		"total overflow":     {declaredTensor("a", dtype.U8, math.MaxInt64), declaredTensor("b", dtype.U8, 2)},
		"no source, no data": {{Name: "a", DType: dtype.F32, Shape: []int64{1}}},
		"computed too short": {{Name: "a", DType: dtype.F32, Shape: []int64{2}, Data: f32Bytes(1)}},
	}
	for name, tensors := range cases {
		if _, err := Safetensors(tensors); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSafetensorsEmpty(t *testing.T) {
	plan, err := Safetensors(nil)
	if err != nil {
		t.Fatal(err)
	}
	file := materialise(t, plan)
	if want := "\x20\x00\x00\x00\x00\x00\x00\x00" + `{"__metadata__":{"format":"pt"}}`; string(file) != want {
		t.Errorf("empty file %q", file)
	}
}

// A computed tensor (no source) is laid out as a literal run of its data,
// among tensors read from a source.
func TestSafetensorsComputedTensor(t *testing.T) {
	tensors := []*tensor.Tensor{
		sourceTensor(t, "b", dtype.F32, []int64{2}, f32Bytes(2, 3)),
		{Name: "a", DType: dtype.F32, Shape: []int64{3}, Data: f32Bytes(1, 0.5, 0.25)},
	}
	plan, err := Safetensors(tensors)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range plan.Runs {
		if run.Kind != index.Literal && plan.Tensors[run.Tensor].Name == "a" {
			t.Errorf("computed tensor served as a %s run", run.Kind)
		}
	}
	file := materialise(t, plan)
	n := int64(binary.LittleEndian.Uint64(file))
	if got, want := file[8+n:], append(f32Bytes(1, 0.5, 0.25), f32Bytes(2, 3)...); !bytes.Equal(got, want) {
		t.Errorf("data %v, want %v", got, want)
	}
}
