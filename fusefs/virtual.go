package fusefs

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/index"
)

// virtualNode is a generated file of one version of a model folder. A newer
// version of the folder gets new nodes with new inode numbers, so the
// kernel never serves this version's cached pages for it.
type virtualNode struct {
	fs.Inode
	readOnlyNode
	st     *store
	dir    string
	family *conversion.Family
	name   string
	ino    uint64
	lm     *loadedModel // the version this node shows
}

var (
	_ fs.NodeOpener    = (*virtualNode)(nil)
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
	a.Uid, a.Gid = v.lm.owner.uid, v.lm.owner.gid
	a.Mode = syscall.S_IFREG | v.lm.owner.perm
	a.Nlink = 1
	a.Size = 0
	if v.lm.err != nil {
		return
	}
	t := v.lm.model.ModTime
	a.SetTimes(nil, &t, &t)
	a.Size = uint64(v.lm.model.Files[v.name].Size())
	a.Blocks = (a.Size + 511) / 512
}

func (v *virtualNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	v.fillAttr(&out.Attr)
	return 0
}

// Open serves the node's version if it is still the folder's current one;
// a node of an outdated version answers ESTALE, on which the kernel looks
// the name up again and finds the new version. The version's source files
// are pinned: renaming another file over one of them does not change what
// this open file reads.
func (v *virtualNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if isWriteOpen(flags) {
		return nil, 0, syscall.EROFS
	}
	lm := v.lm
	if v.st.models.get(v.dir, v.family) != lm || !lm.acquire() {
		return nil, 0, syscall.ESTALE
	}
	if lm.err != nil {
		lm.release()
		return nil, 0, syscall.EIO
	}
	if err := lm.sources.Pin(lm.paths...); err != nil {
		lm.release()
		lm.logOnce(v.st.models.logger, errors.New(filepath.Join(v.dir, v.name)+": "+err.Error()))
		if errors.Is(err, index.ErrChanged) {
			v.st.models.recheckSoon(v.dir)
			return nil, 0, syscall.ESTALE
		}
		return nil, 0, syscall.EIO
	}
	// The content never changes within a version, so the kernel may keep
	// its page cache across opens; mmap loaders depend on it.
	return &virtualHandle{node: v, lm: lm}, fuse.FOPEN_KEEP_CACHE, 0
}

// virtualHandle is an open generated file; it reads the version it was
// opened on until it is closed.
type virtualHandle struct {
	node *virtualNode
	lm   *loadedModel
}

var (
	_ fs.FileReader   = (*virtualHandle)(nil)
	_ fs.FileReleaser = (*virtualHandle)(nil)
)

func (h *virtualHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	name := h.node.name
	if f := h.lm.model.Files[name]; f.Plan == nil {
		if off >= int64(len(f.Data)) {
			return fuse.ReadResultData(nil), 0
		}
		return fuse.ReadResultData(f.Data[off:min(int64(len(f.Data)), off+int64(len(dest)))]), 0
	}
	r := h.lm.readers[name]
	res, ok, err := directResult(r, len(dest), off)
	if err == nil && !ok {
		var n int
		n, err = r.ReadAt(dest, off)
		res = fuse.ReadResultData(dest[:n])
	}
	if err != nil {
		h.lm.logOnce(h.node.st.models.logger, errors.New(filepath.Join(h.node.dir, name)+": "+err.Error()))
		if errors.Is(err, index.ErrChanged) {
			h.node.st.models.recheckSoon(h.node.dir)
		}
		return nil, syscall.EIO
	}
	return res, 0
}

func (h *virtualHandle) Release(ctx context.Context) syscall.Errno {
	h.lm.release()
	return 0
}
