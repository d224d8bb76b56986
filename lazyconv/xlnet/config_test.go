package xlnet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const releaseConfig = `{
    "d_head": 64,
    "d_inner": 3072,
    "d_model": 768,
    "ff_activation": "gelu",
    "n_head": 12,
    "n_layer": 12,
    "n_token": 32000,
    "untie_r": true
}`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ConfigFile)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadConfig(t *testing.T) {
	c, err := readConfig(writeConfig(t, releaseConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.NToken != 32000 || c.DModel != 768 || c.NLayer != 12 || c.NHead != 12 || c.DHead != 64 || c.DInner != 3072 {
		t.Errorf("%+v", c)
	}
}

func TestReadConfigRejects(t *testing.T) {
	for _, tc := range []struct{ change, want string }{
		{`"n_token": -1`, "n_token must be a positive integer"}, // brightmart/xlnet_zh's config
		{`"n_head": 7`, "not a multiple of n_head"},
		{`"d_head": 32`, "unsupported: d_head 32"},
		{`"ff_activation": "swish"`, "ff_activation"},
		{`"untie_r": false`, "unsupported: untie_r false"},
		{`"untie_r": "yes"`, "untie_r must be true or false"},
		{`"d_model": 7.5`, "d_model must be a positive integer"},
	} {
		key := tc.change[:strings.Index(tc.change, ":")]
		var lines []string
		for _, l := range strings.Split(releaseConfig, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), key) {
				l = "    " + tc.change + strings.Repeat(",", strings.Count(l, ","))
			}
			lines = append(lines, l)
		}
		path := writeConfig(t, strings.Join(lines, "\n"))
		if _, err := readConfig(path); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", tc.change, err, tc.want)
		}
	}
	for text, want := range map[string]string{`[1, 2]`: "not a JSON object", `{"d_model": 32}`: "n_token is missing"} {
		path := writeConfig(t, text)
		if _, err := readConfig(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want %q", text, err, want)
		}
	}
}

func TestHFConfigOfClassifierWithoutSummary(t *testing.T) {
	c, err := readConfig(writeConfig(t, releaseConfig))
	if err != nil {
		t.Fatal(err)
	}
	data, err := hfConfig(c, &Mapping{Architecture: SequenceClassification, Head: &TaskHead{Task: "sts-b", Regression: true, NumLabels: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"vocab_size": 32000.0, "d_head": 64.0, "model_type": "xlnet", "finetuning_task": "sts-b",
		"summary_use_proj": false, "summary_activation": "linear", "layer_norm_eps": 1e-12, "reuse_len": nil,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if _, ok := got["n_token"]; ok {
		t.Error("n_token is written besides vocab_size")
	}
	if l, ok := got["id2label"].(map[string]any); !ok || len(l) != 1 || l["0"] != "LABEL_0" {
		t.Errorf("id2label %v", got["id2label"])
	}
}
