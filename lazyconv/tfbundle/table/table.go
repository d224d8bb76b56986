// Package table reads TensorFlow's "table" files: the LevelDB-style sorted
// string tables that hold a checkpoint's `.index` (and all of a V1
// checkpoint). The layout is described in the project notes, formats.md §1.4.
package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Entry is one key/value record of a table.
type Entry struct {
	Key, Value []byte
}

// ErrCorrupt is wrapped by every error about the content of a table.
var ErrCorrupt = errors.New("corrupt TensorFlow table")

// ReadAll returns every entry of the table file at path, in file order (which
// is strictly increasing key order; anything else is reported as corrupt).
func ReadAll(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Read(f, st.Size(), path)
}

// Read is ReadAll for a table of size bytes held by r; name is used in
// error messages.
func Read(r io.ReaderAt, size int64, name string) ([]Entry, error) {
	t := &reader{r: r, size: size, name: name}
	f, err := t.readFooter()
	if err != nil {
		return nil, err
	}
	index, err := t.readBlock(f.index, "index block")
	if err != nil {
		return nil, err
	}
	separators, err := parseBlock(index)
	if err != nil {
		return nil, t.corrupt("index block at offset %d: %v", f.index.offset, err)
	}
	var entries []Entry
	for i, sep := range separators {
		// Index values may carry bytes after the handle; TF ignores them.
		h, _, err := decodeHandle(sep.Value)
		if err != nil {
			return nil, t.corrupt("index entry %q: %v", sep.Key, err)
		}
		data, err := t.readBlock(h, "data block")
		if err != nil {
			return nil, err
		}
		block, err := parseBlock(data)
		if err != nil {
			return nil, t.corrupt("data block at offset %d: %v", h.offset, err)
		}
		if err := t.checkBlockOrder(entries, block, separators[:i+1]); err != nil {
			return nil, err
		}
		entries = append(entries, block...)
	}
	return entries, nil
}

// checkBlockOrder checks that a data block continues the key order of the
// blocks before it and lies between the previous index key (exclusive) and
// its own (inclusive), as TF's lookups assume. separators ends with the
// block's own index entry.
func (t *reader) checkBlockOrder(before, block, separators []Entry) error {
	if len(block) == 0 {
		return nil
	}
	first, last := block[0].Key, block[len(block)-1].Key
	separator := separators[len(separators)-1].Key
	if len(before) > 0 {
		prev := before[len(before)-1].Key
		if c := bytes.Compare(prev, first); c == 0 {
			return t.corrupt("duplicate key %q", first)
		} else if c > 0 {
			return t.corrupt("keys %q and %q are not in increasing order", prev, first)
		}
	}
	if n := len(separators); n > 1 {
		if prevSeparator := separators[n-2].Key; bytes.Compare(prevSeparator, first) >= 0 {
			return t.corrupt("data block's first key %q is not after the previous index key %q", first, prevSeparator)
		}
	}
	if bytes.Compare(separator, last) < 0 {
		return t.corrupt("index key %q sorts before its data block's last key %q", separator, last)
	}
	return nil
}

// reader reads the blocks of one table.
type reader struct {
	r    io.ReaderAt
	size int64
	name string
}

func (t *reader) corrupt(format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", t.name, ErrCorrupt, fmt.Sprintf(format, args...))
}
