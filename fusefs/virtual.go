package fusefs

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
)

// virtualNode is a generated file of a model folder.
type virtualNode struct {
	fs.Inode
	readOnlyNode
	st     *store
	dir    string
	family *conversion.Family
	name   string
	ino    uint64
}

func (v *virtualNode) model() *loadedModel { return v.st.models.get(v.dir, v.family) }

var (
	_ fs.NodeOpener    = (*virtualNode)(nil)
	_ fs.NodeReader    = (*virtualNode)(nil)
	_ fs.NodeGetattrer = (*virtualNode)(nil)
)

// fillAttr describes the file, its owner, group and mode derived from its
// sources. A model that cannot be loaded shows its generated files with
// size 0; opening them fails with EIO.
func (v *virtualNode) fillAttr(a *fuse.Attr) {
	var st syscall.Stat_t
	if err := syscall.Stat(v.dir, &st); err == nil {
		a.FromStat(&st)
	}
	a.Ino = v.ino
	v.st.setGeneratedOwnership(a, v.dir)
	a.Nlink = 1
	a.Size = 0
	lm := v.model()
	if lm.err != nil {
		return
	}
	t := lm.model.ModTime
	a.SetTimes(nil, &t, &t)
	a.Size = uint64(lm.model.Files[v.name].Size())
	a.Blocks = (a.Size + 511) / 512
}

func (v *virtualNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	v.fillAttr(&out.Attr)
	return 0
}

func (v *virtualNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if isWriteOpen(flags) {
		return nil, 0, syscall.EROFS
	}
	if lm := v.model(); lm.err != nil {
		return nil, 0, syscall.EIO
	}
	// The content never changes while the sources do not, so the kernel may
	// keep its page cache across opens; mmap loaders depend on it.
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

func (v *virtualNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	lm := v.model()
	if lm.err != nil {
		return nil, syscall.EIO
	}
	if f := lm.model.Files[v.name]; f.Plan == nil {
		if off >= int64(len(f.Data)) {
			return fuse.ReadResultData(nil), 0
		}
		return fuse.ReadResultData(f.Data[off:min(int64(len(f.Data)), off+int64(len(dest)))]), 0
	}
	n, err := lm.readers[v.name].ReadAt(dest, off)
	if err != nil {
		lm.logOnce(v.st.models.logger, errors.New(filepath.Join(v.dir, v.name)+": "+err.Error()))
		return nil, syscall.EIO
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
