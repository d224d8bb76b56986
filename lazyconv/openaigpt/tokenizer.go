package openaigpt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// generatedFiles makes config.json and the tokenizer files.
func generatedFiles(dir string, d Dims, hp HParams) (map[string][]byte, error) {
	encoderPath := filepath.Join(dir, EncoderFile)
	encoder, err := os.ReadFile(encoderPath)
	if err != nil {
		return nil, err
	}
	var vocab map[string]int64
	if err := json.Unmarshal(encoder, &vocab); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object of token ids: %w", encoderPath, err)
	}
	for tok, id := range vocab {
		if id < 0 || id >= d.Vocab {
			return nil, fmt.Errorf("%s: %q has id %d, outside the %d rows of the token embedding", encoderPath, tok, id, d.Vocab)
		}
	}
	merges, err := mergesFile(filepath.Join(dir, MergesFile), vocab)
	if err != nil {
		return nil, err
	}
	config, err := hfConfig(d, hp)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizerConfig(d)
	if err != nil {
		return nil, err
	}
	// vocab.json is the encoder unchanged: both tokenizers read it with
	// Python's json.
	return map[string][]byte{"config.json": config, "tokenizer_config.json": tok, "vocab.json": encoder, "merges.txt": merges}, nil
}

// mergesFile renders merges.txt from vocab_40000.bpe so that the tokenizers
// library applies the merges the reference applies. The reference (like
// OpenAI's text_utils.py) reads the file in text mode and keeps
// split("\n")[1:-1]: it skips the first line whatever it holds and the
// text after the last newline, and splits each line on whitespace. The
// tokenizers library skips only a "#version" line and refuses a line that
// is not two space-separated symbols, or whose symbols or their merge are
// not in the vocabulary. So merges.txt is a "#version: 0.2" line and each
// merge the reference reads, one space between its symbols; lines that are
// not two symbols never apply in the reference and are left out, and so
// are merges the vocabulary cannot represent (whose result the reference
// could not look up).
func mergesFile(path string, vocab map[string]int64) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8 text", path)
	}
	// Python's universal newlines: \r\n and \r read as \n.
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")
	var b strings.Builder
	b.WriteString("#version: 0.2\n")
	if len(lines) < 3 {
		return []byte(b.String()), nil
	}
	for _, line := range lines[1 : len(lines)-1] {
		f := strings.FieldsFunc(line, isPythonSpace)
		if len(f) != 2 {
			continue
		}
		if _, ok := vocab[f[0]]; !ok {
			continue
		}
		if _, ok := vocab[f[1]]; !ok {
			continue
		}
		if _, ok := vocab[f[0]+f[1]]; !ok {
			continue
		}
		b.WriteString(f[0] + " " + f[1] + "\n")
	}
	return []byte(b.String()), nil
}

// isPythonSpace is str.split()'s notion of whitespace: Go's, plus the
// information separators U+001C … U+001F.
func isPythonSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}
