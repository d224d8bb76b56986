package index

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// readRows fills p with the source tensor's bytes from off. When whole is
// set, p is the entire tensor and, if its checksum has not been verified
// yet, it is verified on p itself, sparing a second read of the tensor.
func (s *Sources) readRows(src *tensor.Source, p []byte, off int64, whole bool) error {
	if !whole || src.Parent != nil || !src.HasCRC {
		return s.ReadAt(src, p, off)
	}
	if err := s.readRaw(src, p, 0); err != nil {
		return err
	}
	v := s.verification(src)
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.done { // all bytes were read: a verdict
		v.done, v.err = true, checkBytes(src, p)
	}
	return v.err
}

// readStrip reads, from source rows [i0, i1) of a row-major source of
// rowBytes per row, the width bytes starting at col, packed into p. With a
// scratch buffer for (i1-i0) whole rows it reads them in one go and cuts
// the strip out; without, it reads each row's piece. The caller has
// verified the tensor's checksum.
func (s *Sources) readStrip(src *tensor.Source, p, rows []byte, i0, i1, rowBytes, col, width int64) error {
	if rows != nil {
		rows = rows[:(i1-i0)*rowBytes]
		if err := s.readRaw(src, rows, i0*rowBytes); err != nil {
			return err
		}
		for i := int64(0); i < i1-i0; i++ {
			copy(p[i*width:(i+1)*width], rows[i*rowBytes+col:])
		}
		return nil
	}
	for i := i0; i < i1; i++ {
		if err := s.readRaw(src, p[(i-i0)*width:(i-i0+1)*width], i*rowBytes+col); err != nil {
			return err
		}
	}
	return nil
}

// verification is the record of src's checksum check, made on first use.
func (s *Sources) verification(src *tensor.Source) *verification {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verified[src]
	if !ok {
		v = &verification{}
		s.verified[src] = v
	}
	return v
}

// checkBytes compares the checksum of a whole tensor's bytes with the one
// its index records.
func checkBytes(src *tensor.Source, data []byte) error {
	if got := tfbundle.MaskedCRC32C(data); got != src.CRC32C {
		return fmt.Errorf("%s: tensor %s: checksum mismatch (CRC32C recorded %#08x, data has %#08x)", src.File, src.Name, src.CRC32C, got)
	}
	return nil
}
