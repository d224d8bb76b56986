// Package npy reads what ckptfs needs from a NumPy .npy file: the element
// type, the shape and where the array's bytes begin, so that the array can
// be served straight from the file. The header dictionary is parsed twice:
// as NumPy parses it (a Python literal, literal.go) and by
// codeberg.org/sbinet/npyio; a header the two read differently is refused.
// This package adds the checks a lazy reader needs (byte order, memory
// order, file length).
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
)

// ErrUnsupported is wrapped by errors about valid .npy files that ckptfs
// cannot serve (big-endian, Fortran order, object or string arrays); their
// messages start with "unsupported: ".
var ErrUnsupported = errors.New("unsupported")

// ErrMalformed is wrapped by errors about files that are not well-formed
// .npy files.
var ErrMalformed = errors.New("malformed .npy file")

// maxHeaderLen is NumPy's own limit on the header dictionary
// (numpy.lib.format._MAX_HEADER_SIZE); np.load refuses longer ones.
const maxHeaderLen = 10000

// Header is what a .npy file says about the array it holds.
type Header struct {
	DType dtype.DType
	// Shape is outermost first; a scalar has no dimensions.
	Shape []int64
	// DataOffset is where the array's row-major bytes begin.
	DataOffset int64
}

// DataBytes is the length of the array's bytes.
func (h *Header) DataBytes() int64 {
	n := int64(h.DType.Size())
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// ReadHeader reads the header of the .npy file at path and checks that the
// file holds every byte of the array. It reads no array data. Errors name
// the file.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, err := Parse(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// Parse reads the header of a .npy file of size bytes held by r.
func Parse(r io.ReaderAt, size int64) (*Header, error) {
	raw, err := readHeaderBytes(r, size)
	if err != nil {
		return nil, err
	}
	// NumPy's reading of the dictionary comes first: its errors are the
	// ones a user can act on.
	py, err := parsePyHeader(string(raw[preambleLen(raw):]))
	if err != nil {
		return nil, fmt.Errorf("%w: header dictionary NumPy would refuse: %v", ErrMalformed, err)
	}
	counted := &countingReader{r: bytes.NewReader(raw)}
	parsed, err := parseWithLibrary(counted)
	if err != nil {
		return nil, fmt.Errorf("%w: header readers disagree: NumPy reads it, npyio says %v", ErrMalformed, err)
	}
	// The library reads the preamble and the dictionary, nothing more: what
	// it consumed must be exactly what the length field announced.
	if counted.n != int64(len(raw)) {
		return nil, fmt.Errorf("%w: the header parser read %d bytes, the length field says the header is %d", ErrMalformed, counted.n, len(raw))
	}
	if err := agree(py, parsed); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	h := &Header{DataOffset: int64(len(raw))}
	if h.DType, err = elementType(parsed.Descr.Type); err != nil {
		return nil, err
	}
	if parsed.Descr.Fortran {
		return nil, fmt.Errorf("%w: Fortran-order (column-major) array", ErrUnsupported)
	}
	if h.Shape, err = checkedShape(parsed.Descr.Shape, h.DType.Size()); err != nil {
		return nil, err
	}
	if have := size - h.DataOffset; have < h.DataBytes() {
		return nil, fmt.Errorf("%w: truncated: shape %v of %s needs %d data bytes, the file has %d", ErrMalformed, parsed.Descr.Shape, h.DType, h.DataBytes(), have)
	}
	return h, nil
}

// readHeaderBytes reads the preamble (magic, version, header length) and
// the header dictionary. It checks the length against the file and NumPy's
// limit before reading, so a bogus length never causes a large allocation.
func readHeaderBytes(r io.ReaderAt, size int64) ([]byte, error) {
	var pre [12]byte
	n, err := r.ReadAt(pre[:min(size, int64(len(pre)))], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n < 10 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a .npy header", ErrMalformed, n)
	}
	if [6]byte(pre[:6]) != npy.Magic {
		return nil, fmt.Errorf("%w: no NumPy magic (\\x93NUMPY) at the start", ErrMalformed)
	}
	var preamble, length int64
	switch pre[6] {
	case 1:
		preamble, length = 10, int64(binary.LittleEndian.Uint16(pre[8:]))
	case 2:
		if n < 12 {
			return nil, fmt.Errorf("%w: %d bytes is too short for a version 2 .npy header", ErrMalformed, n)
		}
		preamble, length = 12, int64(binary.LittleEndian.Uint32(pre[8:]))
	default:
		// Version 3.0 (a UTF-8 header) is written only for structured
		// dtypes with non-Latin-1 field names, which ckptfs cannot serve.
		return nil, fmt.Errorf("%w: .npy format version %d.%d", ErrUnsupported, pre[6], pre[7])
	}
	if length > maxHeaderLen {
		return nil, fmt.Errorf("%w: header of %d bytes is longer than NumPy's limit of %d", ErrMalformed, length, maxHeaderLen)
	}
	if preamble+length > size {
		return nil, fmt.Errorf("%w: truncated: the header needs %d bytes, the file has %d", ErrMalformed, preamble+length, size)
	}
	raw := make([]byte, preamble+length)
	if n, err := r.ReadAt(raw, 0); n < len(raw) {
		return nil, err
	}
	// NumPy ends the padded dictionary with a newline; the library relies
	// on it to find the dictionary's end.
	if raw[len(raw)-1] != '\n' {
		return nil, fmt.Errorf("%w: the header does not end with a newline", ErrMalformed)
	}
	return raw, nil
}

// parseWithLibrary runs npyio's header parser. It indexes the dictionary
// text without bounds checks, so a hostile header can make it panic; that
// is reported as a malformed header, never allowed to stop the mount.
func parseWithLibrary(r io.Reader) (h npy.Header, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("unparsable header dictionary (%v)", p)
		}
	}()
	rd, err := npy.NewReader(r)
	if err != nil {
		return npy.Header{}, err
	}
	return rd.Header, nil
}

