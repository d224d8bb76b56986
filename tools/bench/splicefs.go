package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ckptfs/ckptfs/fusefs"
)

// The baseline: the smallest go-fuse file system that serves existing files
// by splice (ReadResultFd), with the same request sizes and page-cache mode
// as ckptfs. It runs in a child process (bench -serve-splice), as ckptfs
// does, so each server has its own process to account for.

type spliceRoot struct {
	fs.Inode
	files []string
}

func (r *spliceRoot) OnAdd(ctx context.Context) {
	for i, path := range r.files {
		st, err := os.Stat(path)
		if err != nil {
			panic(err) // before the mount serves anything; the parent sees the exit
		}
		child := r.NewPersistentInode(ctx, &spliceFile{path: path, size: uint64(st.Size())}, fs.StableAttr{Mode: syscall.S_IFREG})
		r.AddChild(fmt.Sprintf("f%d", i), child, false)
	}
}

type spliceFile struct {
	fs.Inode
	path string
	size uint64
}

func (f *spliceFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o444
	out.Size = f.size
	return 0
}

func (f *spliceFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	file, err := os.Open(f.path)
	if err != nil {
		return nil, 0, fs.ToErrno(err)
	}
	return &spliceHandle{file: file}, fuse.FOPEN_KEEP_CACHE, 0
}

type spliceHandle struct{ file *os.File }

func (h *spliceHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return fuse.ReadResultFd(h.file.Fd(), off, len(dest)), 0
}

func (h *spliceHandle) Release(ctx context.Context) syscall.Errno {
	return fs.ToErrno(h.file.Close())
}

// serveSplice mounts files at mnt as f0, f1, ... until SIGTERM or SIGINT.
func serveSplice(mnt string, files []string) error {
	server, err := fs.Mount(mnt, &spliceRoot{files: files}, &fs.Options{MountOptions: fuse.MountOptions{
		FsName: "splicebase", Name: "splicebase", MaxWrite: 1 << 20, MaxReadAhead: 1 << 20,
		MaxBackground: 64, DirectMount: true, Options: []string{"ro"},
	}})
	if err != nil {
		return err
	}
	// The same kernel readahead as ckptfs sets on its mount, so the
	// baseline is the ceiling of the same configuration.
	if err := fusefs.SetReadahead(mnt, fusefs.ReadaheadKB); err != nil {
		fmt.Fprintln(os.Stderr, "splice baseline:", err)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		server.Unmount()
	}()
	server.Wait()
	return nil
}
