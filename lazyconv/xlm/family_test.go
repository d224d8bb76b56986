package xlm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/torchpickle"
)

const (
	store   = "../../testdata/store/xlm"
	goldens = "../../testdata/goldens/xlm"
	cases   = goldens + "/cases"
)

var models = []string{"mlm_en-tiny", "mlm_ende-tiny"}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  bool
	}{
		{[]string{"mlm_en_2048.pth", "codes_en", "vocab_en"}, true},
		{[]string{"mlm_xnli15_1024.pth", "codes_xnli_15", "vocab_xnli_15", "README"}, true},
		{[]string{"mlm_en_2048.pth"}, false},
		{[]string{"codes_en", "vocab_en"}, false},
		{[]string{"bert_config.json", "vocab.txt", "bert_model.ckpt.index"}, false},
		{[]string{"params_0.npy", "params_shapes.json", "encoder_bpe_40000.json", "vocab_40000.bpe"}, false},
		{[]string{"model.pt", "dict.txt", "sentencepiece.bpe.model"}, false},
	} {
		if got := detect(c.names); got != c.want {
			t.Errorf("detect(%v) = %v, want %v", c.names, got, c.want)
		}
	}
}

// The reference conversion's own config.json and vocab.json, kept by the
// fixture writer: ours must be the same bytes, config.json with the keys
// AutoConfig needs added at the end.
func TestFilesMatchReferenceConversion(t *testing.T) {
	for _, name := range models {
		t.Run(name, func(t *testing.T) {
			conv, err := convert(filepath.Join(store, name))
			if err != nil {
				t.Fatal(err)
			}
			ref := func(file string) string {
				data, err := os.ReadFile(filepath.Join(goldens, name, file))
				if err != nil {
					t.Fatal(err)
				}
				return string(data)
			}
			if got, want := string(conv.Files["vocab.json"]), ref("reference-vocab.json"); got != want {
				t.Errorf("vocab.json differs from the reference:\n%s\nwant\n%s", got, want)
			}
			refConfig := ref("reference-config.json")
			want := strings.TrimSuffix(refConfig, "\n}\n") + ",\n  \"model_type\": \"xlm\",\n  \"architectures\": [\n    \"XLMWithLMHeadModel\"\n  ]\n}\n"
			if got := string(conv.Files["config.json"]); got != want {
				t.Errorf("config.json differs from the reference plus model_type and architectures:\n%s", got)
			}
			codes, _ := filepath.Glob(filepath.Join(store, name, "codes_*"))
			if len(codes) != 1 {
				t.Fatalf("codes files %v", codes)
			}
			data, err := os.ReadFile(codes[0])
			if err != nil {
				t.Fatal(err)
			}
			if string(conv.Files["merges.txt"]) != string(data) {
				t.Error("merges.txt is not the fastBPE codes file")
			}
			if conv.Source != strings.TrimSuffix(name, "-tiny")+"_16.pth" || conv.Architecture != Architecture {
				t.Errorf("source %s, architecture %s", conv.Source, conv.Architecture)
			}
			if !slices.Equal(conv.Skipped, []string{"params/pred_probs"}) || len(conv.Unused) != 0 {
				t.Errorf("skipped %v, unused %v", conv.Skipped, conv.Unused)
			}
		})
	}
}

