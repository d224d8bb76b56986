package openaigpt

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures are written by tools/fixtures/openai_gpt.py with np.save.
const (
	tinyWithHParams = "../../testdata/store/openai-gpt/finetune-transformer-lm-tiny"
	tinyDefaults    = "../../testdata/store/openai-gpt/default-heads-tiny"
)

// copyRelease copies a fixture folder into a temporary one the test may
// change.
func copyRelease(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, e.Name()), data)
	}
	return dir
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// npyFile is what np.save writes for an array of the given descr and shape
// (a version 1.0 header padded to 64 bytes), followed by data.
func npyFile(descr string, shape []int, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(out[8:], uint16(len(header)))
	return append(append(out, header...), data...)
}

// wantError runs convert on dir and checks the error names the file and
// says what is wrong.
func wantError(t *testing.T, dir, file, says string) {
	t.Helper()
	_, err := convert(dir)
	if err == nil {
		t.Fatalf("convert succeeded, want an error about %s saying %q", file, says)
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, file)) || !strings.Contains(err.Error(), says) {
		t.Errorf("error %q, want one naming %s and saying %q", err, file, says)
	}
}
