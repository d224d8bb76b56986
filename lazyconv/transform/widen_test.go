package transform

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
)

func TestWidenBFloat16IsExact(t *testing.T) {
	values := []float32{0, 1, -2.5, 3.140625, float32(math.Inf(-1)), 1e-38, 65280}
	src := make([]byte, 2*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint16(src[2*i:], uint16(math.Float32bits(v)>>16))
	}
	out, err := Widen(src, dtype.BF16, dtype.F32)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range values {
		want := math.Float32bits(v) &^ 0xffff // what bfloat16 kept of v
		if got := binary.LittleEndian.Uint32(out[4*i:]); got != want {
			t.Errorf("%v: got %#08x, want %#08x", v, got, want)
		}
	}
	if _, err := Widen(src, dtype.F16, dtype.F32); err == nil {
		t.Error("float16 widening accepted")
	}
}
