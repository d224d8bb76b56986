package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse starts from real np.save outputs (testdata, and the OpenAI GPT
// fixture's shards) and checks that any input either fails to parse or
// yields a header whose data lies inside the input.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	shards, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "store", "openai-gpt", "*", "params_*.npy"))
	for _, path := range append(seeds, shards...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if len(seeds) < 10 {
		f.Fatalf("found %d seed files in testdata", len(seeds))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if h.DataOffset < 10 || h.DataOffset > int64(len(data)) || h.DataBytes() < 0 || h.DataOffset+h.DataBytes() > int64(len(data)) {
			t.Fatalf("accepted header %+v for %d bytes", h, len(data))
		}
		if h.DType.Size() == 0 {
			t.Fatalf("accepted header with no element type: %+v", h)
		}
		for _, d := range h.Shape {
			if d < 0 {
				t.Fatalf("accepted negative dimension: %+v", h)
			}
		}
	})
}
