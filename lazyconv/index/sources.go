package index

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Sources reads the source tensors of one model. It keeps each source file
// open once, and verifies each tensor's recorded checksum the first time any
// of its bytes is asked for, so no unverified byte is ever served.
//
// A file, once open, is pinned: a file replaced by rename does not affect
// it. After every read the file's state is checked again, so bytes of a file
// rewritten in place or truncated are never served as if they were the
// version the model was planned from.
type Sources struct {
	opener Opener
	expect map[string]FileState // state each file must have, if known
	sleep  func(time.Duration)

	mu       sync.Mutex
	closed   bool
	files    map[string]*openSource
	verified map[*tensor.Source]*verification
}

type openSource struct {
	f     File
	state FileState // as opened; the file must keep it
}

// verification is the checksum verdict of one stored tensor. Only a read of
// all its bytes gives a verdict: a read that failed leaves it undecided.
type verification struct {
	mu   sync.Mutex
	done bool
	err  error
}

// NewSources reads from the local file system; files are opened on first
// use.
func NewSources() *Sources { return NewSourcesFrom(OSOpener{}, nil) }

// NewSourcesFrom reads through opener. expect, if not nil, gives the state
// (as StateOf reports it) each source file had when the model was planned;
// a file found in another state is reported as changed, never read.
func NewSourcesFrom(opener Opener, expect map[string]FileState) *Sources {
	pinned := map[string]FileState{}
	for p, st := range expect {
		pinned[p] = st
	}
	return &Sources{
		opener: opener, expect: pinned, sleep: time.Sleep,
		files: map[string]*openSource{}, verified: map[*tensor.Source]*verification{},
	}
}

// Close closes every open source file; later reads fail.
func (s *Sources) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for path, sf := range s.files {
		errs = append(errs, sf.f.Close())
		delete(s.files, path)
	}
	return errors.Join(errs...)
}

// Pin opens every given file now, so later reads see these versions of
// them even if they are replaced by rename in the meantime.
func (s *Sources) Pin(paths ...string) error {
	for _, p := range paths {
		err := s.withRetries(p, "", func() error {
			_, err := s.file(p)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ErrChanged reports a source file that is no longer the version the model
// was planned from.
var ErrChanged = errors.New("changed since the model was loaded")

// file returns the open source file path, opening it if needed. The open
// happens outside the set's lock: a hung NFS open must not stall reads of
// files already open.
func (s *Sources) file(path string) (*openSource, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("source files closed")
	}
	if sf, ok := s.files[path]; ok {
		s.mu.Unlock()
		return sf, nil
	}
	want, known := s.expect[path]
	s.mu.Unlock()

	f, err := s.opener.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	state := StateOf(fi)
	if known && state != want {
		f.Close()
		return nil, ErrChanged
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		f.Close()
		return nil, errors.New("source files closed")
	}
	if sf, ok := s.files[path]; ok { // opened meanwhile by another read
		f.Close()
		return sf, nil
	}
	if want, ok := s.expect[path]; ok && state != want {
		f.Close()
		return nil, ErrChanged
	}
	s.expect[path] = state // a reopened file must be the same version
	sf := &openSource{f: f, state: state}
	s.files[path] = sf
	return sf, nil
}

// drop forgets sf, a dead handle, so the next read reopens the file.
func (s *Sources) drop(path string, sf *openSource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files[path] == sf {
		delete(s.files, path)
		sf.f.Close()
	}
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
		if err := s.readExtent(e.Path, src.Name, p[:n], e.Offset+off); err != nil {
			return err
		}
		p = p[n:]
		off = 0
	}
	return nil
}

// readExtent reads p at off of one file.
func (s *Sources) readExtent(path, tensorName string, p []byte, off int64) error {
	return s.withRetries(path, tensorName, func() error { return s.readOnce(path, p, off) })
}

// withRetries runs op, an open or read of path, again after a transient
// failure, with a doubling back-off; a handle that went stale has been
// dropped by then, so the next attempt reopens the file.
func (s *Sources) withRetries(path, tensorName string, op func() error) error {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if errors.Is(err, io.EOF) {
			return &ReadError{Path: path, Tensor: tensorName, Attempts: attempt, Err: errors.New("file ends before the tensor's bytes do")}
		}
		if !Transient(err) || attempt == readAttempts {
			return &ReadError{Path: path, Tensor: tensorName, Attempts: attempt, Err: err}
		}
		s.sleep(backoff)
		backoff *= 2
	}
}

// readOnce makes one attempt. A read that succeeded is checked against the
// file's state afterwards: if the file changed meanwhile, its bytes may be
// a mix of two versions and are not used.
func (s *Sources) readOnce(path string, p []byte, off int64) error {
	sf, err := s.file(path)
	if err != nil {
		return err
	}
	_, err = sf.f.ReadAt(p, off)
	if needsReopen(err) {
		s.drop(path, sf)
		return err
	}
	if cerr := s.unchanged(sf); cerr != nil {
		return cerr
	}
	return err
}

// unchanged checks that an open file still has the state it was opened in.
func (s *Sources) unchanged(sf *openSource) error {
	fi, err := sf.f.Stat()
	if err != nil {
		return err
	}
	if StateOf(fi) != sf.state {
		return ErrChanged
	}
	return nil
}

// verify checks the tensor's recorded CRC32C. A verdict (match or
// mismatch) is remembered for the life of the set; a read that failed is
// not a verdict, and the next read tries again. A slice is verified through
// the stored tensor it is part of.
func (s *Sources) verify(src *tensor.Source) error {
	if src.Parent != nil {
		return s.verify(src.Parent)
	}
	if !src.HasCRC {
		return nil
	}
	v := s.verification(src)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done {
		return v.err
	}
	complete, err := s.checkCRC(src)
	if complete {
		v.done, v.err = true, err
	}
	return err
}

// checkCRC reads every byte of src and compares its checksum; complete says
// whether all bytes could be read, that is whether err is a verdict.
func (s *Sources) checkCRC(src *tensor.Source) (complete bool, err error) {
	const piece = 1 << 20
	buf := make([]byte, min(piece, src.Bytes()))
	var crc uint32
	for off := int64(0); off < src.Bytes(); {
		n := min(int64(len(buf)), src.Bytes()-off)
		if err := s.readRaw(src, buf[:n], off); err != nil {
			return false, err
		}
		crc = tfbundle.ExtendCRC32C(crc, buf[:n])
		off += n
	}
	if got := tfbundle.Mask(crc); got != src.CRC32C {
		return true, fmt.Errorf("%s: tensor %s: checksum mismatch (CRC32C recorded %#08x, data has %#08x)", src.File, src.Name, src.CRC32C, got)
	}
	return true, nil
}
