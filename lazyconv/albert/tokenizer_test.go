package albert

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/spm"
)

const release = "albert/albert_base_v2-tiny"

// The served tokenizer files; that current transformers gives the
// reference ids through them is checked by tests/interop.
func TestReleaseGetsTokenizerFiles(t *testing.T) {
	dir := filepath.Join("../../testdata/store", release)
	conv, err := convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(filepath.Join(dir, "30k-clean.model"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(conv.Files["spiece.model"], model) {
		t.Error("spiece.model is not the release's 30k-clean.model")
	}
	var cfg map[string]any
	if err := json.Unmarshal(conv.Files["tokenizer_config.json"], &cfg); err != nil || cfg["tokenizer_class"] != "AlbertTokenizer" {
		t.Errorf("tokenizer_config.json: %v %v", cfg, err)
	}
	var tok struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		Normalizer struct {
			Normalizers []map[string]any `json:"normalizers"`
		} `json:"normalizer"`
		PostProcessor struct {
			SpecialTokens map[string]struct {
				IDs []int `json:"ids"`
			} `json:"special_tokens"`
		} `json:"post_processor"`
		Model struct {
			Type  string `json:"type"`
			UnkID int    `json:"unk_id"`
			Vocab [][2]any
		} `json:"model"`
	}
	if err := json.Unmarshal(conv.Files["tokenizer.json"], &tok); err != nil {
		t.Fatalf("tokenizer.json: %v", err)
	}
	sp, err := spm.Parse("30k-clean.model", model)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Model.Type != "Unigram" || tok.Model.UnkID != 1 || len(tok.Model.Vocab) != len(sp.Pieces) {
		t.Fatalf("model: %s unk %d, %d pieces (want %d)", tok.Model.Type, tok.Model.UnkID, len(tok.Model.Vocab), len(sp.Pieces))
	}
	for i, p := range sp.Pieces {
		if tok.Model.Vocab[i][0] != p.Text || tok.Model.Vocab[i][1] != float64(p.Score) {
			t.Errorf("vocab %d: %v, want %q %v", i, tok.Model.Vocab[i], p.Text, p.Score)
		}
	}
	// Only <unk> and the control pieces are added tokens; the user-defined
	// pieces ( ) " - . – £ € stay in the vocabulary, as in SentencePiece.
	var added []string
	for _, a := range tok.AddedTokens {
		if !a.Special || sp.Pieces[a.ID].Text != a.Content {
			t.Errorf("added token %+v", a)
		}
		added = append(added, a.Content)
	}
	if want := []string{"<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"}; !slices.Equal(added, want) {
		t.Errorf("added tokens %v, want %v", added, want)
	}
	if ids := tok.PostProcessor.SpecialTokens; len(ids["[CLS]"].IDs) != 1 || ids["[CLS]"].IDs[0] != 2 || ids["[SEP]"].IDs[0] != 3 {
		t.Errorf("post-processor ids %v", ids)
	}
	var charsmap string
	for _, n := range tok.Normalizer.Normalizers {
		if n["type"] == "Precompiled" {
			charsmap, _ = n["precompiled_charsmap"].(string)
		}
	}
	if charsmap != base64.StdEncoding.EncodeToString(sp.PrecompiledCharsmap) {
		t.Error("the normalizer does not carry the model's precompiled charsmap")
	}
}

func TestNoTokenizerJSONForModelsItCannotReproduce(t *testing.T) {
	base := func() *spm.Model {
		return &spm.Model{
			Pieces: []spm.Piece{{Text: "<pad>", Type: spm.Control}, {Text: "<unk>", Type: spm.Unknown},
				{Text: "[CLS]", Type: spm.Control}, {Text: "[SEP]", Type: spm.Control}, {Text: "▁a", Score: -1, Type: spm.Normal}},
			Type: spm.Unigram, SplitByWhitespace: true, AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true,
		}
	}
	if _, ok, err := tokenizerJSON(base(), true, false); !ok || err != nil {
		t.Fatalf("a plain unigram model: %v %v", ok, err)
	}
	for name, change := range map[string]func(*spm.Model){
		"bpe":              func(m *spm.Model) { m.Type = spm.BPE },
		"byte fallback":    func(m *spm.Model) { m.ByteFallback = true },
		"no dummy prefix":  func(m *spm.Model) { m.AddDummyPrefix = false },
		"whitespace split": func(m *spm.Model) { m.SplitByWhitespace = false },
		"no [CLS]":         func(m *spm.Model) { m.Pieces[2].Text = "<s>" },
		"no unknown piece": func(m *spm.Model) { m.Pieces[1].Type = spm.Control },
	} {
		m := base()
		change(m)
		if _, ok, err := tokenizerJSON(m, true, false); ok || err != nil {
			t.Errorf("%s: tokenizer.json generated (%v)", name, err)
		}
	}
}

// A SentencePiece model that does not parse keeps the weights readable: it
// is served as it is (the tokenizer library reports its fault) and only
// tokenizer.json is left out.
func TestUnreadableSentencePieceModelLeavesOutOnlyTokenizerJSON(t *testing.T) {
	dir := copyFolder(t, release)
	broken := []byte("not a SentencePiece model")
	if err := os.WriteFile(filepath.Join(dir, "30k-clean.model"), broken, 0o644); err != nil {
		t.Fatal(err)
	}
	conv, err := convert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Tensors) == 0 || !bytes.Equal(conv.Files["spiece.model"], broken) || conv.Files["tokenizer_config.json"] == nil {
		t.Errorf("%d tensors, files %v", len(conv.Tensors), slices.Collect(maps.Keys(conv.Files)))
	}
	if conv.Files["tokenizer.json"] != nil {
		t.Error("tokenizer.json generated from a model that does not parse")
	}
}
