package index

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Sources reads the source tensors of one model. It keeps each source file
// open once, and verifies each tensor's recorded checksum the first time any
// of its bytes is asked for, so no unverified byte is ever served.
type Sources struct {
	mu       sync.Mutex
	files    map[string]*os.File
	verified map[*tensor.Source]*verification
}

type verification struct {
	once sync.Once
	err  error
}

// NewSources makes an empty set; files are opened on first use.
func NewSources() *Sources {
	return &Sources{files: map[string]*os.File{}, verified: map[*tensor.Source]*verification{}}
}

// Close closes every open source file.
func (s *Sources) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for path, f := range s.files {
		errs = append(errs, f.Close())
		delete(s.files, path)
	}
	return errors.Join(errs...)
}

func (s *Sources) file(path string) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.files[path]; ok {
		return f, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s.files[path] = f
	return f, nil
}

// ReadAt fills p with the source tensor's bytes starting at off, after the
// tensor's checksum has been verified. Reading past the tensor is an error.
func (s *Sources) ReadAt(src *tensor.Source, p []byte, off int64) error {
	if err := s.verify(src); err != nil {
		return err
	}
	return s.readRaw(src, p, off)
}

func (s *Sources) readRaw(src *tensor.Source, p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > src.Bytes() {
		return fmt.Errorf("%s: tensor %s: read [%d, %d) outside its %d bytes", src.File, src.Name, off, off+int64(len(p)), src.Bytes())
	}
	for _, e := range src.Extents {
		if len(p) == 0 {
			break
		}
		if off >= e.Length {
			off -= e.Length
			continue
		}
		n := min(int64(len(p)), e.Length-off)
		f, err := s.file(e.Path)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", src.Name, err)
		}
		if _, err := f.ReadAt(p[:n], e.Offset+off); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%s: tensor %s: file ends before the tensor's bytes do", e.Path, src.Name)
			}
			return fmt.Errorf("tensor %s: %w", src.Name, err)
		}
		p = p[n:]
		off = 0
	}
	return nil
}

// verify checks the tensor's recorded CRC32C once; the result, good or bad,
// is remembered for the life of the set. A slice is verified through the
// stored tensor it is part of.
func (s *Sources) verify(src *tensor.Source) error {
	if src.Parent != nil {
		return s.verify(src.Parent)
	}
	if !src.HasCRC {
		return nil
	}
	s.mu.Lock()
	v, ok := s.verified[src]
	if !ok {
		v = &verification{}
		s.verified[src] = v
	}
	s.mu.Unlock()
	v.once.Do(func() { v.err = s.checkCRC(src) })
	return v.err
}

func (s *Sources) checkCRC(src *tensor.Source) error {
	const piece = 1 << 20
	buf := make([]byte, min(piece, src.Bytes()))
	var crc uint32
	for off := int64(0); off < src.Bytes(); {
		n := min(int64(len(buf)), src.Bytes()-off)
		if err := s.readRaw(src, buf[:n], off); err != nil {
			return err
		}
		crc = crc32.Update(crc, castagnoli, buf[:n])
		off += n
	}
	if got := maskCRC(crc); got != src.CRC32C {
		return fmt.Errorf("%s: tensor %s: checksum mismatch (CRC32C recorded %#08x, data has %#08x)", src.File, src.Name, src.CRC32C, got)
	}
	return nil
}

// maskCRC applies TensorFlow's checksum masking (rotate right by 15, add a
// constant), the form in which bundles record CRC32C values.
func maskCRC(c uint32) uint32 { return (c>>15 | c<<17) + 0xa282ead8 }
