package albert

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNamesFollowTheReferenceRewrites(t *testing.T) {
	cfg := &Config{VocabSize: 10, EmbeddingSize: 4, HiddenSize: 8, NumLayers: 2, NumHeads: 2,
		IntermediateSize: 9, MaxPositions: 16, TypeVocabSize: 2, NumGroups: 1, InnerGroupNum: 1}
	prefixes := map[string]bool{}
	for _, p := range stateDict(cfg) {
		parts := strings.Split(p.Key, ".")
		for i := 1; i <= len(parts); i++ {
			prefixes[strings.Join(parts[:i], ".")] = true
		}
	}
	known := func(s string) bool { return prefixes[s] }
	for tf, want := range map[string]string{
		"bert/embeddings/LayerNorm/gamma":                                                     "albert.embeddings.LayerNorm.weight",
		"bert/encoder/embedding_hidden_mapping_in/kernel":                                     "albert.encoder.embedding_hidden_mapping_in.weight",
		"bert/encoder/transformer/group_0/inner_group_0/attention_1/self/key/bias":            "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.key.bias",
		"bert/encoder/transformer/group_0/inner_group_0/attention_1/output/dense/kernel":      "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.dense.weight",
		"bert/encoder/transformer/group_0/inner_group_0/LayerNorm/beta":                       "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.bias",
		"bert/encoder/transformer/group_0/inner_group_0/LayerNorm_1/gamma":                    "albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight",
		"bert/encoder/transformer/group_0/inner_group_0/ffn_1/intermediate/dense/kernel":      "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight",
		"bert/encoder/transformer/group_0/inner_group_0/ffn_1/intermediate/output/dense/bias": "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.bias",
		"bert/pooler/dense/kernel":                                                            "albert.pooler.weight",
		"cls/predictions/transform/dense/kernel":                                              "predictions.dense.weight",
		"cls/predictions/transform/LayerNorm/beta":                                            "predictions.LayerNorm.bias",
		"cls/predictions/output_bias":                                                         "predictions.bias",
		"cls/seq_relationship/output_weights":                                                 "sop_classifier.classifier.weight",
		"module/bert/embeddings/word_embeddings":                                              "albert.embeddings.word_embeddings.weight",
	} {
		if got, _ := hfName(rewrite(tf), known); got != want {
			t.Errorf("%s → %q, want %q", tf, got, want)
		}
	}
	if !isOptimizerState(rewrite("bert/pooler/dense/kernel/adam_m")) || isOptimizerState(rewrite("bert/pooler/dense/kernel")) {
		t.Error("optimizer slots misclassified")
	}
}

func TestDetectClaimsOnlyALBERT(t *testing.T) {
	if !detect([]string{"albert_config.json", "model.ckpt-best.index", "30k-clean.model"}) {
		t.Error("ALBERT release not recognised")
	}
	if detect([]string{"bert_config.json", "bert_model.ckpt.index"}) || detect([]string{"hparams.json", "model.ckpt.index"}) {
		t.Error("claimed another family's folder")
	}
}

func TestNamesCoverEveryLayerGroupAndInnerGroup(t *testing.T) {
	cfg := &Config{VocabSize: 10, EmbeddingSize: 4, HiddenSize: 8, NumLayers: 6, NumHeads: 2,
		IntermediateSize: 9, MaxPositions: 16, TypeVocabSize: 2, NumGroups: 3, InnerGroupNum: 2}
	prefixes := map[string]bool{}
	want := map[string]bool{}
	for _, p := range stateDict(cfg) {
		want[p.Key] = true
		parts := strings.Split(p.Key, ".")
		for i := 1; i <= len(parts); i++ {
			prefixes[strings.Join(parts[:i], ".")] = true
		}
	}
	known := func(s string) bool { return prefixes[s] }
	// modeling.py's attention_ffn_block, under group_g/inner_group_k.
	layer := map[string]string{
		"attention_1/self/query/kernel":          "attention.query.weight",
		"attention_1/self/query/bias":            "attention.query.bias",
		"attention_1/self/key/kernel":            "attention.key.weight",
		"attention_1/self/key/bias":              "attention.key.bias",
		"attention_1/self/value/kernel":          "attention.value.weight",
		"attention_1/self/value/bias":            "attention.value.bias",
		"attention_1/output/dense/kernel":        "attention.dense.weight",
		"attention_1/output/dense/bias":          "attention.dense.bias",
		"LayerNorm/gamma":                        "attention.LayerNorm.weight",
		"LayerNorm/beta":                         "attention.LayerNorm.bias",
		"ffn_1/intermediate/dense/kernel":        "ffn.weight",
		"ffn_1/intermediate/dense/bias":          "ffn.bias",
		"ffn_1/intermediate/output/dense/kernel": "ffn_output.weight",
		"ffn_1/intermediate/output/dense/bias":   "ffn_output.bias",
		"LayerNorm_1/gamma":                      "full_layer_layer_norm.weight",
		"LayerNorm_1/beta":                       "full_layer_layer_norm.bias",
	}
	mapped := 0
	for g := 0; g < 3; g++ {
		for k := 0; k < 2; k++ {
			for tf, hf := range layer {
				name := fmt.Sprintf("bert/encoder/transformer/group_%d/inner_group_%d/%s", g, k, tf)
				key := fmt.Sprintf("albert.encoder.albert_layer_groups.%d.albert_layers.%d.%s", g, k, hf)
				got, transpose := hfName(rewrite(name), known)
				if got != key || transpose != strings.HasSuffix(tf, "kernel") {
					t.Errorf("%s → %q (transpose %v), want %q", name, got, transpose, key)
				}
				if !want[key] {
					t.Errorf("%s is not in the expected state dict", key)
				}
				if err := checkGroups(rewrite(name), cfg); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				mapped++
			}
		}
	}
	layerKeys := 0
	for k := range want {
		if strings.HasPrefix(k, "albert.encoder.albert_layer_groups.") {
			layerKeys++
		}
	}
	if layerKeys != mapped {
		t.Errorf("expected state dict has %d layer keys, the groups name %d", layerKeys, mapped)
	}
	for _, name := range []string{
		"bert/encoder/transformer/group_3/inner_group_0/LayerNorm/beta",
		"bert/encoder/transformer/group_0/inner_group_2/LayerNorm/beta",
	} {
		if err := checkGroups(rewrite(name), cfg); err == nil {
			t.Errorf("%s: index beyond the config accepted", name)
		}
	}
}

