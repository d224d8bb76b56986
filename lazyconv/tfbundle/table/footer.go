package table

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

const (
	footerLen = 48
	// magic is kTableMagicNumber, stored as the footer's last 8 bytes.
	magic = 0xdb4775248b80fb57
	// handlesLen is the footer's room for two maximal block handles.
	handlesLen = 40
)

// ErrNotTable is wrapped when a file is too short or lacks the table magic.
var ErrNotTable = errors.New("not a TensorFlow table")

// footer holds the two block handles at the end of a table.
type footer struct {
	metaindex, index blockHandle
}

func (t *reader) readFooter() (footer, error) {
	if t.size < footerLen {
		return footer{}, fmt.Errorf("%s: %w: file is %d bytes, shorter than the %d-byte footer", t.name, ErrNotTable, t.size, footerLen)
	}
	buf := make([]byte, footerLen)
	if err := readFull(t.r, buf, t.size-footerLen); err != nil {
		return footer{}, fmt.Errorf("%s: reading table footer: %w", t.name, err)
	}
	if binary.LittleEndian.Uint64(buf[handlesLen:]) != magic {
		return footer{}, fmt.Errorf("%s: %w: bad magic number", t.name, ErrNotTable)
	}
	// The metaindex block is never needed (TF writes it empty), but its
	// handle must decode to find where the index handle starts.
	var f footer
	meta, n, err := decodeHandle(buf[:handlesLen])
	if err != nil {
		return footer{}, t.corrupt("footer metaindex handle: %v", err)
	}
	f.metaindex = meta
	if f.index, _, err = decodeHandle(buf[n:handlesLen]); err != nil {
		return footer{}, t.corrupt("footer index handle: %v", err)
	}
	return f, nil
}

// HasMagic reports whether the file at path ends with the table magic
// number, which is how a V1 checkpoint (a single table file) is recognised.
func HasMagic(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() || st.Size() < footerLen {
		return false, nil
	}
	var tail [8]byte
	if err := readFull(f, tail[:], st.Size()-8); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	var want [8]byte
	binary.LittleEndian.PutUint64(want[:], magic)
	return bytes.Equal(tail[:], want[:]), nil
}

// readFull reads exactly len(buf) bytes at off; io.ReaderAt may report
// io.EOF together with a full read at the end of a file.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
