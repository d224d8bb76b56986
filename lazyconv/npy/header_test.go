package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
)

// The testdata files are np.save outputs (testdata/make_seeds.py).

func TestReadHeaderOfNumPyFiles(t *testing.T) {
	for _, c := range []struct {
		file   string
		dtype  dtype.DType
		shape  []int64
		offset int64
	}{
		{"f4_1d.npy", dtype.F32, []int64{6}, 128},
		{"f4_2d.npy", dtype.F32, []int64{2, 3}, 128},
		{"f4_scalar.npy", dtype.F32, []int64{}, 128},
		{"f4_empty.npy", dtype.F32, []int64{0}, 128},
		{"f4_v2.npy", dtype.F32, []int64{6}, 128},
		{"f2.npy", dtype.F16, []int64{6}, 128},
		{"f8.npy", dtype.F64, []int64{6}, 128},
		{"i8.npy", dtype.I64, []int64{3}, 128},
		{"u1.npy", dtype.U8, []int64{3}, 128},
		{"b1.npy", dtype.Bool, []int64{2}, 128},
	} {
		path := filepath.Join("testdata", c.file)
		h, err := ReadHeader(path)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if h.DType != c.dtype || !slices.Equal(h.Shape, c.shape) || h.DataOffset != c.offset {
			t.Errorf("%s: got %s %v at %d, want %s %v at %d", c.file, h.DType, h.Shape, h.DataOffset, c.dtype, c.shape, c.offset)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if h.DataOffset+h.DataBytes() != fi.Size() {
			t.Errorf("%s: header + data = %d bytes, file has %d", c.file, h.DataOffset+h.DataBytes(), fi.Size())
		}
	}
}

func TestDataStartsAtDataOffset(t *testing.T) {
	path := filepath.Join("testdata", "f4_1d.npy")
	h, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 { // np.arange(6, dtype=float32)
		got := binary.LittleEndian.Uint32(data[h.DataOffset+4*int64(i):])
		want := uint32(0)
		if i > 0 {
			want = math.Float32bits(float32(i))
		}
		if got != want {
			t.Errorf("element %d: bits %#x, want %#x", i, got, want)
		}
	}
}

func TestUnsupportedNumPyFiles(t *testing.T) {
	for file, want := range map[string]string{
		"f4_big_endian.npy": "big-endian",
		"f4_fortran.npy":    "Fortran-order",
		"object.npy":        "object array",
		"unicode.npy":       "element type '<U2'",
		"complex.npy":       "element type '<c8'",
		"structured.npy":    "structured array",
		"f4_v3.npy":         "version 3.0",
	} {
		path := filepath.Join("testdata", file)
		_, err := ReadHeader(path)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), path+": unsupported: ") {
			t.Errorf("%s: error %v, want one naming the file and saying unsupported: ...%s", file, err, want)
		}
	}
}

// npyFile builds a version 1.0 file around a header dictionary, padded as
// NumPy pads it.
func npyFile(dict string, data []byte) []byte {
	header := dict + " "
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(out[8:], uint16(len(header)))
	return append(append(out, header...), data...)
}

func TestMalformedFiles(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "f4_1d.npy"))
	if err != nil {
		t.Fatal(err)
	}
	hugeHeader := slices.Clone(good[:10])
	binary.LittleEndian.PutUint16(hugeHeader[8:], 60000)
	hugeHeader = append(hugeHeader, bytes.Repeat([]byte{' '}, 60000)...)
	noNewline := slices.Clone(good)
	noNewline[127] = ' '
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":                 {nil, "too short"},
		"not npy":               {[]byte("PK\x03\x04 this is a zip file, not an array"), "no NumPy magic"},
		"header cut":            {good[:100], "truncated: the header needs 128 bytes, the file has 100"},
		"data cut":              {good[:140], "truncated: shape [6] of float32 needs 24 data bytes, the file has 12"},
		"header over the limit": {hugeHeader, "longer than NumPy's limit"},
		"no newline":            {noNewline, "does not end with a newline"},
		"missing keys":          {npyFile("{'descr': '<f4', }", nil), "exactly the keys"},
		"keys out of order":     {npyFile("{'shape': (1,), 'fortran_order': False, 'descr': '<f4', }", make([]byte, 4)), "header readers disagree"},
		"bad fortran_order":     {npyFile("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", make([]byte, 4)), "fortran_order"},
		"bad shape":             {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }", nil), "not a literal"},
		"negative dimension":    {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", nil), "negative dimension"},
		"overflowing shape":     {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", nil), "too large"},
		"unquoted descr":        {npyFile("{'descr': f4, 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), "not a literal"},
		// NumPy reads (920) as the int 920 and refuses it as a shape.
		"shape not a tuple": {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (920), }", make([]byte, 4*920)), "shape is not a tuple"},
		// npyio read this shape as [2].
		"shape without trailing comma": {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", make([]byte, 24)), "disagree on the shape"},
		"extra key":                    {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1, }", make([]byte, 4)), "exactly the keys"},
		"bool dimension":               {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (True,), }", make([]byte, 4)), "tuple of integers"},
		"two signs":                    {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (--1,), }", make([]byte, 4)), "invalid integer"},
		"float dimension":              {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,), }", make([]byte, 4)), "only decimal integers"},
		"text after the dictionary":    {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", make([]byte, 4)), "after the header dictionary"},
	} {
		path := filepath.Join(t.TempDir(), "params_0.npy")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadHeader(path)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s: error %v, want a malformed-file error naming the file and saying %q", name, err, c.want)
		}
	}
}

func TestTrailingBytesAreAllowed(t *testing.T) {
	// np.load reads prod(shape) elements and ignores what follows.
	data := npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", make([]byte, 7))
	h, err := Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil || h.DataBytes() != 4 || h.DataOffset != int64(len(data)-7) {
		t.Errorf("got %+v, %v", h, err)
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "params_9.npy")
	if _, err := ReadHeader(path); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want not-exist naming the file", err)
	}
}
