package t5

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

const (
	v10Dir = "../../testdata/store/t5/small-tiny"
	v11Dir = "../../testdata/store/t5/t5.1.1.small-tiny"
)

// copyRelease copies a fixture folder, leaving out the files drop names
// and replacing the files edit names.
func copyRelease(t *testing.T, src string, drop func(string) bool, edit map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if drop != nil && drop(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range edit {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readGinOf(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, GinFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDetectClaimsOnlyT5Releases(t *testing.T) {
	release := []string{"checkpoint", "model.ckpt-1000000.index", "model.ckpt-1000000.data-00000-of-00002",
		"model.ckpt-1000000.data-00001-of-00002", "model.ckpt-1000000.meta", GinFile}
	withVocab := append(slices.Clone(release), "sentencepiece.model")
	if !Family.Detect(withVocab) || WeightsOnly.Detect(withVocab) {
		t.Error("a release with its SentencePiece model is not Family's alone")
	}
	if Family.Detect(release) || !WeightsOnly.Detect(release) {
		t.Error("a release without a SentencePiece model is not WeightsOnly's alone")
	}
	for _, names := range [][]string{
		{"bert_config.json", "bert_model.ckpt.index", "vocab.txt"},
		{"albert_config.json", "model.ckpt-best.index", "30k-clean.model"},
		{GinFile, "sentencepiece.model"}, // no checkpoint
		{"config.json", "model.ckpt-1000000.index", "spiece.model"},
	} {
		if Family.Detect(names) || WeightsOnly.Detect(names) {
			t.Errorf("claimed %v", names)
		}
	}
	if got := spmModel([]string{"b.model", "a.model", "spiece.model"}); got != "spiece.model" {
		t.Errorf("picked %s over spiece.model", got)
	}
	if got := spmModel([]string{"b.model", "a.model", ".model"}); got != "a.model" {
		t.Errorf("picked %s", got)
	}
}

// goldenConfig reads the reference's config.json.
func goldenConfig(t *testing.T, rel string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../testdata/goldens/t5", rel, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDerivedConfigEqualsTheReferences(t *testing.T) {
	for _, c := range []struct{ dir, rel string }{{v10Dir, "small-tiny"}, {v11Dir, "t5.1.1.small-tiny"}} {
		conv, err := convert(c.dir, true)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(conv.Files["config.json"], &got); err != nil {
			t.Fatal(err)
		}
		want := goldenConfig(t, c.rel)
		for key, v := range got {
			if key == "architectures" {
				continue
			}
			if w, ok := want[key]; !ok || w != v {
				t.Errorf("%s: %s = %v, reference %v", c.rel, key, v, w)
			}
		}
		for _, key := range []string{"tie_word_embeddings", "feed_forward_proj", "vocab_size", "d_kv", "num_decoder_layers", "decoder_start_token_id"} {
			if _, ok := got[key]; !ok {
				t.Errorf("%s: config.json lacks %s", c.rel, key)
			}
		}
		// Floats are spelled as transformers writes them.
		if !strings.Contains(string(conv.Files["config.json"]), `"layer_norm_epsilon": 1e-06`) {
			t.Errorf("%s: %s", c.rel, conv.Files["config.json"])
		}
		var tok map[string]any
		if err := json.Unmarshal(conv.Files["tokenizer_config.json"], &tok); err != nil || tok["tokenizer_class"] != "T5Tokenizer" || tok["extra_ids"] != 100.0 {
			t.Errorf("%s: tokenizer_config.json %s (%v)", c.rel, conv.Files["tokenizer_config.json"], err)
		}
		if !strings.Contains(string(conv.Files["tokenizer_config.json"]), `"eos_token": "</s>",`) {
			t.Errorf("%s: tokenizer_config.json escapes what Python writes as is: %s", c.rel, conv.Files["tokenizer_config.json"])
		}
		if len(conv.Files["spiece.model"]) == 0 {
			t.Errorf("%s: no spiece.model", c.rel)
		}
	}
}

func TestMappingSkipsSlotsAndWidensBFloat16(t *testing.T) {
	conv, err := convert(v11Dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Unused) != 0 {
		t.Errorf("unused %v", conv.Unused)
	}
	if !slices.Contains(conv.Skipped, "global_step") || !slices.Contains(conv.Skipped, "decoder/logits/kernel_slot_vc") {
		t.Errorf("skipped %v", conv.Skipped)
	}
	for _, tt := range conv.Tensors {
		if tt.DType != dtype.F32 || tt.Src.DType != dtype.BF16 {
			t.Errorf("%s: %s from %s, want float32 widened from bfloat16", tt.Name, tt.DType, tt.Src.DType)
		}
		if want := len(tt.Src.Shape) == 2 && tt.Name != "shared.weight"; (tt.Transform == tensor.Transpose2D) != want {
			t.Errorf("%s: transform %v", tt.Name, tt.TransformName())
		}
	}
	// T5 1.1: an untied head; 1.0: lm_head shares the embedding.
	last := conv.Keys[len(conv.Keys)-1]
	if last.Name != "lm_head.weight" || conv.Tensors[last.Tensor].Src.Name != logitsVar {
		t.Errorf("1.1 head %+v", last)
	}
	conv, err = convert(v10Dir, true)
	if err != nil {
		t.Fatal(err)
	}
	last = conv.Keys[len(conv.Keys)-1]
	if last.Name != "lm_head.weight" || last.Tensor != 0 || conv.Tensors[0].Name != "shared.weight" {
		t.Errorf("1.0 head %+v", last)
	}
}

func TestReleaseWithoutVocabularyServesWeightsAndConfig(t *testing.T) {
	dir := copyRelease(t, v11Dir, func(n string) bool { return strings.HasSuffix(n, ".model") }, nil)
	names := []string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !WeightsOnly.Detect(names) {
		t.Fatalf("not detected: %v", names)
	}
	conv, err := WeightsOnly.Convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{}
	for name := range conv.Files {
		files = append(files, name)
	}
	if !slices.Equal(files, WeightsOnly.Generated) {
		t.Errorf("generated %v, listed %v", files, WeightsOnly.Generated)
	}
	if len(conv.Keys) != 54 {
		t.Errorf("%d keys, the reference has 54", len(conv.Keys))
	}
	// Family's own Convert, should the model vanish after listing, fails
	// rather than leaving a listed file without content.
	if _, err := Family.Convert(dir); err == nil || !strings.Contains(err.Error(), "no SentencePiece model") {
		t.Errorf("error %v", err)
	}
}

func TestGinThatContradictsTheCheckpointIsAnError(t *testing.T) {
	gin := readGinOf(t, v11Dir)
	for _, c := range []struct{ from, to, want string }{
		{"num_heads = 4", "num_heads = 8", "relative_attention_bias"},
		{"d_kv = 6", "d_kv = 8", "SelfAttention/q"},
		{"num_layers = 2", "num_layers = 3", "encoder/block_*"},
		{"d_ff = 37", "d_ff = 36", "wi_0/kernel"},
		{"d_model = 16", "d_model = 32", "shared/embedding"},
		{"decoder/Unitransformer.shared_embedding_and_softmax_weights = False", "decoder/Unitransformer.shared_embedding_and_softmax_weights = True", "untied decoder/logits/kernel"},
		{"encoder/DenseReluDense.activation = ['gelu', 'linear']", "encoder/DenseReluDense.activation = 'gelu'", "gated feed-forward"},
		{"encoder/DenseReluDense.activation = ['gelu', 'linear']", "encoder/DenseReluDense.activation = ['swish', 'linear']", "unsupported"},
		{"decoder/LayerStack.norm_epsilon = 1e-06\n", "decoder/LayerStack.norm_epsilon = 1e-06\nencoder/LayerStack.norm_epsilon = -1\n", "non-negative"},
	} {
		if !strings.Contains(gin, c.from) {
			t.Fatalf("fixture gin lacks %q", c.from)
		}
		dir := copyRelease(t, v11Dir, nil, map[string]string{GinFile: strings.Replace(gin, c.from, c.to, 1)})
		_, err := convert(dir, true)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), GinFile) {
			t.Errorf("%s: error %v, want one naming %s and %q", c.to, err, GinFile, c.want)
		}
	}
}

func TestGinValuesFillWhatShapesCannotTell(t *testing.T) {
	gin := readGinOf(t, v10Dir)
	gin = strings.Replace(gin, "dropout_rate = 0.1", "dropout_rate = 0.25", 1)
	gin = strings.Replace(gin, "SentencePieceVocabulary.extra_ids = 100", "SentencePieceVocabulary.extra_ids = 0", 1)
	conv, err := convert(copyRelease(t, v10Dir, nil, map[string]string{GinFile: gin}), true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conv.Files["config.json"]), `"dropout_rate": 0.25,`) {
		t.Errorf("config.json %s", conv.Files["config.json"])
	}
	if !strings.Contains(string(conv.Files["tokenizer_config.json"]), `"extra_ids": 0,`) {
		t.Errorf("tokenizer_config.json %s", conv.Files["tokenizer_config.json"])
	}
	// A gin that states no sizes at all: the shapes give them.
	conv, err = convert(copyRelease(t, v10Dir, nil, map[string]string{GinFile: "# empty\n"}), true)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	json.Unmarshal(conv.Files["config.json"], &cfg)
	if cfg["d_kv"] != 6.0 || cfg["num_heads"] != 4.0 || cfg["d_ff"] != 37.0 || cfg["feed_forward_proj"] != "relu" || cfg["tie_word_embeddings"] != true {
		t.Errorf("from shapes: %v", cfg)
	}
}

func TestSuppliedConfigIsServedAndChecked(t *testing.T) {
	golden, err := os.ReadFile("../../testdata/goldens/t5/t5.1.1.small-tiny/config.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := copyRelease(t, v11Dir, nil, map[string]string{ConfigFile: string(golden)})
	conv, err := convert(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if string(conv.Files["config.json"]) != string(golden) {
		t.Error("the supplied config.json is not served as it is")
	}
	for _, c := range []struct{ from, to, want string }{
		{`"tie_word_embeddings": false`, `"tie_word_embeddings": true`, "untied decoder/logits/kernel"},
		{`"d_ff": 37`, `"d_ff": 38`, "does not match"},
		{`"num_layers": 2`, `"num_layers": 3`, "no variable for encoder.block.2."},
		{`"d_model": 16`, `"d_model": "16"`, "positive integer"},
	} {
		dir := copyRelease(t, v11Dir, nil, map[string]string{ConfigFile: strings.Replace(string(golden), c.from, c.to, 1)})
		_, err := convert(dir, true)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.to, err, c.want)
		}
	}
}

// openFixture opens a fixture's checkpoint and its derived config.
func openFixture(t *testing.T, dir string) (*tfbundle.Checkpoint, *Config) {
	t.Helper()
	prefix, err := tfbundle.FindPrefix(dir)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := tfbundle.Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ReadGin(filepath.Join(dir, GinFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := DeriveConfig(ck, g)
	if err != nil {
		t.Fatal(err)
	}
	return ck, cfg
}

// addEntry adds a variable to the index as a copy of another one's bytes.
func addEntry(ck *tfbundle.Checkpoint, name, like string) {
	e, _ := ck.Lookup(like)
	c := *e
	c.Name = name
	ck.Entries = append(ck.Entries, c)
	slices.SortFunc(ck.Entries, func(a, b tfbundle.Entry) int { return strings.Compare(a.Name, b.Name) })
}

func TestUnplaceableVariablesAreListedAndTheLaterAssignmentWins(t *testing.T) {
	ck, cfg := openFixture(t, v10Dir)
	addEntry(ck, "encoder/block_001/layer_000/SelfAttention/relative_attention_bias", biasVar)
	addEntry(ck, "encoder/rms_norm/scale", "encoder/final_layer_norm/scale")
	m, err := Map(ck, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var unused []string
	for _, l := range m.Unused {
		unused = append(unused, l.Name)
	}
	slices.Sort(unused)
	want := []string{"encoder/block_001/layer_000/SelfAttention/relative_attention_bias", "encoder/final_layer_norm/scale"}
	if !slices.Equal(unused, want) {
		t.Errorf("unused %v, want %v", unused, want)
	}
	for _, tt := range m.Tensors {
		if tt.Name == "encoder.final_layer_norm.weight" && tt.Src.Name != "encoder/rms_norm/scale" {
			t.Errorf("final layer norm from %s; the reference assigns in sorted order, so rms_norm wins", tt.Src.Name)
		}
	}
}

func TestNeededVariableOfAnotherDTypeIsAnError(t *testing.T) {
	ck, cfg := openFixture(t, v10Dir)
	e, _ := ck.Lookup(wiVar)
	e.TFDType = 19 // float16: the same size as bfloat16, not widened exactly by ckptfs
	_, err := Map(ck, cfg)
	if err == nil || !strings.Contains(err.Error(), "unsupported") || !strings.Contains(err.Error(), wiVar) || !strings.Contains(err.Error(), ck.IndexPath()) {
		t.Errorf("error %v", err)
	}
}

func TestSizeNeitherSourceStatesIsAnError(t *testing.T) {
	ck, _ := openFixture(t, v10Dir)
	ck.Entries = slices.DeleteFunc(ck.Entries, func(e tfbundle.Entry) bool {
		return strings.Contains(e.Name, "relative_attention_bias")
	})
	g, err := ReadGin(writeGin(t, "# nothing stated\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = DeriveConfig(ck, g)
	if err == nil || !strings.Contains(err.Error(), "cannot tell num_heads") || !strings.Contains(err.Error(), g.Path) {
		t.Errorf("error %v", err)
	}
}