// preambleLen is the length of the magic, version and header length
// fields that readHeaderBytes checked.
func preambleLen(raw []byte) int {
	if raw[6] == 2 {
		return 12
	}
	return 10
}

// agree checks that npyio read the same descr, memory order and shape as
// NumPy's reading of the dictionary (see literal.go).
func agree(py *pyHeader, parsed npy.Header) error {
	descr, quoted := unquote(parsed.Descr.Type)
	switch d := py.descr.(type) {
	case string:
		if !quoted || d != descr {
			return fmt.Errorf("header readers disagree on descr: %q vs %s", d, parsed.Descr.Type)
		}
	case pyList:
		if quoted || !strings.HasPrefix(parsed.Descr.Type, "[") {
			return fmt.Errorf("header readers disagree on descr: a list vs %s", parsed.Descr.Type)
		}
	default:
		return fmt.Errorf("descr is neither a string nor a list")
	}
	if py.fortran != parsed.Descr.Fortran {
		return fmt.Errorf("header readers disagree on fortran_order")
	}
	if len(py.shape) != len(parsed.Descr.Shape) {
		return fmt.Errorf("header readers disagree on the shape: %v vs %v", py.shape, parsed.Descr.Shape)
	}
	for i, d := range py.shape {
		if d != int64(parsed.Descr.Shape[i]) {
			return fmt.Errorf("header readers disagree on the shape: %v vs %v", py.shape, parsed.Descr.Shape)
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// elementTypes are the little-endian descr codes ckptfs serves. NumPy
// spells one-byte types with "|" (no byte order).
var elementTypes = map[string]dtype.DType{
	"<f2": dtype.F16, "<f4": dtype.F32, "<f8": dtype.F64,
	"|i1": dtype.I8, "<i2": dtype.I16, "<i4": dtype.I32, "<i8": dtype.I64,
	"|u1": dtype.U8, "|b1": dtype.Bool,
}

// elementType maps the header's descr, as the library leaves it (the
// Python literal, quotes included), to a DType.
func elementType(descr string) (dtype.DType, error) {
	code, quoted := unquote(descr)
	switch {
	case !quoted && strings.HasPrefix(descr, "["):
		return dtype.Invalid, fmt.Errorf("%w: structured array (descr %s)", ErrUnsupported, descr)
	case !quoted:
		return dtype.Invalid, fmt.Errorf("%w: descr %q is not a string", ErrMalformed, descr)
	case strings.Contains(code, "O"):
		return dtype.Invalid, fmt.Errorf("%w: object array (descr '%s'): its elements are pickled Python objects", ErrUnsupported, code)
	case strings.HasPrefix(code, ">"):
		return dtype.Invalid, fmt.Errorf("%w: big-endian array (descr '%s')", ErrUnsupported, code)
	}
	if d, ok := elementTypes[code]; ok {
		return d, nil
	}
	return dtype.Invalid, fmt.Errorf("%w: element type '%s'", ErrUnsupported, code)
}

// unquote strips the quotes of a Python string literal.
func unquote(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// checkedShape converts the library's dimensions, refusing negative ones
// and shapes whose byte length overflows.
func checkedShape(dims []int, itemSize int) ([]int64, error) {
	shape := make([]int64, len(dims))
	n := int64(itemSize)
	for i, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative dimension in shape %v", ErrMalformed, dims)
		}
		if d > 0 && n > (1<<62)/int64(d) {
			return nil, fmt.Errorf("%w: shape %v is too large", ErrMalformed, dims)
		}
		shape[i] = int64(d)
		n *= int64(d)
	}
	return shape, nil
}
