package table

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// maxKeyExpansion bounds the total length of a block's keys relative to the
// block's size. Prefix compression lets each entry reuse the whole previous
// key, so crafted blocks could otherwise make quadratic amounts of key bytes;
// TF restarts compression every 16 entries, so real blocks stay below 16x.
const maxKeyExpansion = 64

// parseBlock decodes a block's entries: prefix-compressed key/value records
// followed by the restart array (fixed32 offsets) and its fixed32 length.
// Values alias b; keys are freshly allocated.
func parseBlock(b []byte) ([]Entry, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("block of %d bytes has no restart count", len(b))
	}
	numRestarts := uint64(binary.LittleEndian.Uint32(b[len(b)-4:]))
	if numRestarts > uint64(len(b)-4)/4 {
		return nil, fmt.Errorf("restart count %d does not fit in a %d-byte block", numRestarts, len(b))
	}
	end := len(b) - 4 - 4*int(numRestarts) // where the entries stop
	restarts := b[end : len(b)-4]
	if numRestarts == 0 && end > 0 {
		return nil, fmt.Errorf("block has %d bytes of entries but no restart points", end)
	}

	var entries []Entry
	var prev []byte
	keyBytes := 0
	next := 0 // index of the next restart point to reach
	for p := 0; p < end; {
		shared, nonShared, valueLen, n, err := entryHeader(b[p:end])
		if err != nil {
			return nil, fmt.Errorf("entry at block offset %d: %w", p, err)
		}
		if shared > uint32(len(prev)) {
			return nil, fmt.Errorf("entry at block offset %d shares %d bytes with a %d-byte previous key", p, shared, len(prev))
		}
		if next < int(numRestarts) && restartAt(restarts, next) == p {
			if shared != 0 {
				return nil, fmt.Errorf("entry at restart point %d shares %d key bytes", p, shared)
			}
			next++
		}
		start := p + n
		if uint64(nonShared)+uint64(valueLen) > uint64(end-start) {
			return nil, fmt.Errorf("entry at block offset %d: key and value (%d+%d bytes) run past the entries' end at %d", p, nonShared, valueLen, end)
		}
		keyBytes += int(shared) + int(nonShared)
		if keyBytes > maxKeyExpansion*len(b) {
			return nil, fmt.Errorf("prefix-compressed keys expand beyond %dx the block size", maxKeyExpansion)
		}
		key := make([]byte, int(shared)+int(nonShared))
		copy(key, prev[:shared])
		copy(key[shared:], b[start:start+int(nonShared)])
		valueStart := start + int(nonShared)
		value := b[valueStart : valueStart+int(valueLen) : valueStart+int(valueLen)]
		if len(entries) > 0 {
			if c := bytes.Compare(prev, key); c == 0 {
				return nil, fmt.Errorf("duplicate key %q", key)
			} else if c > 0 {
				return nil, fmt.Errorf("keys %q and %q are not in increasing order", prev, key)
			}
		}
		entries = append(entries, Entry{Key: key, Value: value})
		prev = key
		p = valueStart + int(valueLen)
		// A restart point must land on an entry boundary.
		if next < int(numRestarts) && restartAt(restarts, next) < p {
			return nil, fmt.Errorf("restart point %d is not at the start of an entry", restartAt(restarts, next))
		}
	}
	if next < int(numRestarts) {
		// The only legitimate leftover is the single restart point 0 of an
		// empty block.
		if !(len(entries) == 0 && numRestarts == 1 && restartAt(restarts, 0) == 0) {
			return nil, fmt.Errorf("restart point %d is not at the start of an entry", restartAt(restarts, next))
		}
	}
	return entries, nil
}

func restartAt(restarts []byte, i int) int {
	return int(binary.LittleEndian.Uint32(restarts[4*i:]))
}

// entryHeader decodes an entry's three varint32 lengths and returns how many
// bytes they took.
func entryHeader(b []byte) (shared, nonShared, valueLen uint32, n int, err error) {
	var m int
	if shared, m, err = uvarint32(b); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("shared key length: %w", err)
	}
	n += m
	if nonShared, m, err = uvarint32(b[n:]); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("unshared key length: %w", err)
	}
	n += m
	if valueLen, m, err = uvarint32(b[n:]); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("value length: %w", err)
	}
	return shared, nonShared, valueLen, n + m, nil
}
