package openaigpt

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/npy"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

func TestDetect(t *testing.T) {
	release := []string{"encoder_bpe_40000.json", "params_0.npy", "params_1.npy", "params_shapes.json", "vocab_40000.bpe"}
	if !detect(release) {
		t.Error("the release was not recognised")
	}
	for _, names := range [][]string{
		{"params_shapes.json"},
		{"params_0.npy", "params_1.npy"},
		{"bert_config.json", "bert_model.ckpt.index"},
		{"hparams.json", "model.ckpt.index", "encoder.json", "vocab.bpe"},
	} {
		if detect(names) {
			t.Errorf("claimed %v", names)
		}
	}
}

func TestHFName(t *testing.T) {
	for name, want := range map[string]string{
		"model/h0/attn/c_attn/w:0": "h.0.attn.c_attn.weight",
		"model/h11/ln_2/g:0":       "h.11.ln_2.weight",
		"model/h3/mlp/c_proj/b:0":  "h.3.mlp.c_proj.bias",
		"model/h03/ln_1/b:0":       "h.3.ln_1.bias",
		"model/clf/w:0":            "clf.weight",
	} {
		if got, err := hfName(name); err != nil || got != want {
			t.Errorf("hfName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, bad := range []string{"h0/ln_1/g:0", "model/h0/ln_1/g", "model/h99999999999999999999/ln_1/g:0"} {
		if _, err := hfName(bad); err == nil {
			t.Errorf("hfName(%q) succeeded", bad)
		}
	}
}

func TestTrainNamesAreParametersNamesJSON(t *testing.T) {
	// huggingface/pytorch-openai-transformer-lm's parameters_names.json:
	// 147 names, model/we first, 12 per block, the classifier last.
	names := trainNames(12)
	if len(names) != 147 || names[0] != "model/we:0" || names[1] != "model/h0/attn/c_attn/w:0" ||
		names[5] != "model/h0/ln_1/g:0" || names[144] != "model/h11/ln_2/b:0" || names[146] != "model/clf/b:0" {
		t.Errorf("names %v", names)
	}
}

func TestConvertFixture(t *testing.T) {
	conv, err := convert(tinyWithHParams)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Architecture != "OpenAIGPTLMHeadModel" || conv.Source != ShapesFile || len(conv.Tensors) != 26 || len(conv.Unused) != 0 {
		t.Fatalf("conversion %+v", conv)
	}
	for i, k := range conv.Keys {
		if k.Tensor != i || conv.Tensors[i].Name != k.Name {
			t.Errorf("key %d: %+v names tensor %s", i, k, conv.Tensors[k.Tensor].Name)
		}
	}
	fc := conv.Tensors[8]
	if fc.Name != "h.0.mlp.c_fc.weight" || !slices.Equal(fc.Shape, []int64{32, 128}) || !slices.Equal(fc.Src.Shape, []int64{1, 32, 128}) ||
		fc.Transform != tensor.Identity || fc.Src.HasCRC {
		t.Errorf("c_fc weight %+v (source %+v), want [1, 32, 128] served as [32, 128], bytes unchanged", fc, fc.Src)
	}
	var config map[string]any
	if err := json.Unmarshal(conv.Files["config.json"], &config); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"model_type": "openai-gpt", "vocab_size": 100.0, "n_positions": 64.0, "n_embd": 32.0, "n_layer": 2.0, "n_head": 4.0, "afn": "gelu", "layer_norm_epsilon": 1e-5} {
		if config[k] != want {
			t.Errorf("config.json %s = %v, want %v", k, config[k], want)
		}
	}
	if !strings.Contains(string(conv.Files["config.json"]), `"layer_norm_epsilon": 1e-05,`) {
		t.Errorf("config.json does not spell floats as Python does:\n%s", conv.Files["config.json"])
	}
}

// The fixture cuts the flat vector inside tensors, as the release does:
// such a tensor is read from each file it touches, in order.
func TestStraddlingTensorsHaveOneExtentPerFile(t *testing.T) {
	conv, err := convert(tinyWithHParams)
	if err != nil {
		t.Fatal(err)
	}
	straddling, acrossThree := 0, 0
	for _, tt := range conv.Tensors {
		src := tt.Src
		if src.Bytes() != tt.Bytes() {
			t.Errorf("%s: extents hold %d bytes, the tensor %d", tt.Name, src.Bytes(), tt.Bytes())
		}
		if len(src.Extents) > 1 {
			straddling++
		}
		if len(src.Extents) > 2 {
			acrossThree++
		}
		for i, e := range src.Extents {
			h, err := npy.ReadHeader(e.Path)
			if err != nil {
				t.Fatal(err)
			}
			fileEnd := h.DataOffset + h.DataBytes()
			if e.Offset < h.DataOffset || e.Offset+e.Length > fileEnd {
				t.Errorf("%s: extent %+v outside the data of %s", tt.Name, e, e.Path)
			}
			if i > 0 && e.Offset != h.DataOffset {
				t.Errorf("%s: continuation extent %+v does not start at the data of %s", tt.Name, e, e.Path)
			}
			if i < len(src.Extents)-1 && e.Offset+e.Length != fileEnd {
				t.Errorf("%s: extent %+v does not run to the end of %s", tt.Name, e, e.Path)
			}
		}
	}
	if straddling < 4 || acrossThree < 1 {
		t.Errorf("%d tensors straddle files, %d of them three; the fixture cuts for at least 4 and 1", straddling, acrossThree)
	}
}

func TestEmptyShardIsSkipped(t *testing.T) {
	conv, err := convert(tinyDefaults)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range conv.Tensors {
		for _, e := range tt.Src.Extents {
			if e.Length == 0 || strings.HasSuffix(e.Path, "params_4.npy") {
				t.Errorf("%s: extent %+v in the empty params_4.npy", tt.Name, e)
			}
		}
	}
}

// Convert reads headers and shapes only: garbling every data byte changes
// nothing it produces.
func TestConvertReadsNoTensorData(t *testing.T) {
	want, err := convert(tinyWithHParams)
	if err != nil {
		t.Fatal(err)
	}
	dir := copyRelease(t, tinyWithHParams)
	for i := range NumShards {
		path := filepath.Join(dir, shardName(i))
		data, _ := os.ReadFile(path)
		for j := 128; j < len(data); j++ {
			data[j] ^= 0x5a
		}
		writeFile(t, path, data)
	}
	got, err := convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range got.Tensors {
		w := want.Tensors[i].Src.Extents
		g := tt.Src.Extents
		if len(g) != len(w) {
			t.Fatalf("%s: %d extents, want %d", tt.Name, len(g), len(w))
		}
		for j := range g {
			if g[j].Offset != w[j].Offset || g[j].Length != w[j].Length || filepath.Base(g[j].Path) != filepath.Base(w[j].Path) {
				t.Errorf("%s: extent %+v, want %+v", tt.Name, g[j], w[j])
			}
		}
	}
}

func TestHeadCount(t *testing.T) {
	conv, err := convert(tinyDefaults)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conv.Files["config.json"]), `"n_head": 12,`) {
		t.Errorf("without hparams.json n_head is not train.py's 12:\n%s", conv.Files["config.json"])
	}

	// n_embd 32 cannot be split into train.py's 12 heads.
	dir := copyRelease(t, tinyWithHParams)
	os.Remove(filepath.Join(dir, HParamsFile))
	if _, err := convert(dir); err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, ShapesFile)+": ") || !strings.Contains(err.Error(), "n_head 12 does not divide n_embd 32") || !strings.Contains(err.Error(), "record the model's n_head in hparams.json") {
		t.Errorf("error %v", err)
	}

	for content, says := range map[string]string{
		`{"n_head": 5}`:                "n_head 5 does not divide n_embd 32",
		`{"n_head": 0}`:                "n_head 0 does not divide",
		`{"n_head": 4, "n_embd": 64}`:  "n_embd is 64, params_shapes.json says 32",
		`{"n_head": 4, "n_layer": 12}`: "n_layer is 12, params_shapes.json says 2",
		`{"n_head": 4, "n_ctx": 512}`:  "n_ctx is 512, params_shapes.json says 64",
		`{"n_head": 4, "afn": "tanh"}`: `afn "tanh" is not one of`,
		`{"n_head": "four"}`:           "cannot unmarshal",
		`[4]`:                          "cannot unmarshal",
	} {
		writeFile(t, filepath.Join(dir, HParamsFile), []byte(content))
		wantError(t, dir, HParamsFile, says)
	}

	writeFile(t, filepath.Join(dir, HParamsFile), []byte(`{"n_head": 8, "afn": "relu", "lr": 6.25e-5}`))
	conv, err = convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(conv.Files["config.json"]); !strings.Contains(s, `"n_head": 8,`) || !strings.Contains(s, `"afn": "relu",`) {
		t.Errorf("hparams.json not applied:\n%s", s)
	}
}

