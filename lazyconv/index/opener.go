package index

import (
	"errors"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
)

// File is an open source file: what Sources needs of an *os.File.
type File interface {
	io.ReaderAt
	Stat() (os.FileInfo, error)
	Close() error
}

// Opener opens source files. It is the seam through which tests put a
// failing file system (an NFS server timing out, restarting) under Sources.
type Opener interface {
	Open(path string) (File, error)
}

// OSOpener opens files with os.Open.
type OSOpener struct{}

// Open opens path read-only.
func (OSOpener) Open(path string) (File, error) { return os.Open(path) }

// FileState identifies one version of a file: a file rewritten in place
// changes size or modification time, one replaced by rename changes inode.
type FileState struct {
	Size    int64
	ModTime int64 // nanoseconds since the epoch
	Dev     uint64
	Ino     uint64 // 0 when the file system does not say
}

// StateOf reads a file's state from its FileInfo.
func StateOf(fi os.FileInfo) FileState {
	s := FileState{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Dev, s.Ino = uint64(st.Dev), st.Ino
	}
	return s
}

// retry policy for source reads: network file systems fail transiently
// (a timeout, a server restart), and an EIO answered to a loader that maps
// the file kills it with SIGBUS, so a failed read is tried again a few
// times before it is reported.
const (
	readAttempts = 5
	firstBackoff = 10 * time.Millisecond // doubled after each failure
)

// Transient says whether a failed open or read may succeed if tried again.
// A missing file, a short file or a permission error will not.
func Transient(err error) bool {
	// A ReadError is an EIO to readers; what it says of a retry is its
	// cause's.
	var re *ReadError
	if errors.As(err, &re) {
		err = re.Err
	}
	for _, errno := range []syscall.Errno{syscall.EINTR, syscall.EAGAIN, syscall.ETIMEDOUT, syscall.ESTALE, syscall.EBADF, syscall.EIO, syscall.ECONNRESET, syscall.ENOTCONN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// needsReopen says whether the handle itself is dead: a stale NFS handle
// after a server restart, or a descriptor that is no longer valid.
func needsReopen(err error) bool {
	return errors.Is(err, syscall.ESTALE) || errors.Is(err, syscall.EBADF)
}

// ReadError is a source open or read that failed for good. It names the
// file and the tensor (if a read), and matches syscall.EIO, which is what a reader of the
// virtual file gets.
type ReadError struct {
	Path     string
	Tensor   string
	Attempts int
	Err      error
}

func (e *ReadError) Error() string {
	msg := e.Path + ": "
	if e.Tensor != "" {
		msg += "tensor " + e.Tensor + ": "
	}
	if e.Attempts > 1 {
		msg += "read failed after " + strconv.Itoa(e.Attempts) + " attempts: "
	}
	return msg + e.Err.Error()
}

// Unwrap gives both the cause and EIO, so errors.Is finds either.
func (e *ReadError) Unwrap() []error { return []error{e.Err, syscall.EIO} }
