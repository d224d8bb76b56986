package layout

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/ckptfs/ckptfs/lazyconv/index"
)

// Zip constants of the archive torch.save writes with PyTorch's patched miniz
// (stored records, zip64 mode always on).
const (
	// storageAlignment is where every record's data starts: a multiple of 64
	// bytes, padded with a private "FB" extra field.
	storageAlignment = 64
	// zip64Limit: a size or local-header offset at or above it moves to a
	// zip64 extra field (miniz compares with >=, and torch's offset
	// calculation copies that).
	zip64Limit = math.MaxUint32

	localHeaderLen   = 30
	centralHeaderLen = 46
	flagDescriptor   = 0x0008 // sizes and CRC follow the data
	flagUTF8         = 0x0800
	zip64ExtraID     = 0x0001
	zip64MadeBy      = 0x031e // what miniz writes in the zip64 end record
	zip64Needed      = 0x002d
)

// zipRecord is a written record, remembered for the central directory.
type zipRecord struct {
	name   string // full name, archive folder included
	offset int64  // of the local header
	size   int64
	crc    uint32
}

func (r zipRecord) zip64() bool { return r.size >= zip64Limit || r.offset >= zip64Limit }

// zipWriter lays out a zip archive exactly as torch.save does, appending to a
// plan. No timestamps are recorded (torch's miniz writes DOS time and date
// 0), so the bytes depend on the contents alone.
type zipWriter struct {
	b       *index.Builder
	records []zipRecord
}

// literal adds a record held in memory, with its real CRC-32.
func (w *zipWriter) literal(name string, data []byte) error {
	return w.record(name, int64(len(data)), crc32.ChecksumIEEE(data), func() { w.b.Literal(data) })
}

// tensor adds a record holding tensor i's bytes. Its CRC-32 is recorded as 0,
// as torch.save writes every record after set_crc32_options(False): the
// header must be known before any tensor byte is read, and torch.load never
// checks it (PyTorch builds miniz with MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS,
// and the mmap path locates data through the local header alone; torch 2.15
// loads such files plainly, with mmap, and with calculated storage offsets).
// Generic zip tools that verify CRCs (Python's zipfile, Go's archive/zip)
// reject these records when reading them.
func (w *zipWriter) tensor(name string, i int, size int64) error {
	return w.record(name, size, 0, func() { w.b.Tensor(i) })
}

func (w *zipWriter) record(name string, size int64, crc uint32, writeData func()) error {
	if len(name) > math.MaxUint16 {
		return fmt.Errorf("zip: record name of %d bytes is too long", len(name))
	}
	r := zipRecord{name: name, offset: w.b.Offset(), size: size, crc: crc}
	if size < 0 || size > math.MaxInt64/2-r.offset {
		return fmt.Errorf("zip: record %s of %d bytes at offset %d is too large", name, size, r.offset)
	}

	var z64 []byte // local zip64 extra: miniz leaves the compressed size 0 here
	if r.zip64() {
		var fields []byte
		if size >= zip64Limit {
			fields = binary.LittleEndian.AppendUint64(fields, uint64(size))
			fields = binary.LittleEndian.AppendUint64(fields, 0)
		}
		if r.offset >= zip64Limit {
			fields = binary.LittleEndian.AppendUint64(fields, uint64(r.offset))
		}
		z64 = extraField(zip64ExtraID, fields)
	}
	dataStart := r.offset + localHeaderLen + int64(len(name)+len(z64)) + 4
	pad := int((storageAlignment - dataStart%storageAlignment) % storageAlignment)

	h := make([]byte, 0, localHeaderLen+len(name)+len(z64)+4+pad)
	h = binary.LittleEndian.AppendUint32(h, 0x04034b50)
	h = binary.LittleEndian.AppendUint16(h, 0) // version needed
	h = binary.LittleEndian.AppendUint16(h, flags(size))
	h = binary.LittleEndian.AppendUint16(h, 0) // stored
	h = binary.LittleEndian.AppendUint16(h, 0) // DOS time
	h = binary.LittleEndian.AppendUint16(h, 0) // DOS date
	h = binary.LittleEndian.AppendUint32(h, 0) // CRC-32, sizes: in the descriptor
	h = binary.LittleEndian.AppendUint32(h, 0)
	h = binary.LittleEndian.AppendUint32(h, 0)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(name)))
	h = binary.LittleEndian.AppendUint16(h, uint16(len(z64)+4+pad))
	h = append(h, name...)
	h = append(h, z64...)
	h = append(h, 'F', 'B')
	h = binary.LittleEndian.AppendUint16(h, uint16(pad))
	for range pad {
		h = append(h, 'Z')
	}
	w.b.Literal(h)
	writeData()

	if size > 0 { // miniz writes no descriptor for an empty record
		d := binary.LittleEndian.AppendUint32(nil, 0x08074b50)
		d = binary.LittleEndian.AppendUint32(d, crc)
		if r.zip64() {
			d = binary.LittleEndian.AppendUint64(d, uint64(size))
			d = binary.LittleEndian.AppendUint64(d, uint64(size))
		} else {
			d = binary.LittleEndian.AppendUint32(d, uint32(size))
			d = binary.LittleEndian.AppendUint32(d, uint32(size))
		}
		w.b.Literal(d)
	}
	w.records = append(w.records, r)
	return nil
}