func TestShardErrors(t *testing.T) {
	floats := make([]byte, 4*5)
	for name, c := range map[string]struct {
		data []byte
		says string
	}{
		"float64":    {npyFile("<f8", []int{5}, make([]byte, 8*5)), "unsupported: float64 array"},
		"2-D":        {npyFile("<f4", []int{5, 1}, floats), "shape [5, 1]; the release's pieces are one-dimensional"},
		"big-endian": {npyFile(">f4", []int{5}, floats), "unsupported: big-endian"},
		"truncated":  {npyFile("<f4", []int{5}, floats[:12]), "truncated"},
		"not npy":    {[]byte("version https://git-lfs.github.com/spec/v1\n"), "no NumPy magic"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyRelease(t, tinyWithHParams)
			writeFile(t, filepath.Join(dir, "params_7.npy"), c.data)
			wantError(t, dir, "params_7.npy", c.says)
		})
	}

	dir := copyRelease(t, tinyWithHParams)
	os.Remove(filepath.Join(dir, "params_9.npy"))
	if _, err := convert(dir); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "params_9.npy") {
		t.Errorf("missing params_9.npy: %v", err)
	}
}

func TestTooFewOrTooManyValues(t *testing.T) {
	dir := copyRelease(t, tinyWithHParams)
	writeFile(t, filepath.Join(dir, "params_9.npy"), npyFile("<f4", []int{3000}, make([]byte, 4*3000)))
	wantError(t, dir, ShapesFile, "lists 30656 values, params_0.npy … params_9.npy hold only 30590")

	// np.split's remainder is dropped by the reference; ckptfs lists it.
	writeFile(t, filepath.Join(dir, "params_9.npy"), npyFile("<f4", []int{3070}, make([]byte, 4*3070)))
	conv, err := convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Unused) != 1 || conv.Unused[0].DType != "float32" || !slices.Equal(conv.Unused[0].Shape, []int64{4}) ||
		!strings.Contains(conv.Unused[0].Name, "4 values after the last array") {
		t.Errorf("unused %+v", conv.Unused)
	}
}

