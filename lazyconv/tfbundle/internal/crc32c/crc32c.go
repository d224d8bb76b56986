// Package crc32c computes the CRC32C checksums TensorFlow stores in
// checkpoints, which are always "masked" (see Mask).
package crc32c

import "hash/crc32"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskDelta is TensorFlow's (and LevelDB's) kMaskDelta.
const maskDelta = 0xa282ead8

// Value is the CRC32C of b.
func Value(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Extend continues crc (a Value of earlier bytes) over b, so a checksum can be
// computed piecewise.
func Extend(crc uint32, b []byte) uint32 { return crc32.Update(crc, castagnoli, b) }

// Mask is the form in which TensorFlow stores a CRC. Masking exists because a
// CRC of data that embeds CRCs is weak; stored values are always masked.
func Mask(crc uint32) uint32 { return (crc>>15 | crc<<17) + maskDelta }

// Unmask inverts Mask.
func Unmask(masked uint32) uint32 {
	r := masked - maskDelta
	return r>>17 | r<<15
}
