package bert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHFName(t *testing.T) {
	for _, c := range []struct {
		tf, hf    string
		transpose bool
	}{
		{"bert/embeddings/word_embeddings", "bert.embeddings.word_embeddings.weight", false},
		{"bert/embeddings/LayerNorm/gamma", "bert.embeddings.LayerNorm.weight", false},
		{"bert/encoder/layer_11/attention/self/query/kernel", "bert.encoder.layer.11.attention.self.query.weight", true},
		{"bert/encoder/layer_0/output/LayerNorm/beta", "bert.encoder.layer.0.output.LayerNorm.bias", false},
		{"cls/predictions/output_bias", "cls.predictions.bias", false},
		{"cls/seq_relationship/output_weights", "cls.seq_relationship.weight", false},
		{"output_weights", "classifier.weight", false},
		{"output_bias", "classifier.bias", false},
	} {
		hf, tr := hfName(c.tf)
		if hf != c.hf || tr != c.transpose {
			t.Errorf("hfName(%q) = %q, %v; want %q, %v", c.tf, hf, tr, c.hf, c.transpose)
		}
	}
}

func TestOptimizerState(t *testing.T) {
	for name, want := range map[string]bool{
		"bert/encoder/layer_0/output/dense/kernel/adam_m": true,
		"global_step": true,
		"bert/embeddings/LayerNorm/beta/BERTAdam": true,
		"bert/embeddings/LayerNorm/beta":          false,
	} {
		if IsOptimizerState(name) != want {
			t.Errorf("IsOptimizerState(%q) != %v", name, want)
		}
	}
}

func TestReadConfigRejectsBadValues(t *testing.T) {
	for _, c := range []struct{ json, wantErr string }{
		{`{"hidden_size": 30, "num_attention_heads": 4}`, "not a multiple"},
		{`{"hidden_size": -1}`, "must be positive"},
		{`{"vocab_size": "many"}`, "must be an integer"},
		{`[1, 2]`, "not a JSON object"},
	} {
		path := filepath.Join(t.TempDir(), ConfigFile)
		os.WriteFile(path, []byte(c.json), 0o644)
		_, err := ReadConfig(path)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", c.json, err, c.wantErr)
		}
	}
}

func TestLowerCasingFromFolderNameOrVocab(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]bool{"uncased_L-12_H-768_A-12": true, "multi_cased_L-12_H-768_A-12": false} {
		got, err := lowerCasing(filepath.Join(dir, name))
		if err != nil || got != want {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
	chinese := filepath.Join(dir, "chinese_L-12_H-768_A-12")
	os.Mkdir(chinese, 0o755)
	os.WriteFile(filepath.Join(chinese, VocabFile), []byte("[PAD]\n[CLS]\nthe\n##s\n"), 0o644)
	if got, err := lowerCasing(chinese); err != nil || !got {
		t.Errorf("lower-case vocab: %v %v", got, err)
	}
	os.WriteFile(filepath.Join(chinese, VocabFile), []byte("[PAD]\nThe\n"), 0o644)
	if got, err := lowerCasing(chinese); err != nil || got {
		t.Errorf("mixed-case vocab: %v %v", got, err)
	}
}
