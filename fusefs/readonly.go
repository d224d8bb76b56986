package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The mount is read-only twice over. The kernel mount carries "ro", so the
// VFS answers EROFS before a write reaches the server; and every node
// refuses writes itself, so the view stays read-only even if the mount is
// remounted read-write. The refusals are explicit because go-fuse's defaults
// are not EROFS: a missing Unlink or Rmdir even reports success.

// readOnlyNode refuses what would change a file or folder's content or
// attributes; every node embeds it.
type readOnlyNode struct{}

var (
	_ fs.NodeSetattrer      = readOnlyNode{}
	_ fs.NodeSetxattrer     = readOnlyNode{}
	_ fs.NodeRemovexattrer  = readOnlyNode{}
	_ fs.NodeWriter         = readOnlyNode{}
	_ fs.NodeAllocater      = readOnlyNode{}
	_ fs.NodeCopyFileRanger = readOnlyNode{}
)

// Setattr covers chmod, chown, truncate and utimes.
func (readOnlyNode) Setattr(context.Context, fs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (readOnlyNode) Setxattr(context.Context, string, []byte, uint32) syscall.Errno {
	return syscall.EROFS
}

func (readOnlyNode) Removexattr(context.Context, string) syscall.Errno {
	return syscall.EROFS
}

func (readOnlyNode) Write(context.Context, fs.FileHandle, []byte, int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (readOnlyNode) Allocate(context.Context, fs.FileHandle, uint64, uint64, uint32) syscall.Errno {
	return syscall.EROFS
}

// CopyFileRange reaches the server only when both ends are in this mount,
// so its destination is always a file of the view.
func (readOnlyNode) CopyFileRange(context.Context, fs.FileHandle, uint64, *fs.Inode, fs.FileHandle, uint64, uint64, uint64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

// readOnlyDir refuses every change to a folder's entries; folder nodes
// embed it beside readOnlyNode.
type readOnlyDir struct{}

var (
	_ fs.NodeCreater   = readOnlyDir{}
	_ fs.NodeTmpfiler  = readOnlyDir{}
	_ fs.NodeMkdirer   = readOnlyDir{}
	_ fs.NodeMknoder   = readOnlyDir{}
	_ fs.NodeLinker    = readOnlyDir{}
	_ fs.NodeSymlinker = readOnlyDir{}
	_ fs.NodeUnlinker  = readOnlyDir{}
	_ fs.NodeRmdirer   = readOnlyDir{}
	_ fs.NodeRenamer   = readOnlyDir{}
)

func (readOnlyDir) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (readOnlyDir) Tmpfile(context.Context, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (readOnlyDir) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnlyDir) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnlyDir) Link(context.Context, fs.InodeEmbedder, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnlyDir) Symlink(context.Context, string, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnlyDir) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }

func (readOnlyDir) Rmdir(context.Context, string) syscall.Errno { return syscall.EROFS }

func (readOnlyDir) Rename(context.Context, string, fs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}

// isWriteOpen tells whether open flags ask for anything but reading.
func isWriteOpen(flags uint32) bool {
	// O_APPEND without write access is a read-only open; O_CREAT never
	// reaches an OPEN request.
	return flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0
}

// Every node of the view refuses writes by itself.
var (
	_ fs.NodeSetattrer = (*dirNode)(nil)
	_ fs.NodeSetattrer = (*fileNode)(nil)
	_ fs.NodeSetattrer = (*virtualNode)(nil)
	_ fs.NodeUnlinker  = (*dirNode)(nil)
	_ fs.NodeRenamer   = (*dirNode)(nil)
	_ fs.NodeAllocater = (*fileNode)(nil)
	_ fs.NodeAllocater = (*virtualNode)(nil)
)