// finish writes the central directory and the three end records miniz
// writes in zip64 mode.
func (w *zipWriter) finish() error {
	cdOffset := w.b.Offset()
	var cd []byte
	for _, r := range w.records {
		var z64 []byte
		if r.zip64() {
			var fields []byte
			if r.size >= zip64Limit {
				fields = binary.LittleEndian.AppendUint64(fields, uint64(r.size)) // uncompressed
				fields = binary.LittleEndian.AppendUint64(fields, uint64(r.size)) // compressed
			}
			if r.offset >= zip64Limit {
				fields = binary.LittleEndian.AppendUint64(fields, uint64(r.offset))
			}
			z64 = extraField(zip64ExtraID, fields)
		}
		cd = binary.LittleEndian.AppendUint32(cd, 0x02014b50)
		cd = binary.LittleEndian.AppendUint16(cd, 0) // version made by
		cd = binary.LittleEndian.AppendUint16(cd, 0) // version needed
		cd = binary.LittleEndian.AppendUint16(cd, flags(r.size))
		cd = binary.LittleEndian.AppendUint16(cd, 0) // stored
		cd = binary.LittleEndian.AppendUint16(cd, 0) // DOS time
		cd = binary.LittleEndian.AppendUint16(cd, 0) // DOS date
		cd = binary.LittleEndian.AppendUint32(cd, r.crc)
		cd = binary.LittleEndian.AppendUint32(cd, saturate32(r.size))
		cd = binary.LittleEndian.AppendUint32(cd, saturate32(r.size))
		cd = binary.LittleEndian.AppendUint16(cd, uint16(len(r.name)))
		cd = binary.LittleEndian.AppendUint16(cd, uint16(len(z64)))
		cd = binary.LittleEndian.AppendUint16(cd, 0) // comment length
		cd = binary.LittleEndian.AppendUint16(cd, 0) // disk
		cd = binary.LittleEndian.AppendUint16(cd, 0) // internal attributes
		cd = binary.LittleEndian.AppendUint32(cd, 0) // external attributes
		cd = binary.LittleEndian.AppendUint32(cd, saturate32(r.offset))
		cd = append(cd, r.name...)
		cd = append(cd, z64...)
	}
	if len(cd) >= zip64Limit {
		return fmt.Errorf("zip: central directory of %d bytes is larger than miniz supports", len(cd))
	}
	n, cdSize := uint64(len(w.records)), int64(len(cd))
	end64Offset := cdOffset + cdSize

	e := cd
	e = binary.LittleEndian.AppendUint32(e, 0x06064b50) // zip64 end of central directory
	e = binary.LittleEndian.AppendUint64(e, 44)         // size of the rest of this record
	e = binary.LittleEndian.AppendUint16(e, zip64MadeBy)
	e = binary.LittleEndian.AppendUint16(e, zip64Needed)
	e = binary.LittleEndian.AppendUint32(e, 0) // this disk
	e = binary.LittleEndian.AppendUint32(e, 0) // disk holding the directory
	e = binary.LittleEndian.AppendUint64(e, n)
	e = binary.LittleEndian.AppendUint64(e, n)
	e = binary.LittleEndian.AppendUint64(e, uint64(cdSize))
	e = binary.LittleEndian.AppendUint64(e, uint64(cdOffset))

	e = binary.LittleEndian.AppendUint32(e, 0x07064b50) // zip64 end locator
	e = binary.LittleEndian.AppendUint32(e, 0)
	e = binary.LittleEndian.AppendUint64(e, uint64(end64Offset))
	e = binary.LittleEndian.AppendUint32(e, 1) // total disks

	e = binary.LittleEndian.AppendUint32(e, 0x06054b50) // end of central directory
	e = binary.LittleEndian.AppendUint16(e, 0)
	e = binary.LittleEndian.AppendUint16(e, 0)
	e = binary.LittleEndian.AppendUint16(e, uint16(min(n, math.MaxUint16)))
	e = binary.LittleEndian.AppendUint16(e, uint16(min(n, math.MaxUint16)))
	e = binary.LittleEndian.AppendUint32(e, saturate32(cdSize))
	e = binary.LittleEndian.AppendUint32(e, saturate32(cdOffset))
	e = binary.LittleEndian.AppendUint16(e, 0) // comment length
	w.b.Literal(e)
	return nil
}

// flags: miniz announces a data descriptor only when there is data.
func flags(size int64) uint16 {
	if size > 0 {
		return flagUTF8 | flagDescriptor
	}
	return flagUTF8
}

func saturate32(v int64) uint32 { return uint32(min(v, zip64Limit)) }

func extraField(id uint16, data []byte) []byte {
	f := binary.LittleEndian.AppendUint16(nil, id)
	f = binary.LittleEndian.AppendUint16(f, uint16(len(data)))
	return append(f, data...)
}
