package torchpickle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets feed arbitrary bytes to the readers: they must answer
// with a value or an error, never a panic or a runaway allocation. Seeds are
// the torch.save fixtures. `go test` runs the seeds; `go test -fuzz
// FuzzUnpickle ./lazyconv/torchpickle` explores further.

func seedFiles(f *testing.F) [][]byte {
	f.Helper()
	paths := []string{fixtures[0].path, fixtures[1].path}
	cases, _ := filepath.Glob(casePath("*.pth"))
	var out [][]byte
	for _, p := range append(paths, cases...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// objectPickle is the pickle that holds a file's objects.
func objectPickle(f *testing.F, data []byte) []byte {
	f.Helper()
	if bytes.HasPrefix(data, []byte("PK")) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			f.Fatal(err)
		}
		for _, zf := range zr.File {
			if filepath.Base(zf.Name) == "data.pkl" {
				rc, _ := zf.Open()
				pkl, err := io.ReadAll(rc)
				if err != nil {
					f.Fatal(err)
				}
				return pkl
			}
		}
		f.Fatal("no data.pkl")
	}
	var start int64
	for range 3 {
		n, err := pickleLength(bufio.NewReader(bytes.NewReader(data[start:])), int64(len(data))-start)
		if err != nil {
			f.Fatal(err)
		}
		start += n
	}
	n, err := pickleLength(bufio.NewReader(bytes.NewReader(data[start:])), int64(len(data))-start)
	if err != nil {
		f.Fatal(err)
	}
	return data[start : start+n]
}

func FuzzUnpickle(f *testing.F) {
	for _, data := range seedFiles(f) {
		f.Add(objectPickle(f, data), bytes.HasPrefix(data, []byte{0x80}))
	}
	f.Fuzz(func(t *testing.T, data []byte, legacy bool) {
		n, err := pickleLength(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
		if err != nil {
			return
		}
		v, err := newUnpickling("fuzz", legacy).load(data[:n])
		if err == nil && !documented(v, 0) {
			t.Fatalf("%q unpickled to undocumented values: %#v", data[:n], v)
		}
	})
}

func FuzzOpen(f *testing.F) {
	for _, data := range seedFiles(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var root any
		var err error
		if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			root, err = readZip("fuzz", r, int64(len(data)))
		} else {
			root, err = readLegacy("fuzz", r, int64(len(data)))
		}
		if err != nil {
			return
		}
		// Every tensor a file yields must lie inside it.
		visitTensors(root, 0, func(tt *Tensor) {
			src, err := tt.Source("t")
			if err != nil {
				return
			}
			for _, e := range src.Extents {
				if e.Offset < 0 || e.Length < 0 || e.Offset+e.Length > int64(len(data)) {
					t.Fatalf("extent %+v outside the %d-byte file", e, len(data))
				}
			}
		})
	})
}

// documented reports whether v holds only the Go types value.go promises.
func documented(v any, depth int) bool {
	if depth > maxDepth+1 {
		return false
	}
	switch x := v.(type) {
	case nil, bool, int64, *big.Int, float64, string, []byte, *Tensor, *Opaque:
		return true
	case *Dict:
		for _, it := range x.Items {
			if !documented(it.Key, depth+1) || !documented(it.Value, depth+1) {
				return false
			}
		}
		return true
	case List:
		return documentedAll(x, depth)
	case Tuple:
		return documentedAll(x, depth)
	case Set:
		return documentedAll(x, depth)
	}
	return false
}

func documentedAll(items []any, depth int) bool {
	for _, it := range items {
		if !documented(it, depth+1) {
			return false
		}
	}
	return true
}

func visitTensors(v any, depth int, fn func(*Tensor)) {
	if depth > 50 {
		return
	}
	switch x := v.(type) {
	case *Tensor:
		fn(x)
	case *Dict:
		for _, it := range x.Items {
			visitTensors(it.Value, depth+1, fn)
		}
	case List:
		for _, it := range x {
			visitTensors(it, depth+1, fn)
		}
	case Tuple:
		for _, it := range x {
			visitTensors(it, depth+1, fn)
		}
	}
}
