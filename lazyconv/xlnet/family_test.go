package xlnet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// The fixtures (tools/fixtures/xlnet.py) and the reference's config.json
// for them, recorded by transformers 4.x.
const (
	release  = "xlnet/xlnet_cased_L-2_H-32_A-4"
	finetune = "xlnet/finetuned_L-2_H-16_A-2_mnli"
)

func storeDir(rel string) string { return filepath.Join("../../testdata/store", rel) }

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  bool
	}{
		{[]string{"xlnet_config.json", "xlnet_model.ckpt.index", "xlnet_model.ckpt.data-00000-of-00001", "spiece.model"}, true},
		{[]string{"xlnet_config.json", "checkpoint", "model.ckpt-1000.index", "model.ckpt-1000.data-00000-of-00001"}, true},
		{[]string{"xlnet_config.json", "spiece.model"}, false},
		{[]string{"bert_config.json", "bert_model.ckpt.index"}, false},
		{[]string{"albert_config.json", "model.ckpt-best.index", "spiece.model"}, false},
	} {
		if detect(c.names) != c.want {
			t.Errorf("detect(%v) != %v", c.names, c.want)
		}
	}
}

// Every value config.json carries is the reference's, and every key the
// reference writes that shapes the model is there.
func TestConfigIsTheReferences(t *testing.T) {
	for _, rel := range []string{release, finetune} {
		conv, err := convert(storeDir(rel))
		if err != nil {
			t.Fatal(err)
		}
		var got, want map[string]any
		if err := json.Unmarshal(conv.Files["config.json"], &got); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join("../../testdata/goldens", rel, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		for key, v := range got {
			if !reflect.DeepEqual(v, want[key]) {
				t.Errorf("%s: %s = %v, reference %v", rel, key, v, want[key])
			}
		}
		for key := range referenceDefaults {
			if _, ok := got[key]; !ok {
				t.Errorf("%s: %s missing", rel, key)
			}
		}
		if _, ok := conv.Files["tokenizer_config.json"]; !ok {
			t.Errorf("%s: no tokenizer_config.json beside spiece.model", rel)
		}
	}
}

func TestFixtureConversions(t *testing.T) {
	conv, err := convert(storeDir(release))
	if err != nil {
		t.Fatal(err)
	}
	if conv.Source != "xlnet_model.ckpt" || conv.Architecture != LMHead || !slices.Equal(conv.Skipped, []string{"global_step"}) || len(conv.Unused) != 0 {
		t.Errorf("release: %s %s skipped %v unused %v", conv.Source, conv.Architecture, conv.Skipped, conv.Unused)
	}
	conv, err = convert(storeDir(finetune))
	if err != nil {
		t.Fatal(err)
	}
	if conv.Source != "model.ckpt-1000" || conv.Architecture != SequenceClassification || len(conv.Unused) != 0 {
		t.Errorf("fine-tune: %s %s unused %v", conv.Source, conv.Architecture, conv.Unused)
	}
	for _, name := range []string{"global_step", "beta1_power", "beta2_power", "model/classification_mnli_matched/logit/kernel/Adam_1"} {
		if !slices.Contains(conv.Skipped, name) {
			t.Errorf("fine-tune: %s not skipped", name)
		}
	}
}

func TestNoTokenizerConfigWithoutSentencePiece(t *testing.T) {
	dir := t.TempDir()
	src, err := filepath.Abs(storeDir(release))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == SentencePieceFile {
			continue
		}
		if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	conv, err := convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := conv.Files["tokenizer_config.json"]; ok {
		t.Error("tokenizer_config.json generated without spiece.model")
	}
	if _, ok := conv.Files["config.json"]; !ok {
		t.Error("config.json missing")
	}
}
