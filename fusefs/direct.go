package fusefs

import (
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
		return fuse.ReadResultFd(f.Fd(), fileOff, size), true, nil
	}
	b, ok, err := r.Bytes(off, n)
	if !ok || err != nil {
		return nil, false, err
	}
	return fuse.ReadResultData(b), true, nil
}
