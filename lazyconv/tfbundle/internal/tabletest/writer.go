// Package tabletest writes TensorFlow table files for tests: valid ones with
// chosen block sizes, restart intervals and compression, and the pieces to
// assemble deliberately broken ones. Only tests import it.
package tabletest

import (
	"encoding/binary"

	"github.com/klauspost/compress/snappy"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/internal/crc32c"
)

// KV is one record to write.
type KV struct {
	Key, Value []byte
}

// Block compression types.
const (
	Raw    byte = 0
	Snappy byte = 1
)

// Options shape the table Write produces.
type Options struct {
	BlockEntries    int  // records per data block; 0 means all in one block
	RestartInterval int  // records between restart points; 0 means 16
	Snappy          bool // Snappy-compress every block, even if it grows
}

// Write returns a table holding kvs in the given order (unsorted input makes
// an unsorted, hence corrupt, table). Each index key is the last key of its
// data block.
func Write(kvs []KV, opts Options) []byte {
	per := opts.BlockEntries
	if per <= 0 {
		per = max(len(kvs), 1)
	}
	restart := opts.RestartInterval
	if restart <= 0 {
		restart = 16
	}
	compression := Raw
	if opts.Snappy {
		compression = Snappy
	}
	var f File
	var index []KV
	for start := 0; start < len(kvs); start += per {
		block := kvs[start:min(start+per, len(kvs))]
		h := f.AppendBlock(BuildBlock(block, restart), compression)
		index = append(index, KV{Key: block[len(block)-1].Key, Value: EncodeHandle(h)})
	}
	meta := f.AppendBlock(BuildBlock(nil, 1), compression)
	idx := f.AppendBlock(BuildBlock(index, 1), compression)
	return f.Finish(meta, idx)
}

// BuildBlock encodes records as an uncompressed block with prefix-compressed
// keys and a restart point every restartInterval records.
func BuildBlock(kvs []KV, restartInterval int) []byte {
	var b []byte
	restarts := []uint32{0}
	var prev []byte
	for i, kv := range kvs {
		shared := 0
		if i%restartInterval == 0 {
			if i > 0 {
				restarts = append(restarts, uint32(len(b)))
			}
		} else {
			for shared < len(prev) && shared < len(kv.Key) && prev[shared] == kv.Key[shared] {
				shared++
			}
		}
		b = binary.AppendUvarint(b, uint64(shared))
		b = binary.AppendUvarint(b, uint64(len(kv.Key)-shared))
		b = binary.AppendUvarint(b, uint64(len(kv.Value)))
		b = append(b, kv.Key[shared:]...)
		b = append(b, kv.Value...)
		prev = kv.Key
	}
	return AppendRestarts(b, restarts)
}

// AppendRestarts appends a restart array and its length to block entries.
func AppendRestarts(entries []byte, restarts []uint32) []byte {
	for _, r := range restarts {
		entries = binary.LittleEndian.AppendUint32(entries, r)
	}
	return binary.LittleEndian.AppendUint32(entries, uint32(len(restarts)))
}

// Handle locates a written block (size excludes the trailer).
type Handle struct {
	Offset, Size uint64
}

// EncodeHandle is a handle's on-disk form: two varints.
func EncodeHandle(h Handle) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, h.Offset), h.Size)
}

// File accumulates the bytes of a table.
type File struct {
	Bytes []byte
}

// AppendBlock writes contents as a block of the given compression type (any
// byte; types other than Snappy are stored as is) with a valid trailer.
func (f *File) AppendBlock(contents []byte, compression byte) Handle {
	stored := contents
	if compression == Snappy {
		stored = snappy.Encode(nil, contents)
	}
	h := Handle{Offset: uint64(len(f.Bytes)), Size: uint64(len(stored))}
	f.Bytes = append(f.Bytes, stored...)
	f.Bytes = append(f.Bytes, compression)
	crc := crc32c.Mask(crc32c.Value(f.Bytes[h.Offset:]))
	f.Bytes = binary.LittleEndian.AppendUint32(f.Bytes, crc)
	return h
}

// Finish appends the 48-byte footer and returns the whole file.
func (f *File) Finish(metaindex, index Handle) []byte {
	return append(f.Bytes, Footer(metaindex, index)...)
}

// Footer encodes a footer: both handles, zero padding to 40 bytes, magic.
func Footer(metaindex, index Handle) []byte {
	b := append(EncodeHandle(metaindex), EncodeHandle(index)...)
	b = append(b, make([]byte, 40-len(b))...)
	return binary.LittleEndian.AppendUint64(b, 0xdb4775248b80fb57)
}
