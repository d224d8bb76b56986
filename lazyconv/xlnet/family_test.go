package xlnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigErrorsNameTheFile(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"d_head": 8, "d_inner": 37, "d_model": 32, "n_head": 4, "n_layer": 2, "n_token": 0, "untie_r": true}`, "n_token"},
		{`{"d_head": 8, "d_inner": 37, "d_model": 32, "n_head": 4, "n_layer": 2, "n_token": 9, "untie_r": false}`, "unsupported"},
		{`{"d_model": 32}`, "missing"},
	} {
		path := filepath.Join(t.TempDir(), ConfigFile)
		os.WriteFile(path, []byte(c.json), 0o644)
		if _, err := readConfig(path); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", c.json, err)
		}
	}
}

func TestMapCoversEveryParameterOnce(t *testing.T) {
	c := &Config{NToken: 10, DModel: 8, NLayer: 3, NHead: 2, DHead: 4, DInner: 5, UntieR: true}
	seen := map[string]int{}
	for _, tg := range targets(c) {
		for _, k := range tg.keys {
			seen[k]++
		}
	}
	for _, k := range stateOrder(c) {
		if k == "lm_loss.weight" {
			continue // tied, not loaded
		}
		if seen[k] != 1 {
			t.Errorf("%s is the target of %d variables", k, seen[k])
		}
	}
}

func TestDetect(t *testing.T) {
	if !detect([]string{"xlnet_config.json", "xlnet_model.ckpt.index", "spiece.model"}) {
		t.Error("XLNet release not recognised")
	}
	if detect([]string{"bert_config.json", "bert_model.ckpt.index"}) {
		t.Error("claimed a BERT folder")
	}
}
