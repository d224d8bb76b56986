package albert

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"unicode/utf8"

	"github.com/ckptfs/ckptfs/lazyconv/spm"
)

// tokenizerJSON builds a tokenizer.json (the tokenizers library's format)
// that tokenizes as transformers 4.x's slow AlbertTokenizer over the
// SentencePiece model m does.
//
// Why it is needed: without it, current transformers builds the tokenizer
// from spiece.model and makes ALBERT's user-defined pieces ( ) " - . – £ €
// added tokens, matched before the words are split, so "(world)" becomes
// "(", "▁world" where SentencePiece gives "(", "w", "o", ... . Here those
// pieces are ordinary vocabulary entries; only the unknown and control
// pieces are added tokens. The pipeline is the slow tokenizer's: its text
// clean-up (two backquotes or two apostrophes to ", accents stripped,
// lower case), then SentencePiece's own normalisation (the model's
// precompiled charsmap), each whitespace-separated word prefixed with ▁,
// and Viterbi over the piece scores.
//
// It reports false for models this pipeline does not reproduce (BPE, byte
// fallback, no dummy prefix, ...): AutoTokenizer then converts
// spiece.model itself.
func tokenizerJSON(m *spm.Model, lowerCase, keepAccents bool) ([]byte, bool, error) {
	if m.Type != spm.Unigram || m.ByteFallback || !m.AddDummyPrefix || !m.SplitByWhitespace ||
		m.TreatWhitespaceAsSuffix || !m.EscapeWhitespaces {
		return nil, false, nil
	}
	unk, cls, sep := -1, -1, -1
	var added []addedToken
	vocab := make([][2]any, len(m.Pieces))
	for id, p := range m.Pieces {
		score := float64(p.Score)
		if math.IsNaN(score) || math.IsInf(score, 0) || !utf8.ValidString(p.Text) {
			return nil, false, nil // JSON cannot carry it as SentencePiece reads it
		}
		vocab[id] = [2]any{p.Text, score}
		switch p.Type {
		case spm.Unknown:
			if unk >= 0 {
				return nil, false, nil // SentencePiece allows one
			}
			unk = id
		case spm.Control:
			switch p.Text {
			case "[CLS]":
				cls = id
			case "[SEP]":
				sep = id
			}
		default:
			continue
		}
		// The slow tokenizer's mask token swallows the space before it.
		added = append(added, addedToken{ID: id, Content: p.Text, LStrip: p.Text == "[MASK]", Special: true})
	}
	if unk < 0 || cls < 0 || sep < 0 {
		return nil, false, nil
	}

	normalizers := []any{replace("``", `"`), replace("''", `"`)}
	if !keepAccents {
		normalizers = append(normalizers, typed("NFKD"), typed("StripAccents"))
	}
	if lowerCase {
		normalizers = append(normalizers, typed("Lowercase"))
	}
	if len(m.PrecompiledCharsmap) > 0 {
		normalizers = append(normalizers, map[string]any{
			"type": "Precompiled", "precompiled_charsmap": base64.StdEncoding.EncodeToString(m.PrecompiledCharsmap),
		})
	}
	metaspace := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}
	special := func(name string, typeID int) any {
		return map[string]any{"SpecialToken": map[string]any{"id": name, "type_id": typeID}}
	}
	sequence := func(name string, typeID int) any {
		return map[string]any{"Sequence": map[string]any{"id": name, "type_id": typeID}}
	}
	tok := tokenizerFile{
		Version:     "1.0",
		AddedTokens: added,
		Normalizer:  map[string]any{"type": "Sequence", "normalizers": normalizers},
		PreTokenizer: map[string]any{"type": "Sequence", "pretokenizers": []any{
			typed("WhitespaceSplit"), metaspace,
		}},
		PostProcessor: map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)},
			"pair": []any{special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0),
				sequence("B", 1), special("[SEP]", 1)},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{cls}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{sep}, "tokens": []string{"[SEP]"}},
			},
		},
		Decoder: metaspace,
		Model:   unigramModel{Type: "Unigram", UnkID: unk, Vocab: vocab},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <unk> and <pad> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(tok); err != nil {
		return nil, false, err
	}
	return buf.Bytes(), true, nil
}

// tokenizerFile is tokenizer.json's top level, in the order the tokenizers
// library writes it.
type tokenizerFile struct {
	Version       string       `json:"version"`
	Truncation    any          `json:"truncation"`
	Padding       any          `json:"padding"`
	AddedTokens   []addedToken `json:"added_tokens"`
	Normalizer    any          `json:"normalizer"`
	PreTokenizer  any          `json:"pre_tokenizer"`
	PostProcessor any          `json:"post_processor"`
	Decoder       any          `json:"decoder"`
	Model         unigramModel `json:"model"`
}

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type unigramModel struct {
	Type         string   `json:"type"`
	UnkID        int      `json:"unk_id"`
	Vocab        [][2]any `json:"vocab"`
	ByteFallback bool     `json:"byte_fallback"`
}

func typed(name string) map[string]any { return map[string]any{"type": name} }

func replace(from, to string) map[string]any {
	return map[string]any{"type": "Replace", "pattern": map[string]any{"String": from}, "content": to}
}
