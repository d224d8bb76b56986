// Package torchpickle reads files written by torch.save, in both of its
// formats, without reading tensor data: the zip archive of torch >= 1.6
// (data.pkl plus one record per storage) and the legacy stream of earlier
// releases (a few header pickles, the object pickle, the storage keys, then
// the storages back to back). The object pickle is decoded by gopickle with
// an allow-list of globals, so nothing in a checkpoint is ever run; each
// tensor becomes a description of where its bytes lie.
package torchpickle

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Format is a torch.save serialization format.
type Format string

// The formats torch.save has written.
const (
	Zip    Format = "zip"
	Legacy Format = "legacy"
)

// File is an opened torch.save file.
type File struct {
	Path   string
	Format Format
	// Root is the saved object, converted as documented in value.go;
	// tensors in it are *Tensor values pointing into the file.
	Root any
}

// Open reads the metadata of a torch.save file: its pickles and where each
// storage lies. No tensor byte is read.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var head [4]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("%s: not a torch.save file: %d bytes", path, fi.Size())
	}
	switch {
	case bytes.Equal(head[:], []byte("PK\x03\x04")):
		root, err := readZip(path, f, fi.Size())
		if err != nil {
			return nil, err
		}
		return &File{Path: path, Format: Zip, Root: root}, nil
	case head[0] == 0x80: // a pickle PROTO opcode: the legacy stream
		root, err := readLegacy(path, f, fi.Size())
		if err != nil {
			return nil, err
		}
		return &File{Path: path, Format: Legacy, Root: root}, nil
	}
	if isTar(f) {
		return nil, fmt.Errorf("%s: unsupported: the tar format of torch < 0.4", path)
	}
	return nil, fmt.Errorf("%s: not a torch.save file (neither a zip archive nor a pickle)", path)
}

func isTar(r io.ReaderAt) bool {
	var magic [5]byte
	_, err := r.ReadAt(magic[:], 257)
	return err == nil && string(magic[:]) == "ustar"
}
