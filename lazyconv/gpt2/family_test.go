package gpt2

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHFName(t *testing.T) {
	for tf, want := range map[string]string{
		"model/wte":              "wte.weight",
		"model/h0/attn/c_attn/w": "h.0.attn.c_attn.weight",
		"model/h11/ln_2/g":       "h.11.ln_2.weight",
		"model/h3/mlp/c_proj/b":  "h.3.mlp.c_proj.bias",
		"model/ln_f/b":           "ln_f.bias",
	} {
		if got, ok := hfName(tf); !ok || got != want {
			t.Errorf("hfName(%q) = %q, %v; want %q", tf, got, ok, want)
		}
	}
	if _, ok := hfName("global_step"); ok {
		t.Error("a variable outside model/ was mapped")
	}
}

func TestSqueeze(t *testing.T) {
	if got := squeeze([]int64{1, 768, 2304}); !slices.Equal(got, []int64{768, 2304}) {
		t.Errorf("squeeze: %v", got)
	}
	if got := squeeze([]int64{1}); len(got) != 0 {
		t.Errorf("squeeze of [1]: %v", got)
	}
}

func TestDetect(t *testing.T) {
	if !detect([]string{"checkpoint", "hparams.json", "model.ckpt.index", "encoder.json"}) {
		t.Error("a GPT-2 release was not recognised")
	}
	if detect([]string{"bert_config.json", "bert_model.ckpt.index"}) {
		t.Error("a BERT folder was claimed")
	}
}

func TestBadHParams(t *testing.T) {
	for _, c := range []string{`{"n_vocab": 10, "n_ctx": 8, "n_embd": 30, "n_head": 4, "n_layer": 1}`, `{"n_vocab": -1}`, `[]`} {
		path := filepath.Join(t.TempDir(), HParamsFile)
		os.WriteFile(path, []byte(c), 0o644)
		if _, err := readHParams(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v should name the file", c, err)
		}
	}
}
