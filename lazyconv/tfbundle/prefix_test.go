package tfbundle

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// makeDir creates files (empty unless a V1 table is asked for) in a fresh
// directory and returns it.
func makeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		data := []byte(content)
		if content == "<v1>" {
			data = v1Table()
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, path, data)
	}
	return dir
}

func TestFindPrefix(t *testing.T) {
	elsewhere := t.TempDir()
	writeTestFile(t, filepath.Join(elsewhere, "other.ckpt.index"), nil)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // relative to the directory, or absolute
	}{
		{"single index", map[string]string{"bert_model.ckpt.index": "", "bert_model.ckpt.data-00000-of-00001": "", "vocab.txt": ""}, "bert_model.ckpt"},
		{"state file relative", map[string]string{
			"checkpoint":            "model_checkpoint_path: \"model.ckpt-1\"\nall_model_checkpoint_paths: \"model.ckpt-1\"\n",
			"model.ckpt-1.index":    "",
			"model.ckpt-2.index":    "",
			"model.ckpt-2.data-0-1": "",
		}, "model.ckpt-1"},
		{"state file with newer fields", map[string]string{
			"checkpoint":         "model_checkpoint_path: \"model.ckpt-1\"\nall_model_checkpoint_timestamps: 1.5e9\nlast_preserved_timestamp: 1.4e9\nfuture_field: 3\n",
			"model.ckpt-1.index": "", "model.ckpt-2.index": "",
		}, "model.ckpt-1"},
		{"state file in subdirectory", map[string]string{
			"checkpoint": `model_checkpoint_path: "run1/model.ckpt"`, "run1/model.ckpt.index": "", "z.index": "",
		}, "run1/model.ckpt"},
		{"state file absolute", map[string]string{
			"checkpoint": `model_checkpoint_path: "` + filepath.Join(elsewhere, "other.ckpt") + `"`, "model.ckpt.index": "",
		}, filepath.Join(elsewhere, "other.ckpt")},
		{"state file foreign absolute", map[string]string{
			"checkpoint": `model_checkpoint_path: "/home/publisher/run/model.ckpt-7"`, "model.ckpt-7.index": "", "model.ckpt-9.index": "",
		}, "model.ckpt-7"},
		{"state file gs url", map[string]string{
			"checkpoint": `model_checkpoint_path: "gs://bucket/dir/model.ckpt-7"`, "model.ckpt-7.index": "", "model.ckpt-9.index": "",
		}, "model.ckpt-7"},
		{"state file windows path", map[string]string{
			"checkpoint": `model_checkpoint_path: "C:\\run\\model.ckpt-7"`, "model.ckpt-7.index": "", "model.ckpt-9.index": "",
		}, "model.ckpt-7"},
		{"state file names a missing prefix", map[string]string{
			"checkpoint": `model_checkpoint_path: "model.ckpt-100"`, "model.ckpt-9.index": "", "model.ckpt-10.index": "", "model.ckpt-2.index": "",
		}, "model.ckpt-10"},
		{"state file unparsable", map[string]string{"checkpoint": "{{{", "a.index": "", "b.index": ""}, "b"},
		{"state file empty", map[string]string{"checkpoint": "", "model.ckpt.index": ""}, "model.ckpt"},
		{"step beats no step", map[string]string{"zzz.index": "", "model.ckpt-1.index": ""}, "model.ckpt-1"},
		{"same step, last name", map[string]string{"a.ckpt-5.index": "", "b.ckpt-5.index": "", "b.ckpt-05.index": ""}, "b.ckpt-5"},
		{"no steps, last name", map[string]string{"alpha.index": "", "beta.index": ""}, "beta"},
		{"huge step", map[string]string{"m-99999999999999999999999.index": "", "m-100000000000000000000000.index": ""}, "m-100000000000000000000000"},
		{"index directory ignored", map[string]string{"dir.index/x": "", "model.ckpt.index": ""}, "model.ckpt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := makeDir(t, tc.files)
			got, err := FindPrefix(dir)
			want := tc.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if err != nil || got != want {
				t.Fatalf("FindPrefix = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestFindPrefixErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty directory", nil, "no TensorFlow checkpoint in "},
		{"only a state file", map[string]string{"checkpoint": `model_checkpoint_path: "model.ckpt"`}, "no TensorFlow checkpoint in "},
		{"V1 checkpoint", map[string]string{"checkpoint": `model_checkpoint_path: "model.ckpt"`, "model.ckpt": "<v1>", "model.ckpt.meta": ""}, "unsupported: TensorFlow V1 checkpoint"},
		{"V1 sharded", map[string]string{"model.ckpt-00000-of-00001": "<v1>"}, "unsupported: TensorFlow V1 checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := makeDir(t, tc.files)
			_, err := FindPrefix(dir)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %v, want %q naming %s", err, tc.want, dir)
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := FindPrefix(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing directory: %v", err)
	}
}

func TestListPrefixes(t *testing.T) {
	dir := makeDir(t, map[string]string{
		"model.ckpt-10.index": "", "model.ckpt-9.index": "", "model.ckpt.index": "", "model.ckpt-10.data-00000-of-00001": "",
		".index": "", "other.ckpt-0.index": "", "README": "",
	})
	got, err := ListPrefixes(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range []string{"model.ckpt", "other.ckpt-0", "model.ckpt-9", "model.ckpt-10"} {
		want = append(want, filepath.Join(dir, p))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListPrefixes = %q, want %q", got, want)
	}
	if got, err := ListPrefixes(t.TempDir()); err != nil || len(got) != 0 {
		t.Fatalf("empty directory: %q, %v", got, err)
	}
}

func TestBesideConfig(t *testing.T) {
	if !BesideConfig([]string{"vocab.txt", "bert_config.json", "bert_model.ckpt.index"}, "bert_config.json") {
		t.Error("config beside an index not recognised")
	}
	if BesideConfig([]string{"bert_config.json"}, "bert_config.json") || BesideConfig([]string{"model.ckpt.index", "hparams.json"}, "bert_config.json") {
		t.Error("recognised without both the config and an index")
	}
	for _, v1 := range []string{"model.ckpt", "model.ckpt-1000", "model.ckpt-1000-00000-of-00002", "bert_model.ckpt"} {
		if !BesideConfig([]string{"bert_config.json", v1, "checkpoint"}, "bert_config.json") {
			t.Errorf("config beside a V1 checkpoint %s not recognised", v1)
		}
	}
	if BesideConfig([]string{"bert_config.json", "model.ckpt.meta", "model.ckpt-10.data-00000-of-00001"}, "bert_config.json") {
		t.Error("recognised a .meta graph or a lone data shard as a checkpoint")
	}
}

// A folder of a config and a V1 checkpoint is recognised, and opening it
// gives the unsupported error naming the V1 file.
func TestV1FolderGivesUnsupportedError(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "tf", "v1", "model.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "model.ckpt"), data)
	writeTestFile(t, filepath.Join(dir, "bert_config.json"), []byte("{}"))
	names := []string{"bert_config.json", "model.ckpt"}
	if !BesideConfig(names, "bert_config.json") {
		t.Fatal("V1 folder not recognised")
	}
	_, err = OpenDir(dir)
	if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "V1 checkpoint") || !strings.Contains(err.Error(), filepath.Join(dir, "model.ckpt")) {
		t.Fatalf("OpenDir of a V1 folder: %v", err)
	}
}
