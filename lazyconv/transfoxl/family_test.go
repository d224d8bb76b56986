package transfoxl

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// The fixture (tools/fixtures/transfoxl.py) and transformers 4.57.6's
// conversion of it.
const release = "transfo-xl/wt103-tiny/model"

func storeDir(rel string) string  { return filepath.Join("../../testdata/store", rel) }
func goldenDir(rel string) string { return filepath.Join("../../testdata/goldens", rel) }

type golden struct {
	StateDictKeys   []string   `json:"state_dict_keys"`
	TiedGroups      [][]string `json:"tied_groups"`
	SafetensorsKeys []string   `json:"safetensors_keys"`
	ConfigChecks    []string   `json:"config_checks"`
}

func readGolden(t *testing.T) golden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir(release), "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  bool
	}{
		{[]string{"checkpoint", "corpus-info.json", "model.ckpt-0.index", "model.ckpt-0.data-00000-of-00001"}, true},
		{[]string{"checkpoint", "model.ckpt-0.index", "model.ckpt-0.data-00000-of-00001"}, false}, // a bare checkpoint is not guessed
		{[]string{"corpus-info.json", "cache.pkl"}, false},                                        // the data/ folder
		{[]string{"bert_config.json", "bert_model.ckpt.index"}, false},
	} {
		if detect(c.names) != c.want {
			t.Errorf("detect(%v) != %v", c.names, c.want)
		}
	}
}

// The state dict is the reference's, key for key and byte for byte, read
// through the plans the view serves.
func TestFixtureMatchesReference(t *testing.T) {
	conv, err := convert(storeDir(release))
	if err != nil {
		t.Fatal(err)
	}
	g := readGolden(t)
	var keys []string
	for _, k := range conv.Keys {
		keys = append(keys, k.Name)
	}
	if !slices.Equal(keys, g.StateDictKeys) {
		t.Errorf("keys\n got %v\nwant %v", keys, g.StateDictKeys)
	}
	for _, group := range g.TiedGroups {
		first := slices.IndexFunc(conv.Keys, func(k layout.Key) bool { return k.Name == group[0] })
		for _, name := range group[1:] {
			i := slices.IndexFunc(conv.Keys, func(k layout.Key) bool { return k.Name == name })
			if first < 0 || i < 0 || conv.Keys[i].Tensor != conv.Keys[first].Tensor {
				t.Errorf("%s is not tied to %s", name, group[0])
			}
		}
	}
	if conv.Source != "model.ckpt-0" || conv.Architecture != LMHead || !slices.Equal(conv.Skipped, []string{"global_step"}) || len(conv.Unused) != 0 {
		t.Errorf("%s %s skipped %v unused %v", conv.Source, conv.Architecture, conv.Skipped, conv.Unused)
	}

	plan, err := layout.Safetensors(conv.Tensors)
	if err != nil {
		t.Fatal(err)
	}
	file, err := index.ReadAll(plan)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile(filepath.Join(goldenDir(release), "tensors.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	got, want := splitSafetensors(t, file), splitSafetensors(t, ref)
	var served []string
	for name, b := range got {
		if strings.HasSuffix(name, "#meta") {
			continue
		}
		served = append(served, name)
		if !bytes.Equal(got[name+"#meta"], want[name+"#meta"]) || !bytes.Equal(b, want[name]) {
			t.Errorf("%s (%s) differs from the reference (%s)", name, got[name+"#meta"], want[name+"#meta"])
		}
	}
	slices.Sort(served)
	if !slices.Equal(served, g.SafetensorsKeys) {
		t.Errorf("safetensors keys\n got %v\nwant %v", served, g.SafetensorsKeys)
	}
}

// Every value config.json carries is the reference's, and every key the
// golden checks is there.
func TestConfigIsTheReferences(t *testing.T) {
	conv, err := convert(storeDir(release))
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(conv.Files["config.json"], &got); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(goldenDir(release), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for key, v := range got {
		if !reflect.DeepEqual(v, want[key]) {
			t.Errorf("%s = %v, reference %v", key, v, want[key])
		}
	}
	for _, key := range readGolden(t).ConfigChecks {
		if _, ok := got[key]; !ok {
			t.Errorf("%s missing", key)
		}
	}
	if len(conv.Files) != 1 {
		t.Errorf("generated %d files, want config.json only", len(conv.Files))
	}
}

func TestCorpusInfoErrors(t *testing.T) {
	for _, c := range []string{
		`{"cutoffs": [0, 5, 10]}`,
		`{"vocab_size": 10, "cutoffs": [0, 5, 9]}`,
		`{"vocab_size": 10, "cutoffs": [0, 6, 5, 10]}`,
		`{"vocab_size": 10, "cutoffs": [0, 10]}`,
		`{"vocab_size": 10, "cutoffs": []}`,
		`{"vocab_size": 10, "cutoffs": "0 5 10"}`,
		`[]`,
	} {
		path := filepath.Join(t.TempDir(), CorpusInfoFile)
		if err := os.WriteFile(path, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readCorpusInfo(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v should name the file", c, err)
		}
	}
	path := filepath.Join(t.TempDir(), CorpusInfoFile)
	os.WriteFile(path, []byte(`{"vocab_size": 10, "cutoffs": [], "dataset": "enwik8"}`), 0o644)
	if _, err := readCorpusInfo(path); !errors.Is(err, tfbundle.ErrUnsupported) {
		t.Errorf("enwik8's corpus-info.json (no cutoffs): %v, want unsupported", err)
	}
	os.WriteFile(path, []byte(`{"vocab_size": 267735, "cutoffs": [0, 20000, 40000, 200000, 267735], "dataset": "wt103"}`), 0o644)
	info, err := readCorpusInfo(path)
	if err != nil || info.VocabSize != 267735 || !slices.Equal(info.Cutoffs, []int64{20000, 40000, 200000}) {
		t.Errorf("wt103's corpus-info.json: %+v, %v", info, err)
	}
}

func TestMissingCorpusInfoTarget(t *testing.T) {
	dir := t.TempDir()
	src, err := filepath.Abs(storeDir(release))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"checkpoint", "model.ckpt-0.index", "model.ckpt-0.data-00000-of-00001"} {
		if err := os.Symlink(filepath.Join(src, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../data/corpus-info.json", filepath.Join(dir, CorpusInfoFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := convert(dir); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dangling corpus-info.json: %v", err)
	}
}
