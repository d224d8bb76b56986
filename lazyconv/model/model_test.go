package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/index"
)

// The goldens are transformers 4.x's own conversion of the fixtures that
// TensorFlow wrote (tools/fixtures); these tests hold the plans to them
// without FUSE or Python.

type golden struct {
	Prefix          string     `json:"prefix"`
	Architecture    string     `json:"architecture"`
	StateDictKeys   []string   `json:"state_dict_keys"`
	TiedGroups      [][]string `json:"tied_groups"`
	SafetensorsKeys []string   `json:"safetensors_keys"`
}

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// readSafetensors splits a safetensors file into its tensors' bytes.
func readSafetensors(t *testing.T, data []byte) map[string]stEntry {
	t.Helper()
	n := binary.LittleEndian.Uint64(data)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	out := map[string]stEntry{}
	for k, v := range header {
		if k == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatal(err)
		}
		e.Offsets[0] += 8 + int64(n)
		e.Offsets[1] += 8 + int64(n)
		out[k] = e
	}
	return out
}

func goldenModels(t *testing.T) []string {
	t.Helper()
	var rels []string
	root := "../../testdata/goldens"
	filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "golden.json" {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			rels = append(rels, rel)
		}
		return nil
	})
	if len(rels) < 5 {
		t.Fatalf("found %d goldens, want the 5 fixtures", len(rels))
	}
	return rels
}

func TestPlansMatchReferenceConversion(t *testing.T) {
	chunks, err := cache.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer chunks.Close()
	for _, rel := range goldenModels(t) {
		t.Run(rel, func(t *testing.T) {
			var g golden
			raw, err := os.ReadFile(filepath.Join("../../testdata/goldens", rel, "golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			m, err := LoadDir(filepath.Join("../../testdata/store", rel))
			if err != nil {
				t.Fatal(err)
			}
			if m.Conv.Architecture != g.Architecture {
				t.Errorf("architecture %s, reference %s", m.Conv.Architecture, g.Architecture)
			}
			if base := m.Conv.Source; base != g.Prefix {
				t.Errorf("chose checkpoint %s, reference converted %s", base, g.Prefix)
			}
			var keys []string
			for _, k := range m.Conv.Keys {
				keys = append(keys, k.Name)
			}
			if !slices.Equal(keys, g.StateDictKeys) {
				t.Errorf("state dict keys\n got %v\nwant %v", keys, g.StateDictKeys)
			}
			plan := m.Files[Safetensors].Plan
			got := make([]byte, plan.Size)
			if _, err := index.NewReader(rel, plan, chunks, index.NewSources()).ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("../../testdata/goldens", rel, "tensors.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			gotT, wantT := readSafetensors(t, got), readSafetensors(t, want)
			var names []string
			for name, e := range gotT {
				names = append(names, name)
				w, ok := wantT[name]
				if !ok {
					t.Errorf("%s is not in the reference", name)
					continue
				}
				if e.DType != w.DType || !slices.Equal(e.Shape, w.Shape) {
					t.Errorf("%s: %s %v, reference %s %v", name, e.DType, e.Shape, w.DType, w.Shape)
					continue
				}
				if !bytes.Equal(got[e.Offsets[0]:e.Offsets[1]], want[w.Offsets[0]:w.Offsets[1]]) {
					t.Errorf("%s: bytes differ from the reference", name)
				}
			}
			slices.Sort(names)
			wantNames := slices.Clone(g.SafetensorsKeys)
			slices.Sort(wantNames)
			if !slices.Equal(names, wantNames) {
				t.Errorf("safetensors keys\n got %v\nwant %v", names, wantNames)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  bool
	}{
		{[]string{"bert_config.json", "vocab.txt", "bert_model.ckpt.index", "bert_model.ckpt.data-00000-of-00001"}, true},
		{[]string{"bert_config.json", "vocab.txt"}, false},
		{[]string{"model.ckpt.index"}, false},
		{[]string{"README.txt"}, false},
	} {
		if _, ok := Detect(c.names); ok != c.want {
			t.Errorf("Detect(%v) = %v, want %v", c.names, ok, c.want)
		}
	}
}

func TestHeadersAreBuiltFromTheIndexAlone(t *testing.T) {
	src := "../../testdata/store/google/uncased_L-2_H-32_A-4"
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.Name(), ".data-") {
			for i := range data { // garble every tensor byte
				data[i] ^= 0x5a
			}
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := cache.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer chunks.Close()
	for _, name := range []string{TorchWeights, Safetensors} {
		plan := m.Files[name].Plan
		r := index.NewReader("garbled", plan, chunks, index.NewSources())
		for _, run := range plan.Runs {
			buf := make([]byte, run.Len)
			_, err := r.ReadAt(buf, run.Off)
			if run.Kind == index.Literal && err != nil {
				t.Errorf("%s: header run at %d needs tensor data: %v", name, run.Off, err)
			}
			if run.Kind != index.Literal && (err == nil || !strings.Contains(err.Error(), "checksum mismatch")) {
				t.Errorf("%s: garbled tensor run at %d: %v, want a checksum error", name, run.Off, err)
			}
		}
	}
}