func TestTokenizerConfig(t *testing.T) {
	conv, err := convert(filepath.Join(store, "mlm_ende-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Class     string         `json:"tokenizer_class"`
		Lowercase bool           `json:"do_lowercase_and_remove_accent"`
		Lang2ID   map[string]int `json:"lang2id"`
		ID2Lang   map[string]string
		MaxLength int `json:"model_max_length"`
	}
	if err := json.Unmarshal(conv.Files["tokenizer_config.json"], &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Class != "XLMTokenizer" || !cfg.Lowercase || cfg.Lang2ID["de"] != 0 || cfg.Lang2ID["en"] != 1 ||
		cfg.ID2Lang["1"] != "en" || cfg.MaxLength != 512 {
		t.Errorf("tokenizer_config.json: %s", conv.Files["tokenizer_config.json"])
	}
}

func TestLowerCasing(t *testing.T) {
	specials := []Word{{"<s>", 0}, {"</s>", 1}, {"<pad>", 2}, {"<unk>", 3}}
	for i := range 10 {
		specials = append(specials, Word{"<special" + string(rune('0'+i)) + ">", int64(4 + i)})
	}
	if !lowerCased(append(specials, Word{"straße", 14}, Word{"the@@", 15})) {
		t.Error("a lower-case dictionary was taken for cased")
	}
	if lowerCased(append(specials, Word{"the", 14}, Word{"The", 15})) {
		t.Error("a cased dictionary was taken for lower-cased")
	}
}

func TestVocabRewrite(t *testing.T) {
	words := []Word{{"<s>", 0}, {"</s>", 1}, {"<pad>", 2}, {"<unk>", 3}}
	for i := range 10 {
		words = append(words, Word{"<special" + string(rune('0'+i)) + ">", int64(4 + i)})
	}
	words = append(words, Word{"ab@@", 14}, Word{"ab", 15}, Word{"x", 16}, Word{"y@@z", 17}, Word{"a@@b", 18})
	got, err := vocabJSON(words)
	if err != nil {
		t.Fatal(err)
	}
	// json.dumps of the reference's dict comprehension: "a@@b" lands on
	// "ab", keeping that key's place and taking its id.
	want := `  "<special9>": 13,
  "ab": 18,
  "ab</w>": 15,
  "x</w>": 16,
  "yz": 17
}
`
	if !strings.HasSuffix(string(got), want) || !strings.HasPrefix(string(got), "{\n  \"<s>\": 0,\n") {
		t.Errorf("vocab.json:\n%s", got)
	}
}

func TestMergesGainAFinalNewline(t *testing.T) {
	if got := string(mergesTxt([]byte("t h 12\nth e</w> 7"))); got != "t h 12\nth e</w> 7\n" {
		t.Errorf("merges.txt %q", got)
	}
}

func readCase(t *testing.T, name string) (*Release, *Hyper) {
	t.Helper()
	r, err := ReadRelease(filepath.Join(cases, name))
	if err != nil {
		t.Fatal(err)
	}
	h, err := readHyper(r)
	if err != nil {
		t.Fatal(err)
	}
	return r, h
}

func keyNames(m *Mapping) []string {
	var out []string
	for _, k := range m.Keys {
		out = append(out, k.Name)
	}
	return out
}

// A model saved inside DistributedDataParallel has every key under
// `module.`; XLM's reloader strips it, and so does the mapping.
func TestDDPPrefix(t *testing.T) {
	r, h := readCase(t, "ddp.pth")
	if !strings.HasPrefix(r.Model[0].Name, "module.") {
		t.Fatalf("the case's keys are %s...", r.Model[0].Name)
	}
	m, err := Map(r, h)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"transformer.position_embeddings.weight", "transformer.embeddings.weight"}
	if names := keyNames(m); len(names) != 22 || !slices.Equal(names[:2], want) || names[20] != outputWeights || len(m.Unused) != 0 {
		t.Errorf("keys %v, unused %v", names, m.Unused)
	}
	if m.Keys[20].Tensor != 1 || m.Untied {
		t.Error("the output projection is not tied to the input embeddings")
	}
}

// With share_inout_emb off the projection is a tensor of its own, and the
// config says so, or transformers would tie it away.
func TestUntiedOutputProjection(t *testing.T) {
	r, h := readCase(t, "untied.pth")
	m, err := Map(r, h)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Untied || len(m.Tensors) != len(m.Keys) || m.Tensors[len(m.Tensors)-2].Name != outputWeights {
		t.Fatalf("untied %v, %d tensors for %d keys", m.Untied, len(m.Tensors), len(m.Keys))
	}
	cfg, err := configJSON(r, m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(cfg), "\"tie_word_embeddings\": false\n}\n") {
		t.Errorf("config.json ends %s", cfg[len(cfg)-80:])
	}
}

func TestShapeMismatchNamesFileAndTensor(t *testing.T) {
	r, h := readCase(t, "ddp.pth")
	h.NLayers = 1
	h.EmbDim = 8
	_, err := Map(r, h)
	if err == nil || !strings.Contains(err.Error(), r.Path) || !strings.Contains(err.Error(), "tensor module.position_embeddings.weight") {
		t.Errorf("error %v should name the file and tensor", err)
	}
}

func TestParamsChecks(t *testing.T) {
	for what, c := range map[string]struct {
		key   string
		value any
		want  string
	}{
		"adaptive softmax": {"asm", true, "unsupported: the model has an adaptive softmax"},
		"memory layers":    {"use_memory", true, "product-key memory"},
		"heads":            {"n_heads", int64(3), "not a multiple"},
		"missing emb_dim":  {"emb_dim", "16", `params["emb_dim"] must be a positive integer`},
		"dictionary size":  {"n_words", int64(19), "the dictionary has 18 words"},
	} {
		t.Run(what, func(t *testing.T) {
			r, err := ReadRelease(filepath.Join(cases, "untied.pth"))
			if err != nil {
				t.Fatal(err)
			}
			set(r.Params, c.key, c.value)
			_, err = readHyper(r)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), r.Path) {
				t.Errorf("error %v, want one naming the file and saying %q", err, c.want)
			}
		})
	}
}

func TestReleaseShape(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "codes_en"), []byte("a b 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := convert(dir); err == nil || !strings.Contains(err.Error(), "one .pth dump") {
		t.Errorf("a folder without a dump: %v", err)
	}
	// A file of tensors that is not XLM's dump.
	src, err := os.ReadFile(filepath.Join(cases, "dtypes.pth"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mlm_en_16.pth")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := convert(dir); err == nil || !strings.Contains(err.Error(), "no `model` state dict") || !strings.Contains(err.Error(), path) {
		t.Errorf("a dump without a model: %v", err)
	}
}

func TestLeftOutTensorsAreListed(t *testing.T) {
	r := &Release{Params: &torchpickle.Dict{}, Others: []torchpickle.Item{
		{Key: "epoch", Value: int64(3)},
	}}
	if got := r.leftOutTensors(); len(got) != 0 {
		t.Errorf("no tensors, listed %v", got)
	}
	real, _ := readCase(t, "untied.pth")
	if got := real.leftOutTensors(); !slices.Equal(got, []string{"params/pred_probs"}) {
		t.Errorf("left out %v", got)
	}
}
