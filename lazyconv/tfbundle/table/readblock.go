package table

import (
	"encoding/binary"

	"github.com/klauspost/compress/snappy"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/crc32c"
)

const (
	trailerLen = 5 // compression type byte + masked CRC32C
	rawBlock   = 0
	snappyBlk  = 1
	// maxSnappyExpansion bounds how much a Snappy block can grow: the densest
	// element, a 3-byte copy, yields 64 bytes. A larger claimed length is a
	// corrupt header, refused before it is allocated.
	maxSnappyExpansion = 22
)

// readBlock reads, verifies and decompresses the block h points at; what
// names the block in errors.
func (t *reader) readBlock(h blockHandle, what string) ([]byte, error) {
	// Blocks and their trailers lie before the footer.
	limit := uint64(t.size - footerLen)
	if h.offset > limit || h.size > limit-h.offset || limit-h.offset-h.size < trailerLen {
		return nil, t.corrupt("bad block handle: %s at offset %d with size %d runs past the end of the %d-byte file", what, h.offset, h.size, t.size)
	}
	buf := make([]byte, h.size+trailerLen)
	if err := readFull(t.r, buf, int64(h.offset)); err != nil {
		return nil, t.corrupt("reading %s at offset %d: %v", what, h.offset, err)
	}
	n := h.size
	// The CRC covers the stored (possibly compressed) bytes and the type byte.
	stored := binary.LittleEndian.Uint32(buf[n+1:])
	if got := crc32c.Value(buf[:n+1]); got != crc32c.Unmask(stored) {
		return nil, t.corrupt("%s at offset %d: checksum mismatch (stored %#08x, computed %#08x)", what, h.offset, crc32c.Unmask(stored), got)
	}
	switch buf[n] {
	case rawBlock:
		return buf[:n], nil
	case snappyBlk:
		return t.unsnappy(buf[:n], what, h.offset)
	default:
		return nil, t.corrupt("%s at offset %d: bad block compression type %d", what, h.offset, buf[n])
	}
}

func (t *reader) unsnappy(src []byte, what string, offset uint64) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return nil, t.corrupt("%s at offset %d: bad Snappy data: %v", what, offset, err)
	}
	if uint64(n) > maxSnappyExpansion*uint64(len(src)) {
		return nil, t.corrupt("%s at offset %d: Snappy length %d is impossible for %d compressed bytes", what, offset, n, len(src))
	}
	out, err := snappy.DecodeStrict(nil, src)
	if err != nil {
		return nil, t.corrupt("%s at offset %d: bad Snappy data: %v", what, offset, err)
	}
	return out, nil
}
