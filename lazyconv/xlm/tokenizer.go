package xlm

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/ckptfs/ckptfs/lazyconv/torchpickle"
)

// nSpecials is the number of XLM's special words (<s>, </s>, <pad>, <unk>,
// <special0> to <special9>), which keep their spelling in vocab.json.
const nSpecials = 14

// vocabJSON is the reference's vocab.json: the dictionary in its order,
// each word spelt as XLMTokenizer's BPE spells it (a word-final piece gains
// `</w>`, a continued piece loses `@@`). Two words that end up spelt alike
// share the first one's place and take the last one's id, as Python's dict
// comprehension does.
func vocabJSON(words []Word) ([]byte, error) {
	out := &torchpickle.Dict{}
	index := map[string]int{}
	for _, w := range words {
		tok := strings.ReplaceAll(w.Token, "@@", "")
		if !strings.Contains(w.Token, "@@") && w.ID >= nSpecials {
			tok = w.Token + "</w>"
		}
		if i, ok := index[tok]; ok {
			out.Items[i].Value = w.ID
			continue
		}
		index[tok] = len(out.Items)
		out.Items = append(out.Items, torchpickle.Item{Key: tok, Value: w.ID})
	}
	data, err := pyJSON(out)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// mergesTxt is the fastBPE codes file ("left right count" per line):
// XLMTokenizer reads the first two fields of every line, but drops the last
// line unless the file ends with a newline.
func mergesTxt(codes []byte) []byte {
	if len(codes) > 0 && codes[len(codes)-1] != '\n' {
		return append(append([]byte{}, codes...), '\n')
	}
	return codes
}

// tokenizerConfigJSON makes current AutoTokenizer build the XLMTokenizer the
// model was trained with. XLM releases do not record whether text was
// lower-cased and stripped of accents before BPE; a dictionary without an
// upper-case letter was (XLM's English and bilingual models), one with
// upper case was not (the 17- and 100-language models).
func tokenizerConfigJSON(r *Release) ([]byte, error) {
	out := &torchpickle.Dict{Items: []torchpickle.Item{
		{Key: "tokenizer_class", Value: "XLMTokenizer"},
		{Key: "do_lowercase_and_remove_accent", Value: lowerCased(r.Word2ID)},
		{Key: "model_max_length", Value: int64(maxPositions)},
	}}
	for _, key := range []string{"lang2id", "id2lang"} {
		if v, ok := r.Params.Get(key); ok {
			if _, isDict := v.(*torchpickle.Dict); isDict {
				out.Items = append(out.Items, torchpickle.Item{Key: key, Value: v})
			}
		}
	}
	data, err := pyJSON(out)
	if err != nil {
		return nil, fmt.Errorf("%s: tokenizer_config.json: %w", r.Path, err)
	}
	return append(data, '\n'), nil
}

func lowerCased(words []Word) bool {
	for _, w := range words[min(nSpecials, len(words)):] {
		for _, c := range w.Token {
			if unicode.IsUpper(c) {
				return false
			}
		}
	}
	return true
}
