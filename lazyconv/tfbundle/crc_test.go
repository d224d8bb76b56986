package tfbundle

import "testing"

func TestCRC(t *testing.T) {
	// The CRC32C check value, and mask(0) from formats.md §1.3.
	if got := Unmask(MaskedCRC32C([]byte("123456789"))); got != 0xe3069283 {
		t.Fatalf("CRC32C(123456789) = %#x", got)
	}
	if Mask(0) != 0xa282ead8 || MaskedCRC32C(nil) != 0xa282ead8 {
		t.Fatalf("Mask(0) = %#x", Mask(0))
	}
	for _, c := range []uint32{0, 1, 0xffffffff, 0x12345678} {
		if Unmask(Mask(c)) != c {
			t.Fatalf("Unmask(Mask(%#x)) = %#x", c, Unmask(Mask(c)))
		}
	}
	data := []byte("bert/encoder/layer_0/attention/self/query/kernel")
	if Mask(ExtendCRC32C(ExtendCRC32C(0, data[:7]), data[7:])) != MaskedCRC32C(data) {
		t.Fatal("piecewise CRC differs")
	}
}
