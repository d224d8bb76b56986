package torchpickle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// maxPickle bounds data.pkl: a state dict's pickle is metadata, megabytes at
// most even with a large vocabulary.
const maxPickle = 1 << 30

// readZip reads a torch >= 1.6 archive: records <archive>/data.pkl,
// <archive>/byteorder and <archive>/data/<storage key>, all stored
// uncompressed. Only the central directory, the local headers and data.pkl
// are read; zip CRCs cover whole records and are left alone.
func readZip(path string, r io.ReaderAt, size int64) (any, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable zip archive (truncated?): %w", path, err)
	}
	if len(zr.File) == 0 {
		return nil, fmt.Errorf("%s: empty zip archive", path)
	}
	prefix, _, ok := strings.Cut(zr.File[0].Name, "/")
	if !ok {
		return nil, fmt.Errorf("%s: record %s is not inside an archive folder", path, zr.File[0].Name)
	}
	records := map[string]*zip.File{}
	for _, zf := range zr.File {
		records[zf.Name] = zf
	}
	pkl, ok := records[prefix+"/data.pkl"]
	if !ok {
		return nil, fmt.Errorf("%s: no %s/data.pkl record: not a torch.save archive", path, prefix)
	}
	if bo, ok := records[prefix+"/byteorder"]; ok {
		order, err := readStored(path, r, size, bo, 16)
		if err != nil {
			return nil, err
		}
		if string(order) != "little" {
			return nil, fmt.Errorf("%s: unsupported: byte order %q", path, order)
		}
	}
	data, err := readStored(path, r, size, pkl, maxPickle)
	if err != nil {
		return nil, err
	}
	n, err := pickleLength(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", path, pkl.Name, err)
	}
	u := newUnpickling(path, false)
	root, err := u.load(data[:n])
	if err != nil {
		return nil, err
	}
	for _, s := range u.order {
		rec, ok := records[prefix+"/data/"+s.Key]
		if !ok {
			return nil, fmt.Errorf("%s: storage %s: no record %s/data/%s", path, s.Key, prefix, s.Key)
		}
		off, length, err := storedExtent(path, rec, size)
		if err != nil {
			return nil, err
		}
		if s.Numel > length/int64(s.DType.Size()) {
			return nil, fmt.Errorf("%s: storage %s: record %s holds %d bytes, %d %s elements need %d",
				path, s.Key, rec.Name, length, s.Numel, s.DType, s.Numel*int64(s.DType.Size()))
		}
		s.Offset = off
	}
	return root, nil
}

// storedExtent is where an uncompressed record's bytes lie in the file.
func storedExtent(path string, rec *zip.File, size int64) (int64, int64, error) {
	if rec.Method != zip.Store {
		return 0, 0, fmt.Errorf("%s: unsupported: record %s is compressed (method %d)", path, rec.Name, rec.Method)
	}
	off, err := rec.DataOffset()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: record %s: %w", path, rec.Name, err)
	}
	length := rec.UncompressedSize64
	if off < 0 || length > uint64(size) || off > size-int64(length) {
		return 0, 0, fmt.Errorf("%s: truncated: record %s (%d bytes at %d) ends past the file's %d bytes", path, rec.Name, length, off, size)
	}
	return off, int64(length), nil
}

func readStored(path string, r io.ReaderAt, size int64, rec *zip.File, limit int64) ([]byte, error) {
	off, length, err := storedExtent(path, rec, size)
	if err != nil {
		return nil, err
	}
	if length > limit {
		return nil, fmt.Errorf("%s: record %s has %d bytes, more than the %d expected", path, rec.Name, length, limit)
	}
	buf := make([]byte, length)
	if _, err := r.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("%s: record %s: %w", path, rec.Name, err)
	}
	return buf, nil
}
