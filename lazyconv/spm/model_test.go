package spm

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// The ALBERT fixture's model was written by sentencepiece's own trainer with
// the flags of google-research/albert's README; its .vocab file beside it
// was written by sentencepiece's own accessors (piece, tab, score).
const fixture = "../../testdata/store/albert/albert_base_v2-tiny/30k-clean"

func TestParseAgreesWithSentencePiece(t *testing.T) {
	data, err := os.ReadFile(fixture + ".model")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse("30k-clean.model", data)
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := os.ReadFile(fixture + ".vocab")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(vocab), "\n"), "\n")
	if len(m.Pieces) != len(lines) {
		t.Fatalf("%d pieces, sentencepiece lists %d", len(m.Pieces), len(lines))
	}
	for i, line := range lines {
		piece, score, _ := strings.Cut(line, "\t")
		want, err := strconv.ParseFloat(score, 32)
		if err != nil {
			t.Fatal(err)
		}
		if m.Pieces[i].Text != piece || m.Pieces[i].Score != float32(want) {
			t.Errorf("piece %d: %q %v, sentencepiece %q %v", i, m.Pieces[i].Text, m.Pieces[i].Score, piece, want)
		}
	}
	// spm_train --pad_id=0 --unk_id=1 --control_symbols=[CLS],[SEP],[MASK]
	// --user_defined_symbols=(,),",-,.,–,£,€
	wantTypes := map[int]PieceType{0: Control, 1: Unknown, 2: Control, 3: Control, 4: Control, 5: UserDefined, 12: UserDefined, 13: Normal}
	for id, typ := range wantTypes {
		if m.Pieces[id].Type != typ {
			t.Errorf("piece %d %q: type %d, want %d", id, m.Pieces[id].Text, m.Pieces[id].Type, typ)
		}
	}
	if m.Pieces[12].Text != "€" {
		t.Errorf("piece 12 is %q, want €", m.Pieces[12].Text)
	}
	if m.Type != Unigram || m.ByteFallback || !m.SplitByWhitespace || m.TreatWhitespaceAsSuffix {
		t.Errorf("trainer spec: %+v", m)
	}
	if m.NormalizerName != "nmt_nfkc" || len(m.PrecompiledCharsmap) < 1000 || !m.AddDummyPrefix || !m.RemoveExtraWhitespaces || !m.EscapeWhitespaces {
		t.Errorf("normalizer spec: name %q, charsmap %d bytes, dummy prefix %v", m.NormalizerName, len(m.PrecompiledCharsmap), m.AddDummyPrefix)
	}
}

func TestParseRefusesWhatIsNoModel(t *testing.T) {
	data, err := os.ReadFile(fixture + ".model")
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"truncated": data[:len(data)/2],
		"text":      []byte("<pad>\t0\n<unk>\t0\n"),
	} {
		if _, err := Parse("x/"+name+".model", bad); err == nil || !strings.Contains(err.Error(), "x/"+name+".model") {
			t.Errorf("%s: error %v should name the file", name, err)
		}
	}
}

// FuzzParse: whatever the bytes, Parse returns a model or an error naming
// the file, never panics. Seeds: the fixture and cuts of it.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(fixture + ".model")
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{0, 1, 2, 10, 100, 1000, len(data)} {
		f.Add(data[:n])
	}
	f.Add(data[len(data)-200:])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse("f.model", b)
		if err != nil && !strings.Contains(err.Error(), "f.model") {
			t.Errorf("error %v does not name the file", err)
		}
		if err == nil && len(m.Pieces) == 0 {
			t.Error("a model without pieces accepted")
		}
	})
}
