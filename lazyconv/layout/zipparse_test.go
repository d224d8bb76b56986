package layout

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// A zip reader written for the tests, independent of zip.go, that reads only
// headers, the central directory and the end records.

type cdEntry struct {
	at          int64 // offset of the central directory entry
	name        string
	flags       uint16
	crc         uint32
	usize       int64
	csize       int64
	localOffset int64
	extra       []byte
}

type zipEnd struct {
	cdOffset, cdSize, entries int64
	end64Offset               int64
	eocd                      []byte // the 22-byte end of central directory record
}

func readAt(r io.ReaderAt, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	_, err := r.ReadAt(b, off)
	return b, err
}

// parseCentralDirectory reads the zip64 end records from the tail of a file
// of the given size and decodes every central directory entry.
func parseCentralDirectory(r io.ReaderAt, size int64) ([]cdEntry, zipEnd, error) {
	var end zipEnd
	tail, err := readAt(r, size-22-20, 22+20)
	if err != nil {
		return nil, end, err
	}
	locator, eocd := tail[:20], tail[20:]
	le := binary.LittleEndian
	if le.Uint32(eocd) != 0x06054b50 || le.Uint32(locator) != 0x07064b50 {
		return nil, end, fmt.Errorf("no end of central directory / zip64 locator at the end")
	}
	end.eocd = eocd
	end.end64Offset = int64(le.Uint64(locator[8:]))
	if le.Uint32(locator[16:]) != 1 {
		return nil, end, fmt.Errorf("zip64 locator: %d disks", le.Uint32(locator[16:]))
	}
	z64, err := readAt(r, end.end64Offset, 56)
	if err != nil {
		return nil, end, err
	}
	if le.Uint32(z64) != 0x06064b50 || le.Uint64(z64[4:]) != 44 {
		return nil, end, fmt.Errorf("bad zip64 end record")
	}
	end.entries = int64(le.Uint64(z64[24:]))
	end.cdSize = int64(le.Uint64(z64[40:]))
	end.cdOffset = int64(le.Uint64(z64[48:]))
	if end.cdOffset+end.cdSize != end.end64Offset {
		return nil, end, fmt.Errorf("central directory [%d,+%d) does not end at the zip64 end record %d", end.cdOffset, end.cdSize, end.end64Offset)
	}
	cd, err := readAt(r, end.cdOffset, end.cdSize)
	if err != nil {
		return nil, end, err
	}
	var entries []cdEntry
	for p := 0; p < len(cd); {
		h := cd[p:]
		if len(h) < 46 || le.Uint32(h) != 0x02014b50 {
			return nil, end, fmt.Errorf("bad central directory entry at %d", end.cdOffset+int64(p))
		}
		nameLen, extraLen, commentLen := int(le.Uint16(h[28:])), int(le.Uint16(h[30:])), int(le.Uint16(h[32:]))
		e := cdEntry{
			at:          end.cdOffset + int64(p),
			name:        string(h[46 : 46+nameLen]),
			flags:       le.Uint16(h[8:]),
			crc:         le.Uint32(h[16:]),
			csize:       int64(le.Uint32(h[20:])),
			usize:       int64(le.Uint32(h[24:])),
			localOffset: int64(le.Uint32(h[42:])),
			extra:       h[46+nameLen : 46+nameLen+extraLen],
		}
		// zip64 extra: the saturated fields, in the order usize, csize, offset.
		if x := findExtra(e.extra, zip64ExtraID); x != nil {
			for _, f := range []*int64{&e.usize, &e.csize, &e.localOffset} {
				if *f == math.MaxUint32 {
					if len(x) < 8 {
						return nil, end, fmt.Errorf("%s: short zip64 extra", e.name)
					}
					*f, x = int64(le.Uint64(x)), x[8:]
				}
			}
		}
		entries = append(entries, e)
		p += 46 + nameLen + extraLen + commentLen
	}
	if int64(len(entries)) != end.entries {
		return nil, end, fmt.Errorf("%d entries, zip64 end record says %d", len(entries), end.entries)
	}
	return entries, end, nil
}

type localHeader struct {
	flags      uint16
	crc        uint32
	csize      uint32
	usize      uint32
	name       string
	extra      []byte
	dataOffset int64
}

func parseLocalHeader(r io.ReaderAt, off int64) (localHeader, error) {
	var h localHeader
	fixed, err := readAt(r, off, 30)
	if err != nil {
		return h, err
	}
	le := binary.LittleEndian
	if le.Uint32(fixed) != 0x04034b50 {
		return h, fmt.Errorf("no local header at %d", off)
	}
	nameLen, extraLen := int64(le.Uint16(fixed[26:])), int64(le.Uint16(fixed[28:]))
	rest, err := readAt(r, off+30, nameLen+extraLen)
	if err != nil {
		return h, err
	}
	return localHeader{
		flags: le.Uint16(fixed[6:]), crc: le.Uint32(fixed[14:]),
		csize: le.Uint32(fixed[18:]), usize: le.Uint32(fixed[22:]),
		name: string(rest[:nameLen]), extra: rest[nameLen:],
		dataOffset: off + 30 + nameLen + extraLen,
	}, nil
}

// findExtra returns the data of the extra field with the given id.
func findExtra(extra []byte, id uint16) []byte {
	for len(extra) >= 4 {
		fid, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if len(extra) < 4+n {
			return nil
		}
		if fid == id {
			return extra[4 : 4+n]
		}
		extra = extra[4+n:]
	}
	return nil
}
