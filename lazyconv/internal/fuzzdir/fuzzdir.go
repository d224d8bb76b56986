// Package fuzzdir is the scaffolding of the config fuzz targets: each
// target writes a fuzzed config into a copy of a fixture model folder, runs
// the family's whole conversion on it, and checks what the mount would do
// with the result: lay out both weight files, check their plans and read
// every byte. A conversion may refuse the config; it must never panic,
// allocate without bound, produce invalid JSON or a plan that does not fit
// its source tensors.
package fuzzdir

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/plancheck"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// Fixture is the path of a sample-store folder, seen from a package two
// levels below the module root (lazyconv/<family>).
func Fixture(rel string) string { return filepath.Join("..", "..", "testdata", "store", rel) }

// AddFile adds the file name of each fixture folder to the seed corpus.
func AddFile(f *testing.F, name string, fixtures ...string) {
	f.Helper()
	for _, fx := range fixtures {
		data, err := os.ReadFile(filepath.Join(Fixture(fx), name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// Base copies a fixture folder once per fuzz target into a temporary
// folder, from which Folder links each input's copy.
func Base(f *testing.F, fixture string) string {
	f.Helper()
	dir := filepath.Join(f.TempDir(), filepath.Base(fixture))
	if err := os.Mkdir(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	entries, err := os.ReadDir(Fixture(fixture))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(Fixture(fixture), e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			f.Fatal(err)
		}
	}
	return dir
}

// Folder makes a model folder for one input: the files of base (hard
// links, so nothing is copied) with the files of replace written instead;
// a nil value removes the file.
func Folder(t *testing.T, base string, replace map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := replace[e.Name()]; ok {
			continue
		}
		if err := os.Link(filepath.Join(base, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range replace {
		if data == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Convert runs a family's conversion on dir and, if it succeeds, checks
// the result (see Check). A refusal must say which file is wrong.
func Convert(t *testing.T, family *conversion.Family, dir string) {
	t.Helper()
	// A conversion reads metadata only, and the fixtures' tensors are
	// small; anything taking this long loops over something a config made
	// huge. It may never return, so the
	// watchdog crashes the fuzz worker, which makes the fuzzer keep the
	// input and print where every goroutine was.
	watchdog := time.AfterFunc(slow, func() { panic(fmt.Sprintf("converting %s has taken over %v", dir, slow)) })
	defer watchdog.Stop()
	conv, err := family.Convert(dir)
	if err != nil {
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("error does not name the file: %v", err)
		}
		return
	}
	Check(t, conv)
}

// slow is far beyond what converting a fixture folder takes (milliseconds),
// even on a loaded machine.
const slow = 10 * time.Second

// maxWiden is the most an output tensor can grow over its source
// (bfloat16 → float32).
const maxWiden = 2

// Check lays out a conversion's weight files as the mount does, checks
// their plans and generated JSON files, and reads every byte.
func Check(t *testing.T, conv *conversion.Conversion) {
	t.Helper()
	for name, data := range conv.Files {
		if strings.HasSuffix(name, ".json") && !json.Valid(data) {
			t.Errorf("generated %s is not valid JSON:\n%s", name, data)
		}
	}
	var out, src int64
	seen := map[*tensor.Source]bool{}
	for _, tt := range conv.Tensors {
		out += tt.Bytes()
		s := tt.Src
		if s == nil {
			continue // computed: no source bytes
		}
		for s.Parent != nil {
			s = s.Parent
		}
		if !seen[s] {
			seen[s] = true
			src += s.Bytes()
		}
	}
	if out > maxWiden*src {
		t.Fatalf("%d output bytes from %d source bytes", out, src)
	}
	bin, err := layout.TorchZip(conv.Tensors, conv.Keys)
	if err != nil {
		t.Fatalf("pytorch_model.bin layout of an accepted conversion: %v", err)
	}
	st := conv.Tensors
	if conv.Safetensors != nil {
		st = make([]*tensor.Tensor, len(conv.Safetensors))
		for i, k := range conv.Safetensors {
			if k < 0 || k >= len(conv.Tensors) {
				t.Fatalf("safetensors selection names tensor %d of %d", k, len(conv.Tensors))
			}
			st[i] = conv.Tensors[k]
		}
	}
	sft, err := layout.Safetensors(st)
	if err != nil {
		t.Fatalf("model.safetensors layout of an accepted conversion: %v", err)
	}
	chunks, err := cache.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer chunks.Close()
	sources := index.NewSources()
	defer sources.Close()
	for _, p := range []*index.Plan{bin, sft} {
		if err := plancheck.Check(p); err != nil {
			t.Fatalf("plan of an accepted conversion: %v", err)
		}
		r := index.NewReader("fuzz", p, chunks, sources)
		if _, err := io.Copy(io.Discard, io.NewSectionReader(r, 0, p.Size)); err != nil {
			t.Fatalf("reading an accepted conversion: %v", err)
		}
	}
}

// FuzzConfig runs a fuzz target over the config file config of a family:
// each input picks one of the fixtures (seeded with each fixture's own
// config) and replaces its config with the fuzzed bytes.
func FuzzConfig(f *testing.F, family *conversion.Family, config string, fixtures ...string) {
	bases := make([]string, len(fixtures))
	for i, fx := range fixtures {
		bases[i] = Base(f, fx)
		data, err := os.ReadFile(filepath.Join(bases[i], config))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), data)
		mustConvert(f, family, bases[i])
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := Folder(t, bases[int(which)%len(bases)], map[string][]byte{config: data})
		Convert(t, family, dir)
	})
}

// FuzzConfigPair is FuzzConfig for a family read from two config files;
// an empty second file is left out (it is optional for such families).
func FuzzConfigPair(f *testing.F, family *conversion.Family, first, second string, fixtures ...string) {
	bases := make([]string, len(fixtures))
	for i, fx := range fixtures {
		bases[i] = Base(f, fx)
		a, err := os.ReadFile(filepath.Join(bases[i], first))
		if err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(bases[i], second))
		if err != nil && !os.IsNotExist(err) {
			f.Fatal(err)
		}
		f.Add(uint8(i), a, b)
		mustConvert(f, family, bases[i])
	}
	f.Fuzz(func(t *testing.T, which uint8, a, b []byte) {
		replace := map[string][]byte{first: a, second: b}
		if len(b) == 0 {
			replace[second] = nil
		}
		dir := Folder(t, bases[int(which)%len(bases)], replace)
		Convert(t, family, dir)
	})
}

// mustConvert checks that an intact fixture converts, so the fuzz target
// starts from inputs that reach every check.
func mustConvert(f *testing.F, family *conversion.Family, dir string) {
	f.Helper()
	if _, err := family.Convert(dir); err != nil {
		f.Fatalf("the intact fixture does not convert: %v", err)
	}
}
