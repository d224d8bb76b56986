package torchpickle

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// The fixtures are real torch.save output (tools/fixtures/xlm.py): an XLM
// dump in each format, and small cases.
const (
	store   = "../../testdata/store/xlm"
	goldens = "../../testdata/goldens/xlm"
)

var fixtures = []struct {
	path   string
	format Format
	golden string
}{
	{store + "/mlm_en-tiny/mlm_en_16.pth", Legacy, goldens + "/mlm_en-tiny"},
	{store + "/mlm_ende-tiny/mlm_ende_16.pth", Zip, goldens + "/mlm_ende-tiny"},
}

func casePath(name string) string { return filepath.Join(goldens, "cases", name) }

// readSafetensors returns each tensor's bytes from a safetensors file.
func readSafetensors(t *testing.T, path string) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for k, v := range header {
		var e struct {
			Offsets [2]uint64 `json:"data_offsets"`
		}
		if k == "__metadata__" || json.Unmarshal(v, &e) != nil {
			continue
		}
		out[k] = data[8+n+e.Offsets[0] : 8+n+e.Offsets[1]]
	}
	return out
}

// sourceBytes reads a source's extents from disk.
func sourceBytes(t *testing.T, src *tensor.Source) []byte {
	t.Helper()
	var out []byte
	for _, e := range src.Extents {
		f, err := os.Open(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, e.Length)
		if _, err := f.ReadAt(buf, e.Offset); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out = append(out, buf...)
	}
	return out
}

func rootDict(t *testing.T, f *File) *Dict {
	t.Helper()
	d, ok := f.Root.(*Dict)
	if !ok {
		t.Fatalf("root is %T", f.Root)
	}
	return d
}

func TestTensorsPointAtTheirBytes(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(string(fx.format), func(t *testing.T) {
			f, err := Open(fx.path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Format != fx.format {
				t.Errorf("format %s, want %s", f.Format, fx.format)
			}
			want := readSafetensors(t, filepath.Join(fx.golden, "tensors.safetensors"))
			model, _ := rootDict(t, f).Get("model")
			sd, ok := model.(*Dict)
			if !ok || len(sd.Items) < 30 {
				t.Fatalf("model is %T with %v", model, model)
			}
			for _, it := range sd.Items {
				name := it.Key.(string)
				tt := it.Value.(*Tensor)
				src, err := tt.Source(name)
				if err != nil {
					t.Fatal(err)
				}
				if src.HasCRC || src.DType != dtype.F32 || src.File != fx.path || src.Name != name {
					t.Errorf("%s: source %+v", name, src)
				}
				key := "transformer." + name
				if strings.HasPrefix(name, "pred_layer") {
					key = name
				}
				if key == "pred_layer.proj.weight" {
					key = "transformer.embeddings.weight" // tied: save_pretrained keeps this one
				}
				if !bytes.Equal(sourceBytes(t, src), want[key]) {
					t.Errorf("%s: bytes differ from the reference's %s", name, key)
				}
			}
			emb, _ := sd.Get("embeddings.weight")
			proj, _ := sd.Get("pred_layer.proj.weight")
			bias, _ := sd.Get("pred_layer.proj.bias")
			if !emb.(*Tensor).SameData(proj.(*Tensor)) || emb.(*Tensor).SameData(bias.(*Tensor)) {
				t.Error("tied weights not recognised as one storage view")
			}
		})
	}
}

