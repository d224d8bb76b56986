// Package dtype names the element types a converted tensor can hold and how
// each is spelled by the formats ckptfs reads and writes.
package dtype

import "fmt"

// DType is an element type. The zero value is Invalid.
type DType uint8

// The element types a model checkpoint can hold.
const (
	Invalid DType = iota
	F32
	F16
	BF16
	F64
	I8
	I16
	I32
	I64
	U8
	Bool
)

type info struct {
	name         string // lower-case name used in messages and `inspect`
	size         int    // bytes per element
	safetensors  string // safetensors header code
	torchStorage string // legacy storage class in module torch, as pickled by torch.save
	tf           int32  // TensorFlow DataType enum value
}

var infos = [...]info{
	Invalid: {"invalid", 0, "", "", 0},
	F32:     {"float32", 4, "F32", "FloatStorage", 1},
	F16:     {"float16", 2, "F16", "HalfStorage", 19},
	BF16:    {"bfloat16", 2, "BF16", "BFloat16Storage", 14},
	F64:     {"float64", 8, "F64", "DoubleStorage", 2},
	I8:      {"int8", 1, "I8", "CharStorage", 6},
	I16:     {"int16", 2, "I16", "ShortStorage", 5},
	I32:     {"int32", 4, "I32", "IntStorage", 3},
	I64:     {"int64", 8, "I64", "LongStorage", 9},
	U8:      {"uint8", 1, "U8", "ByteStorage", 4},
	Bool:    {"bool", 1, "BOOL", "BoolStorage", 10},
}

// String returns the lower-case name ("float32").
func (d DType) String() string {
	if int(d) < len(infos) {
		return infos[d].name
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the number of bytes per element.
func (d DType) Size() int { return infos[d].size }

// Safetensors is the dtype code in a safetensors header ("F32").
func (d DType) Safetensors() string { return infos[d].safetensors }

// TorchStorage is the legacy storage class torch.save pickles for this dtype.
func (d DType) TorchStorage() string { return infos[d].torchStorage }

// TFDataTypeName names a TensorFlow DataType enum value for error messages.
func TFDataTypeName(v int32) string {
	switch v {
	case 7:
		return "string"
	case 8:
		return "complex64"
	case 18:
		return "complex128"
	case 20:
		return "resource"
	case 21:
		return "variant"
	}
	for _, in := range infos[1:] {
		if in.tf == v {
			return in.name
		}
	}
	return fmt.Sprintf("DataType %d", v)
}

// FromTF maps a TensorFlow DataType enum value (types.proto) to a DType.
// Types a model's weights cannot hold (strings, resources, quantized types)
// are reported as unsupported.
func FromTF(v int32) (DType, error) {
	for d, in := range infos {
		if d != int(Invalid) && in.tf == v {
			return DType(d), nil
		}
	}
	return Invalid, fmt.Errorf("unsupported: TensorFlow dtype %s", TFDataTypeName(v))
}
