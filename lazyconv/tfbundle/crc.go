package tfbundle

import "github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/crc32c"

// Mask turns a CRC32C into the masked form TensorFlow stores
// (tensor.Source.CRC32C holds a masked value).
func Mask(crc uint32) uint32 { return crc32c.Mask(crc) }

// Unmask inverts Mask.
func Unmask(masked uint32) uint32 { return crc32c.Unmask(masked) }

// MaskedCRC32C is the masked CRC32C of b, comparable with
// tensor.Source.CRC32C when b is the whole tensor.
func MaskedCRC32C(b []byte) uint32 { return crc32c.Mask(crc32c.Value(b)) }

// ExtendCRC32C continues an unmasked CRC32C over b, for checksumming a tensor
// piece by piece: start from 0, extend over every piece, then Mask.
func ExtendCRC32C(crc uint32, b []byte) uint32 { return crc32c.Extend(crc, b) }
