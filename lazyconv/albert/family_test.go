package albert

import (
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