func TestTrainingFlagsAndDictionaryAreGoValues(t *testing.T) {
	f, err := Open(fixtures[1].path)
	if err != nil {
		t.Fatal(err)
	}
	root := rootDict(t, f)
	pv, _ := root.Get("params")
	params := pv.(*Dict)
	for key, want := range map[string]any{
		"emb_dim": int64(16), "dropout": 0.1, "gelu_activation": true, "lgs": "de-en", "mem_enc_positions": List{},
	} {
		got, ok := params.Get(key)
		if !ok || !equalValue(got, want) {
			t.Errorf("params[%q] = %#v, want %#v", key, got, want)
		}
	}
	steps, _ := params.Get("mlm_steps")
	if l, ok := steps.(List); !ok || len(l) != 2 || !equalValue(l[0], Tuple{"de", nil}) {
		t.Errorf("mlm_steps = %#v", steps)
	}
	id2lang, _ := params.Get("id2lang")
	if d, ok := id2lang.(*Dict); !ok || len(d.Items) != 2 || d.Items[1].Key != int64(1) || d.Items[1].Value != "en" {
		t.Errorf("id2lang = %#v", id2lang)
	}
	if v, _ := params.Get("pred_probs"); v == nil {
		t.Error("pred_probs missing")
	} else if tt, ok := v.(*Tensor); !ok || !tensor.ShapeEqual(tt.Shape, []int64{3}) {
		t.Errorf("pred_probs = %#v", v)
	}
	if v, _ := params.Get("mask_scores"); !equalValue(v, &Opaque{Class: "numpy.ndarray"}) {
		t.Errorf("mask_scores = %#v", v)
	}
	w2i, _ := root.Get("dico_word2id")
	d := w2i.(*Dict)
	if d.Items[0] != (Item{"<s>", int64(0)}) || d.Items[13] != (Item{"<special9>", int64(13)}) || len(d.Items) != 75 {
		t.Errorf("dico_word2id starts %v, has %d words", d.Items[:2], len(d.Items))
	}
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case List:
		y, ok := b.(List)
		return ok && equalSlices(x, y)
	case Tuple:
		y, ok := b.(Tuple)
		return ok && equalSlices(x, y)
	case *Opaque:
		y, ok := b.(*Opaque)
		return ok && *x == *y
	}
	return a == b
}

func equalSlices(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestStorageOffsetsAndSharedStorages(t *testing.T) {
	f, err := Open(casePath("offset.pth"))
	if err != nil {
		t.Fatal(err)
	}
	root := rootDict(t, f)
	floats := func(name string) []float32 {
		v, _ := root.Get(name)
		src, err := v.(*Tensor).Source(name)
		if err != nil {
			t.Fatal(err)
		}
		raw := sourceBytes(t, src)
		out := make([]float32, len(raw)/4)
		binary.Read(bytes.NewReader(raw), binary.LittleEndian, out)
		return out
	}
	for name, want := range map[string][]float32{"whole": {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, "part": {2, 3, 4}, "row": {4, 5, 6, 7}} {
		if got := floats(name); !equalFloats(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDTypes(t *testing.T) {
	f, err := Open(casePath("dtypes.pth"))
	if err != nil {
		t.Fatal(err)
	}
	root := rootDict(t, f)
	for name, want := range map[string]struct {
		d     dtype.DType
		shape []int64
		bytes int64
	}{
		"f16": {dtype.F16, []int64{12}, 24}, "bf16": {dtype.BF16, []int64{12}, 24}, "i64": {dtype.I64, []int64{12}, 96},
		"bool": {dtype.Bool, []int64{12}, 12}, "scalar": {dtype.F64, []int64{}, 8}, "empty": {dtype.F32, []int64{0, 4}, 0},
	} {
		v, _ := root.Get(name)
		src, err := v.(*Tensor).Source(name)
		if err != nil {
			t.Fatal(err)
		}
		if src.DType != want.d || !tensor.ShapeEqual(src.Shape, want.shape) || src.Bytes() != want.bytes {
			t.Errorf("%s: %s %v, %d bytes; want %s %v, %d", name, src.DType, src.Shape, src.Bytes(), want.d, want.shape, want.bytes)
		}
	}
	v, _ := root.Get("bool")
	src, _ := v.(*Tensor).Source("bool")
	if got := sourceBytes(t, src); !bytes.Equal(got, []byte{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}) {
		t.Errorf("bool bytes %v", got)
	}
}

func TestNonContiguousTensorIsUnsupported(t *testing.T) {
	path := casePath("noncontiguous.pth")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := rootDict(t, f).Get("t")
	_, err = v.(*Tensor).Source("t")
	if err == nil || !strings.Contains(err.Error(), "unsupported") || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "tensor t") {
		t.Errorf("error %v should say unsupported and name the file and tensor", err)
	}
}

func TestContiguous(t *testing.T) {
	for _, c := range []struct {
		shape, stride []int64
		want          bool
	}{
		{[]int64{3, 4}, []int64{4, 1}, true},
		{[]int64{4, 3}, []int64{1, 4}, false},
		{[]int64{1, 4}, []int64{99, 1}, true}, // a size-1 dimension's stride does not matter
		{[]int64{0, 4}, []int64{7, 7}, true},
		{[]int64{}, []int64{}, true},
		{[]int64{2}, []int64{2}, false},
	} {
		if got := contiguous(c.shape, c.stride); got != c.want {
			t.Errorf("contiguous(%v, %v) = %v", c.shape, c.stride, got)
		}
	}
}
