// Package tensor describes tensors as ckptfs sees them: where a source
// tensor's bytes live on disk, and how an output tensor is made from one.
package tensor

import (
	"fmt"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
)

// Extent is a run of bytes in a source file.
type Extent struct {
	Path   string
	Offset int64
	Length int64
}

// Source is a tensor stored in a checkpoint: its row-major bytes are the
// concatenation of Extents (more than one when a tensor straddles files).
type Source struct {
	File    string // the file a user would recognise in an error message
	Name    string // the tensor's name in the checkpoint
	DType   dtype.DType
	Shape   []int64
	Extents []Extent
	// CRC32C, when HasCRC, is the masked CRC32C of the tensor bytes that the
	// checkpoint recorded; it is verified before any byte is served.
	CRC32C uint32
	HasCRC bool
	// Parent, for a slice of a stored tensor (one layer's part of a stacked
	// variable), is the stored tensor; its checksum is what gets verified.
	Parent *Source
}

// Slice describes bytes [off, off+length) of s as a tensor of its own, for a
// conversion that splits a stored tensor (per-layer parameters stacked in
// one variable). The slice is verified through s's checksum.
func (s *Source) Slice(name string, off, length int64, shape []int64) (*Source, error) {
	if off < 0 || length < 0 || off+length > s.Bytes() {
		return nil, fmt.Errorf("%s: tensor %s: slice [%d, %d) outside its %d bytes", s.File, s.Name, off, off+length, s.Bytes())
	}
	if NumElements(shape)*int64(s.DType.Size()) != length {
		return nil, fmt.Errorf("%s: tensor %s: slice shape %s does not hold %d bytes", s.File, s.Name, FormatShape(shape), length)
	}
	out := &Source{File: s.File, Name: name, DType: s.DType, Shape: shape, Parent: s}
	for _, e := range s.Extents {
		if length == 0 {
			break
		}
		if off >= e.Length {
			off -= e.Length
			continue
		}
		n := min(length, e.Length-off)
		out.Extents = append(out.Extents, Extent{Path: e.Path, Offset: e.Offset + off, Length: n})
		length -= n
		off = 0
	}
	return out, nil
}

// SplitStacked splits s, stacked along its first axis, into one tensor per
// key (key i gets s[i]), each a slice verified through s's checksum. The
// caller has checked that the first axis holds len(keys) entries.
func (s *Source) SplitStacked(keys []string) ([]*Tensor, error) {
	shape := s.Shape[1:]
	n := NumElements(shape) * int64(s.DType.Size())
	out := make([]*Tensor, len(keys))
	for i, key := range keys {
		part, err := s.Slice(fmt.Sprintf("%s[%d]", s.Name, i), int64(i)*n, n, shape)
		if err != nil {
			return nil, err
		}
		out[i] = &Tensor{Name: key, DType: s.DType, Shape: shape, Src: part}
	}
	return out, nil
}

// Bytes is the tensor's length in bytes.
func (s *Source) Bytes() int64 {
	var n int64
	for _, e := range s.Extents {
		n += e.Length
	}
	return n
}

// TransformKind says how output bytes are computed from source bytes.
type TransformKind uint8

const (
	// Identity: the output bytes are the source bytes (a reshape or a
	// squeeze changes only the shape).
	Identity TransformKind = iota
	// Transpose2D: a [rows, cols] source becomes a [cols, rows] output.
	Transpose2D
)

// Tensor is one tensor of a virtual output file. Its DType may be wider
// than its source's (bfloat16 → float32), which the conversion widens.
type Tensor struct {
	Name      string // Hugging Face state-dict key
	DType     dtype.DType
	Shape     []int64 // output shape
	Src       *Source
	Transform TransformKind
	// Data, for a computed tensor (Src nil), holds its output bytes: a
	// buffer the reference computes rather than reads from the checkpoint,
	// such as a positional-encoding table.
	Data []byte
}

// Computed reports whether the tensor's bytes are held in Data rather than
// read from a source.
func (t *Tensor) Computed() bool { return t.Src == nil && t.Data != nil }

// Converted reports whether the output bytes differ from the source bytes
// (a transform or a widening), so they must be computed rather than copied.
// A computed tensor is not converted: its bytes are already final.
func (t *Tensor) Converted() bool {
	return t.Src != nil && (t.Transform != Identity || t.DType != t.Src.DType)
}

// SourceName names where the tensor comes from, for listings and errors:
// the checkpoint variable, or "(computed)".
func (t *Tensor) SourceName() string {
	if t.Src == nil {
		return "(computed)"
	}
	return t.Src.Name
}

// Bytes is the output length in bytes.
func (t *Tensor) Bytes() int64 { return NumElements(t.Shape) * int64(t.DType.Size()) }

// TransformName describes the transform for `ckptfs inspect`.
func (t *Tensor) TransformName() string {
	if t.Src == nil {
		return "computed"
	}
	name := "copy"
	switch {
	case t.Transform == Transpose2D:
		name = "transpose"
	case !ShapeEqual(t.Shape, t.Src.Shape):
		name = "reshape"
	}
	if t.DType != t.Src.DType {
		name += " + " + t.Src.DType.String() + "→" + t.DType.String()
	}
	return name
}

// NumElements is the product of the dimensions (1 for a scalar).
func NumElements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// ShapeEqual reports whether two shapes are the same.
func ShapeEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FormatShape renders a shape as "[768, 3072]".
func FormatShape(shape []int64) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
