package fusefs

import (
	"os"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ckptfs/ckptfs/lazyconv/index"
)

// directResult answers a read without copying it when it can: a read
// within one verified source run with the source file's range itself (go-fuse
// splices it into the kernel), a read within one converted chunk or header
// with the cached bytes. ok is false when the read needs assembling.
func directResult(r *index.Reader, n int, off int64) (res fuse.ReadResult, ok bool, err error) {
	f, fileOff, size, ok, err := r.SourceSpan(off, n)
	if ok || err != nil {
		if err != nil {
			return nil, false, err
		}
		return &splicedRead{file: f, fileOff: fileOff, size: size, reader: r, off: off}, true, nil
	}
	b, ok, err := r.Bytes(off, n)
	if !ok || err != nil {
		return nil, false, err
	}
	return fuse.ReadResultData(b), true, nil
}

// splicedRead is a source range go-fuse splices into the kernel from a
// descriptor of its own, closed once the reply is sent. If splicing fails,
// the bytes are read through the reader, with its retries, rather than by
// a bare pread.
type splicedRead struct {
	file    *os.File
	fileOff int64
	size    int
	reader  *index.Reader
	off     int64 // in the virtual file
}

// Seekable is what go-fuse splices from.
func (s *splicedRead) Seekable() (fd uintptr, off int64, size int) {
	return s.file.Fd(), s.fileOff, s.size
}

func (s *splicedRead) Size() int { return s.size }

func (s *splicedRead) Bytes(buf []byte) ([]byte, fuse.Status) {
	if len(buf) < s.size {
		buf = make([]byte, s.size)
	}
	n, err := s.reader.ReadAt(buf[:s.size], s.off)
	if err != nil {
		return nil, fuse.EIO
	}
	return buf[:n], fuse.OK
}

func (s *splicedRead) Done() { s.file.Close() }