func TestShapesErrors(t *testing.T) {
	shapes := func(s string) string {
		return `[[64, 32], [100, 32], ` + s + `, [32], [32], [32], [1, 32, 128], [128], [1, 128, 32], [32], [32], [32]]`
	}
	for content, says := range map[string]string{
		`{"a": 1}`:                                                 "not a JSON list of shapes",
		`[[64, 32], [100, 32]]`:                                    "lists 2 arrays; OpenAI GPT has 2 embeddings and 12 arrays per block",
		`[[64, -32]]`:                                              "negative or too large",
		shapes(`[1, 32, 96], [96], [1, 32, 32]`):                   "", // valid: one layer, fewer values than the files hold
		shapes(`[1, 32, 64], [96], [1, 32, 32]`):                   "array 2 (model/h0/attn/c_attn/w) has shape [1, 32, 64], h.0.attn.c_attn.weight needs [32, 96]",
		shapes(`[1, 32, 96], [96], [2, 32, 32]`):                   "array 4 (model/h0/attn/c_proj/w) has shape [2, 32, 32]",
		`[[64, 32], [100, 16]` + strings.Repeat(`, [1]`, 12) + `]`: "want the position and token embeddings",
	} {
		dir := copyRelease(t, tinyWithHParams)
		writeFile(t, filepath.Join(dir, HParamsFile), []byte(`{"n_head": 4}`))
		writeFile(t, filepath.Join(dir, ShapesFile), []byte(content))
		if says == "" {
			conv, err := convert(dir)
			if err != nil || len(conv.Tensors) != 14 || len(conv.Unused) != 1 {
				t.Errorf("one-layer shapes: %v", err)
			}
			continue
		}
		wantError(t, dir, ShapesFile, says)
	}
}

