package fusefs

import (
	"context"
	"errors"
	"hash/fnv"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// store is what every node shares.
type store struct {
	root           string // absolute, symlinks resolved
	models         *models
	followSymlinks bool // follow symlinks that lead outside the store
	logger         *log.Logger
	logged         sync.Map // refusals already logged
}

// inodeNumber derives an inode number from a path inside the store, so
// numbers are the same across lookups and across mounts.
func inodeNumber(rel string) uint64 {
	if rel == "" {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(rel))
	if n := h.Sum64(); n > 1 {
		return n
	}
	return 2
}

// dirNode is a folder of the store; model folders also show their
// generated files.
type dirNode struct {
	fs.Inode
	readOnlyNode
	readOnlyDir
	st  *store
	rel string
}

var (
	_ fs.NodeLookuper  = (*dirNode)(nil)
	_ fs.NodeReaddirer = (*dirNode)(nil)
	_ fs.NodeGetattrer = (*dirNode)(nil)
)

func (d *dirNode) path() string { return filepath.Join(d.st.root, d.rel) }

// realNames lists the folder's entries in the store, through a handle
// opened inside it.
func (d *dirNode) realNames() ([]os.DirEntry, error) {
	f, err := d.st.open(d.rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// family says which family's model the folder holds, if any.
func (d *dirNode) family(entries []os.DirEntry) (*conversion.Family, bool) {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return model.Detect(names)
}

func (d *dirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	var st syscall.Stat_t
	if err := d.st.stat(d.rel, &st); err != nil {
		return fs.ToErrno(err)
	}
	fillAttr(&out.Attr, &st, inodeNumber(d.rel))
	return 0
}

func (d *dirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	entries, err := d.realNames()
	if err != nil {
		return nil, d.st.refuse(err)
	}
	var list []fuse.DirEntry
	seen := map[string]bool{}
	for _, e := range entries {
		rel := filepath.Join(d.rel, e.Name())
		mode, ok := d.st.resolveType(rel, e)
		if !ok {
			continue
		}
		seen[e.Name()] = true
		list = append(list, fuse.DirEntry{Name: e.Name(), Mode: mode, Ino: inodeNumber(rel)})
	}
	if f, ok := d.family(entries); ok {
		lm := d.st.models.get(d.path(), f)
		for _, name := range model.Generated(f) {
			// A model that loads lists what it generates; one that fails
			// lists every name, so its errors show as EIO on open.
			if !seen[name] && (lm.err != nil || lm.model.Files[name] != nil) {
				list = append(list, fuse.DirEntry{Name: name, Mode: syscall.S_IFREG, Ino: lm.inodeNumber(filepath.Join(d.rel, name))})
			}
		}
	}
	return fs.NewListDirStream(list), 0
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	rel := filepath.Join(d.rel, name)
	var st syscall.Stat_t
	err := d.st.stat(rel, &st)
	if err == nil {
		ino := inodeNumber(rel)
		fillAttr(&out.Attr, &st, ino)
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			return d.NewInode(ctx, &dirNode{st: d.st, rel: rel}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino}), 0
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFREG {
			return d.NewInode(ctx, &fileNode{st: d.st, rel: rel, ino: ino}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino}), 0
		}
		return nil, syscall.ENOENT // devices, sockets, pipes: not part of a model
	}
	if !errors.Is(err, syscall.ENOENT) {
		return nil, fs.ToErrno(err)
	}
	entries, derr := d.realNames()
	if derr != nil {
		return nil, d.st.refuse(derr)
	}
	f, ok := d.family(entries)
	if !ok || !slices.Contains(model.Generated(f), name) {
		return nil, syscall.ENOENT
	}
	lm := d.st.models.get(d.path(), f)
	if lm.err == nil && lm.model.Files[name] == nil {
		return nil, syscall.ENOENT // this folder does not generate it (no tokenizer model beside, say)
	}
	v := &virtualNode{st: d.st, dir: d.path(), family: f, name: name, ino: lm.inodeNumber(rel), lm: lm}
	v.fillAttr(&out.Attr)
	return d.NewInode(ctx, v, fs.StableAttr{Mode: syscall.S_IFREG, Ino: v.ino}), 0
}

// resolveType gives a directory entry's type as the view shows it, and
// whether the view shows it at all.
func (s *store) resolveType(rel string, e os.DirEntry) (uint32, bool) {
	if e.Type()&os.ModeSymlink == 0 {
		switch {
		case e.IsDir():
			return syscall.S_IFDIR, true
		case e.Type().IsRegular():
			return syscall.S_IFREG, true
		}
		return 0, false
	}
	var st syscall.Stat_t
	if err := s.stat(rel, &st); err != nil {
		return 0, false // dangling, or leading outside the store
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return syscall.S_IFDIR, true
	case syscall.S_IFREG:
		return syscall.S_IFREG, true
	}
	return 0, false
}

// fillAttr copies a source file's attributes, read-only.
func fillAttr(a *fuse.Attr, st *syscall.Stat_t, ino uint64) {
	a.FromStat(st)
	a.Ino = ino
	a.Mode &^= 0o222
}

// fileNode is an original file of the store, served as it is.
type fileNode struct {
	fs.Inode
	readOnlyNode
	st  *store
	rel string
	ino uint64
}

var (
	_ fs.NodeOpener    = (*fileNode)(nil)
	_ fs.NodeGetattrer = (*fileNode)(nil)
)

func (f *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	var st syscall.Stat_t
	if err := f.st.stat(f.rel, &st); err != nil {
		return fs.ToErrno(err)
	}
	fillAttr(&out.Attr, &st, f.ino)
	return 0
}

func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if isWriteOpen(flags) {
		return nil, 0, syscall.EROFS
	}
	// Resolved again: a symlink may have been repointed since the lookup.
	file, err := f.st.open(f.rel)
	if err != nil {
		return nil, 0, f.st.refuse(err)
	}
	return &fileHandle{file: file}, fuse.FOPEN_KEEP_CACHE, 0
}

// fileHandle reads an open original file.
type fileHandle struct {
	file *os.File
}

var (
	_ fs.FileReader   = (*fileHandle)(nil)
	_ fs.FileReleaser = (*fileHandle)(nil)
)

func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	// go-fuse splices the range from the file, or reads it if it cannot.
	return fuse.ReadResultFd(h.file.Fd(), off, len(dest)), 0
}

func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	return fs.ToErrno(h.file.Close())
}
