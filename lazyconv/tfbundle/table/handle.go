package table

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// blockHandle locates a block; size excludes the block's 5-byte trailer.
type blockHandle struct {
	offset, size uint64
}

var errBadVarint = errors.New("bad varint")

// decodeHandle decodes a handle at the start of b and returns the number of
// bytes it used.
func decodeHandle(b []byte) (blockHandle, int, error) {
	off, n1 := binary.Uvarint(b)
	if n1 <= 0 {
		return blockHandle{}, 0, fmt.Errorf("bad block handle: %w", errBadVarint)
	}
	size, n2 := binary.Uvarint(b[n1:])
	if n2 <= 0 {
		return blockHandle{}, 0, fmt.Errorf("bad block handle: %w", errBadVarint)
	}
	return blockHandle{offset: off, size: size}, n1 + n2, nil
}

// uvarint32 decodes a varint that must fit in 32 bits, as LevelDB's
// GetVarint32 requires.
func uvarint32(b []byte) (uint32, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n > 5 || v > 1<<32-1 {
		return 0, 0, errBadVarint
	}
	return uint32(v), n, nil
}
