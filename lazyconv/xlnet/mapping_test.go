package xlnet

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

func TestPretrainedBecomesLMHeadWithTiedOutput(t *testing.T) {
	c := testConfig()
	m, err := Map(fakeCheckpoint(t, append(pretrained(c), variable{"global_step", tfInt64, nil})), c)
	if err != nil {
		t.Fatal(err)
	}
	if m.Architecture != LMHead || m.Head != nil {
		t.Fatalf("architecture %s, head %v", m.Architecture, m.Head)
	}
	keys := keyNames(m)
	if n := len(keys); n != 2+17*2+2 || keys[0] != "transformer.mask_emb" || keys[n-2] != "lm_loss.weight" || keys[n-1] != "lm_loss.bias" {
		t.Errorf("keys %v", keys)
	}
	if len(m.Tensors) != len(keys)-1 {
		t.Errorf("%d tensors for %d keys: lm_loss.weight must share the word embedding", len(m.Tensors), len(keys))
	}
	if tensorByKey(t, m, "lm_loss.weight") != tensorByKey(t, m, "transformer.word_embedding.weight") {
		t.Error("lm_loss.weight is not the word embedding")
	}
	if !slices.Equal(m.Skipped, []string{"global_step"}) || len(m.Unused) != 0 {
		t.Errorf("skipped %v, unused %v", m.Skipped, m.Unused)
	}
}

