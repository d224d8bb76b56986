package fusefs

import (
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ckptfs/ckptfs/lazyconv/index"
)

// spliceResult answers a read that lies within one verified source run with
// the source file's range itself, so go-fuse can splice it into the kernel
// without copying it through Go. ok is false when the read needs assembling.
func spliceResult(r *index.Reader, n int, off int64) (res fuse.ReadResult, ok bool, err error) {
	f, fileOff, size, ok, err := r.SourceSpan(off, n)
	if !ok || err != nil {
		return nil, false, err
	}
	return fuse.ReadResultFd(f.Fd(), fileOff, size), true, nil
}
