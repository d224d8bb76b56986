package torchpickle

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errTruncated marks a pickle that ends before its STOP opcode.
var errTruncated = errors.New("truncated pickle: no STOP opcode before the end of the data")

// argKind is how a pickle opcode's inline argument is encoded
// (CPython's pickletools names them).
type argKind uint8

const (
	argNone   argKind = iota
	argFixed          // a fixed number of bytes (argBytes)
	argLine           // bytes up to and including a newline
	argLines2         // two newline-terminated lines (module, name)
	argLen1           // a 1-byte length, then that many bytes
	argLen4           // a 4-byte little-endian length, then that many bytes
	argLen8           // an 8-byte little-endian length, then that many bytes
)

type opcodeArg struct {
	kind  argKind
	bytes int // for argFixed
}

// opcodes lists every opcode of pickle protocols 0 to 5 with its argument.
var opcodes = map[byte]opcodeArg{
	'(': {}, '.': {}, '0': {}, '1': {}, '2': {}, 'N': {}, 'Q': {}, 'R': {},
	'a': {}, 'b': {}, 'd': {}, '}': {}, 'e': {}, 'l': {}, ']': {}, 'o': {},
	's': {}, 't': {}, ')': {}, 'u': {},
	'\x81': {}, '\x85': {}, '\x86': {}, '\x87': {}, '\x88': {}, '\x89': {},
	'\x8f': {}, '\x90': {}, '\x91': {}, '\x92': {}, '\x93': {}, '\x94': {},
	'\x97': {}, '\x98': {},
	'F': {kind: argLine}, 'I': {kind: argLine}, 'L': {kind: argLine}, 'P': {kind: argLine},
	'S': {kind: argLine}, 'V': {kind: argLine}, 'g': {kind: argLine}, 'p': {kind: argLine},
	'c': {kind: argLines2}, 'i': {kind: argLines2},
	'J': {argFixed, 4}, 'K': {argFixed, 1}, 'M': {argFixed, 2}, 'G': {argFixed, 8},
	'h': {argFixed, 1}, 'j': {argFixed, 4}, 'q': {argFixed, 1}, 'r': {argFixed, 4},
	'\x80': {argFixed, 1}, '\x82': {argFixed, 1}, '\x83': {argFixed, 2}, '\x84': {argFixed, 4},
	'\x95': {argFixed, 8},
	'U':    {kind: argLen1}, 'C': {kind: argLen1}, '\x8a': {kind: argLen1}, '\x8c': {kind: argLen1},
	'T': {kind: argLen4}, 'X': {kind: argLen4}, 'B': {kind: argLen4}, '\x8b': {kind: argLen4},
	'\x8d': {kind: argLen8}, '\x8e': {kind: argLen8}, '\x96': {kind: argLen8},
}

// pickleLength walks one pickle's opcodes from r without interpreting them
// and returns its length up to and including STOP. Every length an opcode
// declares is checked against limit, the bytes left, so that the unpickler
// that runs next never allocates for data that is not there.
func pickleLength(r *bufio.Reader, limit int64) (int64, error) {
	var n int64
	take := func(k int64) error {
		if k < 0 || k > limit-n {
			return errTruncated
		}
		if _, err := r.Discard(int(k)); err != nil {
			return errTruncated
		}
		n += k
		return nil
	}
	fixed := func(k int) ([]byte, error) {
		if int64(k) > limit-n {
			return nil, errTruncated
		}
		var buf [8]byte
		if _, err := io.ReadFull(r, buf[:k]); err != nil {
			return nil, errTruncated
		}
		n += int64(k)
		return buf[:k], nil
	}
	line := func() error {
		for {
			if n >= limit {
				return errTruncated
			}
			b, err := r.ReadByte()
			if err != nil {
				return errTruncated
			}
			n++
			if b == '\n' {
				return nil
			}
		}
	}
	for {
		op, err := fixed(1)
		if err != nil {
			return 0, err
		}
		at := n - 1
		arg, ok := opcodes[op[0]]
		if !ok {
			return 0, fmt.Errorf("malformed pickle: unknown opcode 0x%02x at byte %d", op[0], at)
		}
		switch arg.kind {
		case argFixed:
			b, err := fixed(arg.bytes)
			if err != nil {
				return 0, err
			}
			if op[0] == '\x95' { // FRAME: its size must fit in what is left
				if size := binary.LittleEndian.Uint64(b); size > uint64(limit-n) {
					return 0, errTruncated
				}
			}
		case argLine:
			err = line()
		case argLines2:
			if err = line(); err == nil {
				err = line()
			}
		case argLen1:
			var b []byte
			if b, err = fixed(1); err == nil {
				err = take(int64(b[0]))
			}
		case argLen4:
			var b []byte
			if b, err = fixed(4); err == nil {
				size := int64(binary.LittleEndian.Uint32(b))
				if op[0] == 'T' || op[0] == '\x8b' { // signed lengths
					size = int64(int32(uint32(size)))
				}
				err = take(size)
			}
		case argLen8:
			var b []byte
			if b, err = fixed(8); err == nil {
				size := binary.LittleEndian.Uint64(b)
				if size > uint64(limit) {
					return 0, errTruncated
				}
				err = take(int64(size))
			}
		}
		if err != nil {
			return 0, err
		}
		if op[0] == '.' {
			return n, nil
		}
	}
}