func TestTransposeOnlyDenseKernels(t *testing.T) {
	c := testConfig()
	vs := append(transformerVars(c), f32(summaryKernel, 8, 8), f32(summaryBias, 8),
		f32("model/classification_imdb/logit/kernel", 8, 2), f32("model/classification_imdb/logit/bias", 2))
	m, err := Map(fakeCheckpoint(t, vs), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range m.Keys {
		tt := m.Tensors[k.Tensor]
		want := tensor.Identity
		if strings.HasSuffix(k.Name, "ff.layer_1.weight") || strings.HasSuffix(k.Name, "ff.layer_2.weight") ||
			k.Name == "sequence_summary.summary.weight" || k.Name == "logits_proj.weight" {
			want = tensor.Transpose2D
		}
		if tt.Transform != want {
			t.Errorf("%s: transform %v, want %v", k.Name, tt.Transform, want)
		}
	}
	if q := tensorByKey(t, m, "transformer.layer.1.rel_attn.q"); !slices.Equal(q.Shape, []int64{8, 2, 4}) {
		t.Errorf("attention kernel shape %v, want [d_model, n_head, d_head] as stored", q.Shape)
	}
	if w := tensorByKey(t, m, "logits_proj.weight"); !slices.Equal(w.Shape, []int64{2, 8}) {
		t.Errorf("logits_proj.weight shape %v", w.Shape)
	}
}

func TestStackedVariablesSplitPerLayer(t *testing.T) {
	c := testConfig()
	ck := fakeCheckpoint(t, pretrained(c))
	m, err := Map(ck, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"r_w_bias", "r_r_bias", "r_s_bias", "seg_embed"} {
		stacked, _ := ck.Lookup("model/transformer/" + name)
		per := stacked.Size / c.NLayer
		for i := range c.NLayer {
			tt := tensorByKey(t, m, fmt.Sprintf("transformer.layer.%d.rel_attn.%s", i, name))
			if !slices.Equal(tt.Shape, stacked.Shape[1:]) || tt.Src.Parent == nil || tt.Src.Parent.Name != stacked.Name {
				t.Errorf("%s layer %d: shape %v, parent %v", name, i, tt.Shape, tt.Src.Parent)
				continue
			}
			if e := tt.Src.Extents; len(e) != 1 || e[0].Offset != stacked.Offset+i*per || e[0].Length != per {
				t.Errorf("%s layer %d: extents %+v, want offset %d length %d", name, i, e, stacked.Offset+i*per, per)
			}
		}
	}
}

// A checkpoint as run_classifier.py writes it: no mask_emb, no lm_loss, the
// summary and a classification head, Adam slots and powers, the step.
func TestRunClassifierCheckpoint(t *testing.T) {
	c := testConfig()
	vs := append(transformerVars(c), f32(summaryKernel, 8, 8), f32(summaryBias, 8),
		f32("model/classification_mnli_matched/logit/kernel", 8, 3), f32("model/classification_mnli_matched/logit/bias", 3))
	m, err := Map(fakeCheckpoint(t, withAdam(vs)), c)
	if err != nil {
		t.Fatal(err)
	}
	if m.Architecture != SequenceClassification || m.Head.Task != "mnli_matched" || m.Head.NumLabels != 3 || m.Head.Regression || !m.Summary {
		t.Fatalf("%s %+v summary %v", m.Architecture, m.Head, m.Summary)
	}
	keys := keyNames(m)
	if slices.Contains(keys, "transformer.mask_emb") || slices.Contains(keys, "lm_loss.bias") {
		t.Errorf("keys the checkpoint lacks are served: %v", keys)
	}
	if keys[0] != "transformer.word_embedding.weight" || !slices.Equal(keys[len(keys)-4:],
		[]string{"sequence_summary.summary.weight", "sequence_summary.summary.bias", "logits_proj.weight", "logits_proj.bias"}) {
		t.Errorf("keys %v", keys)
	}
	if len(m.Skipped) != 2*len(vs)+3 || len(m.Unused) != 0 {
		t.Errorf("%d skipped (want %d), unused %v", len(m.Skipped), 2*len(vs)+3, m.Unused)
	}
}

func TestRegressionHeadWithoutSummary(t *testing.T) {
	c := testConfig()
	vs := append(transformerVars(c), f32("model/regression_sts-b/logit/kernel", 8, 1), f32("model/regression_sts-b/logit/bias", 1))
	m, err := Map(fakeCheckpoint(t, vs), c)
	if err != nil {
		t.Fatal(err)
	}
	if m.Head == nil || m.Head.Task != "sts-b" || !m.Head.Regression || m.Head.NumLabels != 1 || m.Summary {
		t.Fatalf("head %+v summary %v", m.Head, m.Summary)
	}
	keys := keyNames(m)
	if slices.Contains(keys, "sequence_summary.summary.weight") || keys[len(keys)-1] != "logits_proj.bias" {
		t.Errorf("keys %v", keys)
	}
}

func TestUnusedVariablesAreListed(t *testing.T) {
	c := testConfig()
	// run_squad.py's heads (root scopes, which the reference never maps) and
	// an untied LM output weight.
	extra := []variable{f32("start_logits/dense/kernel", 8, 1), f32("answer_class/dense/bias", 8), f32("model/lm_loss/weight", 11, 8)}
	m, err := Map(fakeCheckpoint(t, append(pretrained(c), extra...)), c)
	if err != nil {
		t.Fatal(err)
	}
	var unused []string
	for _, u := range m.Unused {
		unused = append(unused, u.Name)
		if u.DType != "float32" || len(u.Shape) == 0 {
			t.Errorf("%s described as %s %v", u.Name, u.DType, u.Shape)
		}
	}
	slices.Sort(unused)
	if !slices.Equal(unused, []string{"answer_class/dense/bias", "model/lm_loss/weight", "start_logits/dense/kernel"}) {
		t.Errorf("unused %v", unused)
	}
}

func TestOptimizerState(t *testing.T) {
	for name, want := range map[string]bool{
		"global_step": true, "beta1_power": true, "beta2_power": true,
		"model/transformer/layer_0/ff/layer_1/kernel/Adam":   true,
		"model/transformer/layer_0/ff/layer_1/kernel/Adam_1": true,
		"model/transformer/r_w_bias/adam_m":                  true,
		"model/transformer/r_w_bias/adam_v":                  true,
		"model/transformer/r_w_bias":                         false,
		"model/transformer/mask_emb/mask_emb":                false,
		"model/Adam_1/bias":                                  false,
	} {
		if isOptimizerState(name) != want {
			t.Errorf("isOptimizerState(%q) != %v", name, want)
		}
	}
}

func TestMapErrors(t *testing.T) {
	c := testConfig()
	replace := func(vs []variable, name string, v variable) []variable {
		out := slices.Clone(vs)
		for i := range out {
			if out[i].name == name {
				out[i] = v
			}
		}
		return out
	}
	emb := "model/transformer/word_embedding/lookup_table"
	for _, tc := range []struct {
		name string
		vars []variable
		want []string
	}{
		{"vocabulary differs from n_token", replace(pretrained(c), emb, f32(emb, 12, 8)),
			[]string{emb, "[12, 8]", c.Path}},
		{"stack of three layers", replace(pretrained(c), "model/transformer/seg_embed", f32("model/transformer/seg_embed", 3, 2, 2, 4)),
			[]string{"model/transformer/seg_embed", "n_layer 2"}},
		{"layer past n_layer", append(pretrained(c), f32("model/transformer/layer_2/ff/layer_1/bias", 5)),
			[]string{"model/transformer/layer_2/ff/layer_1/bias", "layer 2", "n_layer 2", c.Path}},
		{"3-D dense kernel", replace(pretrained(c), "model/transformer/layer_0/ff/layer_1/kernel", f32("model/transformer/layer_0/ff/layer_1/kernel", 8, 5, 1)),
			[]string{"model/transformer/layer_0/ff/layer_1/kernel", "2 dimensions"}},
		{"string variable", replace(pretrained(c), lmBias, variable{lmBias, tfString, []int64{}}),
			[]string{"unsupported", lmBias}},
		{"two task heads", append(transformerVars(c), f32("model/classification_a/logit/kernel", 8, 2), f32("model/regression_b/logit/kernel", 8, 1)),
			[]string{"unsupported", "classification_a/logit", "regression_b/logit"}},
		{"regression head with two outputs", append(transformerVars(c), f32("model/regression_b/logit/kernel", 8, 2)),
			[]string{"model/regression_b/logit/kernel", "[8, 2]"}},
		{"attention summary", append(transformerVars(c), f32("model/classification_a/logit/kernel", 8, 2), f32(summaryScope+"summary_bias", 8)),
			[]string{"unsupported", summaryScope + "summary_bias", "attn"}},
		{"nothing of XLNet", []variable{f32("bert/embeddings/word_embeddings", 11, 8)},
			[]string{"no XLNet variables"}},
	} {
		ck := fakeCheckpoint(t, tc.vars)
		_, err := Map(ck, c)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range append(tc.want, ck.IndexPath()) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

func TestHalfPrecisionIsServedAsStored(t *testing.T) {
	c := testConfig()
	vs := pretrained(c)
	for i := range vs {
		vs[i].dtype = tfHalf
	}
	m, err := Map(fakeCheckpoint(t, vs), c)
	if err != nil {
		t.Fatal(err)
	}
	if emb := tensorByKey(t, m, "transformer.word_embedding.weight"); emb.DType.String() != "float16" || emb.Converted() {
		t.Errorf("word embedding %s, converted %v", emb.DType, emb.Converted())
	}
	if b := tensorByKey(t, m, "transformer.layer.1.rel_attn.r_s_bias"); b.Src.Extents[0].Length != 2*4*2 {
		t.Errorf("float16 slice length %d", b.Src.Extents[0].Length)
	}
}