func TestParametersNamesJSON(t *testing.T) {
	dir := copyRelease(t, tinyWithHParams)
	names := trainNames(12) // the file the reference is given: 12 layers' names
	write := func(names []string) {
		data, _ := json.Marshal(names)
		writeFile(t, filepath.Join(dir, NamesFile), data)
	}
	write(names)
	want, err := convert(tinyWithHParams)
	if err != nil {
		t.Fatal(err)
	}
	got, err := convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range got.Tensors {
		if tt.Name != want.Tensors[i].Name || tt.Src.Name != want.Tensors[i].Src.Name {
			t.Errorf("with the canonical names file %s comes from %s, without it from %s", tt.Name, tt.Src.Name, want.Tensors[i].Src.Name)
		}
	}

	// The reference pairs by the file: swapped names swap the arrays.
	swapped := slices.Clone(names)
	swapped[5], swapped[6] = swapped[6], swapped[5] // h0 ln_1/g, ln_1/b
	write(swapped)
	got, err = convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*tensor.Tensor{}
	for _, tt := range got.Tensors {
		byName[tt.Name] = tt
	}
	if !strings.HasPrefix(byName["h.0.ln_1.weight"].Src.Name, "array 7 ") || !strings.HasPrefix(byName["h.0.ln_1.bias"].Src.Name, "array 6 ") {
		t.Errorf("ln_1 weight from %s, bias from %s; want arrays 7 and 6", byName["h.0.ln_1.weight"].Src.Name, byName["h.0.ln_1.bias"].Src.Name)
	}

	for _, c := range []struct {
		names []string
		says  string
	}{
		{names[:20], "names 19 block arrays after the embedding, params_shapes.json has 24"},
		{append(slices.Clone(names[:3]), append([]string{"model/h0/attn/c_attn/w:0"}, names[4:]...)...), "both name h.0.attn.c_attn.weight"},
		{append(slices.Clone(names[:3]), append([]string{"model/h0/attn/c_attn/x:0"}, names[4:]...)...), "names h.0.attn.c_attn.x, which OpenAIGPTModel with 2 layers does not have"},
		{append(slices.Clone(names[:3]), append([]string{"model/h0/attn/c_attn/b"}, names[4:]...)...), "does not end with :0"},
	} {
		write(c.names)
		wantError(t, dir, NamesFile, c.says)
	}
	writeFile(t, filepath.Join(dir, NamesFile), []byte(`{"model/we:0": 0}`))
	wantError(t, dir, NamesFile, "not a JSON list of names")
}

func TestTokenizerFiles(t *testing.T) {
	conv, err := convert(tinyWithHParams)
	if err != nil {
		t.Fatal(err)
	}
	encoder, _ := os.ReadFile(filepath.Join(tinyWithHParams, EncoderFile))
	bpe, _ := os.ReadFile(filepath.Join(tinyWithHParams, MergesFile))
	if string(conv.Files["vocab.json"]) != string(encoder) || string(conv.Files["merges.txt"]) != string(bpe) {
		t.Error("a clean release's tokenizer files are not served unchanged")
	}
	var tok map[string]any
	if err := json.Unmarshal(conv.Files["tokenizer_config.json"], &tok); err != nil || tok["tokenizer_class"] != "OpenAIGPTTokenizer" || tok["model_max_length"] != 64.0 {
		t.Errorf("tokenizer_config.json %s (%v)", conv.Files["tokenizer_config.json"], err)
	}

	dir := copyRelease(t, tinyWithHParams)
	writeFile(t, filepath.Join(dir, EncoderFile), []byte(`{"a": 0, "zz": 100}`))
	wantError(t, dir, EncoderFile, `"zz" has id 100, outside the 100 rows of the token embedding`)
	writeFile(t, filepath.Join(dir, EncoderFile), []byte(`["a"]`))
	wantError(t, dir, EncoderFile, "not a JSON object of token ids")
	os.Remove(filepath.Join(dir, EncoderFile))
	if _, err := convert(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing encoder: %v", err)
	}
}

func TestMergesAreWhatTheReferenceReads(t *testing.T) {
	vocab := map[string]int64{"t": 0, "h": 1, "e</w>": 2, "th": 3, "the</w>": 4, "a": 5}
	for name, c := range map[string]struct{ bpe, want string }{
		"clean":                     {"#version: 0.2\nt h\nth e</w>\n", "t h\nth e</w>\n"},
		"first line always skipped": {"t h\nth e</w>\n", "th e</w>\n"},
		"no final newline":          {"#version: 0.2\nt h\nth e</w>", "t h\n"},
		"CRLF and CR":               {"#version: 0.2\r\nt h\rth e</w>\r\n", "t h\nth e</w>\n"},
		"whitespace runs":           {"#version: 0.2\n t\t h \nth\x1ce</w>\n", "t h\nth e</w>\n"},
		"not two symbols":           {"#version: 0.2\nt h x\n\nt\nth e</w>\n", "th e</w>\n"},
		"outside the vocabulary":    {"#version: 0.2\nt a\nq h\nt h\n", "t h\n"},
		"empty":                     {"", ""},
	} {
		path := filepath.Join(t.TempDir(), MergesFile)
		writeFile(t, path, []byte(c.bpe))
		got, err := mergesFile(path, vocab)
		if err != nil || string(got) != "#version: 0.2\n"+c.want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, "#version: 0.2\n"+c.want)
		}
	}
	path := filepath.Join(t.TempDir(), MergesFile)
	writeFile(t, path, []byte("#version: 0.2\n\xff\xfe h\n"))
	if _, err := mergesFile(path, vocab); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("invalid UTF-8: %v", err)
	}
}