type golden struct {
	Prefix        string   `json:"prefix"`
	StateDictKeys []string `json:"state_dict_keys"`
}

func readGolden(t *testing.T, rel string) golden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../testdata/goldens", rel, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

const pretrainingRun = "albert/pretraining_run_2groups_2inner-tiny"

// A run_pretraining.py output: two layer groups of two inner groups, LAMB
// slots (lamb_optimizer.py names them <var>/adam_m and <var>/adam_v) and
// global_step, a `checkpoint` file naming model.ckpt-1000, no
// SentencePiece model.
func TestPretrainingRunConvertsAsTheReference(t *testing.T) {
	conv, err := convert(filepath.Join("../../testdata/store", pretrainingRun))
	if err != nil {
		t.Fatal(err)
	}
	g := readGolden(t, pretrainingRun)
	if conv.Source != g.Prefix {
		t.Errorf("converted %s, reference %s", conv.Source, g.Prefix)
	}
	var keys []string
	for _, k := range conv.Keys {
		keys = append(keys, k.Name)
	}
	if !slices.Equal(keys, g.StateDictKeys) {
		t.Errorf("state dict keys\n got %v\nwant %v", keys, g.StateDictKeys)
	}
	if len(conv.Unused) != 0 {
		t.Errorf("unused: %v", conv.Unused)
	}
	// Every weight has both slots; with global_step that is all skipped.
	weights := len(conv.Tensors)
	if len(conv.Skipped) != 2*weights+1 || !slices.Contains(conv.Skipped, "global_step") {
		t.Errorf("skipped %d variables for %d weights: %v", len(conv.Skipped), weights, conv.Skipped)
	}
	for _, tt := range conv.Tensors {
		for _, slot := range []string{"/adam_m", "/adam_v"} {
			if !slices.Contains(conv.Skipped, tt.Src.Name+slot) {
				t.Errorf("%s%s not skipped", tt.Src.Name, slot)
			}
		}
	}
	if len(conv.Files) != 1 || conv.Files["config.json"] == nil {
		t.Errorf("a folder without a SentencePiece model generates %v, want config.json only", slices.Collect(maps.Keys(conv.Files)))
	}
}

// copyFolder copies a fixture folder so a test can change its config.
func copyFolder(t *testing.T, rel string) string {
	t.Helper()
	src := filepath.Join("../../testdata/store", rel)
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestShapesAndGroupsAreCheckedAgainstTheConfig(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{`"intermediate_size": 24`, `"intermediate_size": 25`, "ffn_1"}, // a shape
		{`"num_hidden_groups": 2`, `"num_hidden_groups": 1`, "layer group 1 is beyond num_hidden_groups 1"},
		{`"inner_group_num": 2`, `"inner_group_num": 1`, "inner group 1 is beyond inner_group_num 1"},
	} {
		dir := copyFolder(t, pretrainingRun)
		cfgPath := filepath.Join(dir, ConfigFile)
		data, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), c.from) {
			t.Fatalf("fixture config has no %s", c.from)
		}
		if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(data), c.from, c.to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = convert(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), cfgPath) {
			t.Errorf("%s: error %v should say %q and name %s", c.to, err, c.want, cfgPath)
		}
	}
}
