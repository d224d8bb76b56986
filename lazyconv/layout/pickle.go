package layout

import (
	"encoding/binary"
	"errors"
	"math"
)

// Pickle protocol 2 opcodes (names as in CPython's Lib/pickle.py). Only
// opcodes that torch.load's weights_only unpickler accepts are used.
const (
	opProto      = 0x80
	opGlobal     = 'c'
	opMark       = '('
	opEmptyTuple = ')'
	opTuple      = 't'
	opTuple1     = 0x85
	opTuple2     = 0x86
	opTuple3     = 0x87
	opReduce     = 'R'
	opBinPersID  = 'Q'
	opBinUnicode = 'X'
	opBinInt1    = 'K'
	opBinInt2    = 'M'
	opBinInt     = 'J'
	opLong1      = 0x8a
	opNewFalse   = 0x89
	opSetItem    = 's'
	opSetItems   = 'u'
	opBinPut     = 'q'
	opLongBinPut = 'r'
	opBinGet     = 'h'
	opLongBinGet = 'j'
	opStop       = '.'
)

// pickler writes a protocol-2 pickle opcode by opcode, memoizing like
// CPython's pickler does (every string, tuple, global and reduced object gets
// a memo slot, in order), so that the output can match torch.save's byte for
// byte. Objects that CPython would meet twice (the same Python object) are
// named by a caller-chosen identity and written once, then fetched from the
// memo.
type pickler struct {
	buf  []byte
	memo map[string]uint64 // identity -> memo slot
	next uint64            // next memo slot
}

func newPickler() *pickler {
	return &pickler{buf: []byte{opProto, 2}, memo: map[string]uint64{}}
}

// put memoizes the object on top of the stack.
func (p *pickler) put() uint64 {
	slot := p.next
	p.next++
	if slot < 256 {
		p.buf = append(p.buf, opBinPut, byte(slot))
	} else {
		p.buf = append(p.buf, opLongBinPut)
		p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(slot))
	}
	return slot
}

func (p *pickler) get(slot uint64) {
	if slot < 256 {
		p.buf = append(p.buf, opBinGet, byte(slot))
		return
	}
	p.buf = append(p.buf, opLongBinGet)
	p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(slot))
}

// shared writes the object named id with write (which must end with put)
// the first time, and fetches it from the memo afterwards.
func (p *pickler) shared(id string, write func() uint64) {
	if slot, ok := p.memo[id]; ok {
		p.get(slot)
		return
	}
	p.memo[id] = write()
}

// global pushes module.name; a class or function is one object however often
// it is used.
func (p *pickler) global(module, name string) {
	p.shared("global:"+module+"\n"+name, func() uint64 {
		p.buf = append(p.buf, opGlobal)
		p.buf = append(p.buf, module...)
		p.buf = append(p.buf, '\n')
		p.buf = append(p.buf, name...)
		p.buf = append(p.buf, '\n')
		return p.put()
	})
}

// str pushes a new string object.
func (p *pickler) str(s string) uint64 {
	p.buf = append(p.buf, opBinUnicode)
	p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(len(s)))
	p.buf = append(p.buf, s...)
	return p.put()
}

// sharedStr pushes the string object named id, written once.
func (p *pickler) sharedStr(id, s string) {
	p.shared("str:"+id, func() uint64 { return p.str(s) })
}

// int pushes an integer with the smallest opcode CPython would choose.
func (p *pickler) int(v int64) {
	switch {
	case v >= 0 && v <= math.MaxUint8:
		p.buf = append(p.buf, opBinInt1, byte(v))
	case v >= 0 && v <= math.MaxUint16:
		p.buf = append(p.buf, opBinInt2)
		p.buf = binary.LittleEndian.AppendUint16(p.buf, uint16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		p.buf = append(p.buf, opBinInt)
		p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(int32(v)))
	default:
		// LONG1: minimal little-endian two's complement. BININT is only
		// 32 bits, so sizes of tensors over 2 GiB elements land here.
		b := binary.LittleEndian.AppendUint64(nil, uint64(v))
		for len(b) > 1 {
			last, prev := b[len(b)-1], b[len(b)-2]
			if (last == 0x00 && prev&0x80 == 0) || (last == 0xff && prev&0x80 != 0) {
				b = b[:len(b)-1]
				continue
			}
			break
		}
		p.buf = append(p.buf, opLong1, byte(len(b)))
		p.buf = append(p.buf, b...)
	}
}

// startTuple opens a tuple of n items; endTuple(n) closes it. CPython marks
// only tuples longer than three (shorter ones have dedicated opcodes) and
// does not memoize the empty tuple.
func (p *pickler) startTuple(n int) {
	if n > 3 {
		p.buf = append(p.buf, opMark)
	}
}

func (p *pickler) endTuple(n int) {
	switch n {
	case 0:
		p.buf = append(p.buf, opEmptyTuple)
		return
	case 1:
		p.buf = append(p.buf, opTuple1)
	case 2:
		p.buf = append(p.buf, opTuple2)
	case 3:
		p.buf = append(p.buf, opTuple3)
	default:
		p.buf = append(p.buf, opTuple)
	}
	p.put()
}

func (p *pickler) ints(vs []int64) {
	p.startTuple(len(vs))
	for _, v := range vs {
		p.int(v)
	}
	p.endTuple(len(vs))
}

// reduce calls the callable below the argument tuple on the stack.
func (p *pickler) reduce() uint64 {
	p.buf = append(p.buf, opReduce)
	return p.put()
}

func (p *pickler) op(code byte) { p.buf = append(p.buf, code) }

// bytes finishes the pickle.
func (p *pickler) bytes() ([]byte, error) {
	if p.next > math.MaxUint32 {
		return nil, errors.New("pickle: too many objects for 32-bit memo slots")
	}
	return append(p.buf, opStop), nil
}
