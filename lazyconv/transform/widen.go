package transform

import (
	"encoding/binary"
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
)

// Widen converts little-endian elements of dtype from to dtype to. Only
// bfloat16 → float32 is supported: it is exact (a bfloat16 is the upper half
// of a float32), and it is what transformers' T5 conversion does to Mesh
// TensorFlow's bfloat16 variables.
func Widen(src []byte, from, to dtype.DType) ([]byte, error) {
	if from != dtype.BF16 || to != dtype.F32 {
		return nil, fmt.Errorf("unsupported: widening %s to %s", from, to)
	}
	if len(src)%2 != 0 {
		return nil, fmt.Errorf("bfloat16 data of odd length %d", len(src))
	}
	out := make([]byte, len(src)*2)
	for i := 0; i < len(src)/2; i++ {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(binary.LittleEndian.Uint16(src[2*i:]))<<16)
	}
	return out, nil
}
