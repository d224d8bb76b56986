// Package fusefs serves a store of original checkpoints as a read-only FUSE
// file system in which every model folder also holds its Hugging Face files.
package fusefs

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/index"
)

// internalError starts the log line of a request that panicked.
const internalError = "internal error (a bug in ckptfs, please report it)"

// Options configure a mount.
type Options struct {
	CacheBytes int64 // bound on converted chunks held in memory
	AllowOther bool  // let other users in, with the kernel checking permissions
	// FollowSymlinks follows symlinks that lead outside the store; without
	// it they are hidden.
	FollowSymlinks bool
	Debug          bool // log every FUSE request
	Logger         *log.Logger
	// Recheck is how often, at most, a model folder's files are checked for
	// changes (on lookup and open); the kernel trusts names and attributes
	// for as long. Default 2s.
	Recheck time.Duration
	// Opener opens source files (default: the local file system); tests
	// put faults under the mount through it.
	Opener index.Opener

	// serverOnlyReadOnly leaves "ro" out of the kernel mount, so tests can
	// check that the server refuses writes by itself.
	serverOnlyReadOnly bool
}

// defaultRecheck: a new checkpoint step shows up within seconds, and a
// busy loader's lookups cost at most one stat per file per interval.
const defaultRecheck = 2 * time.Second

// Mount is a mounted store.
type Mount struct {
	Server *fuse.Server
	dir    string // the mountpoint, absolute
	models *models
	chunks *cache.Chunks
}

// New mounts store at mountpoint and starts serving.
func New(storeDir, mountpoint string, o Options) (*Mount, error) {
	root, err := filepath.Abs(storeDir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", storeDir, err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("store %s is not a directory", storeDir)
	}
	if err := prepareMountpoint(mountpoint); err != nil {
		return nil, err
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 1 << 30
	}
	if o.Logger == nil {
		o.Logger = log.New(os.Stderr, "ckptfs: ", log.LstdFlags)
	}
	chunks, err := cache.New(o.CacheBytes)
	if err != nil {
		return nil, err
	}
	if o.Recheck <= 0 {
		o.Recheck = defaultRecheck
	}
	if o.Opener == nil {
		o.Opener = index.OSOpener{}
	}
	ms := newModels(chunks, o.Logger, o.Opener, o.Recheck)
	st := &store{root: root, models: ms, followSymlinks: o.FollowSymlinks, logger: o.Logger}
	ms.precheck = st.checkModelLinks
	ms.contain = st.checkSourcesInside
	// The kernel asks again after the recheck interval, so a changed model
	// is looked up anew and gets its new inodes.
	timeout := o.Recheck
	mountOpts := fuse.MountOptions{
		FsName:     root,
		Name:       "ckptfs",
		AllowOther: o.AllowOther,
		Debug:      o.Debug,
		// Reads of up to 1 MiB per request; the kernel's readahead follows.
		MaxWrite:     1 << 20,
		MaxReadAhead: 1 << 20,
		// Readahead requests are background requests: allow enough in
		// flight that a 1 MiB-readahead stream and a few loaders overlap.
		MaxBackground: 64,
		// As root, mount(2) directly; otherwise (or if that fails) use fusermount3.
		DirectMount: true,
		Options:     []string{"ro"},
		// A bug must not take the mount down or go unseen: the request
		// fails with EIO and the log says where.
		PanicHandler: func(v any) fuse.Status {
			o.Logger.Printf("%s: %v\n%s", internalError, v, debug.Stack())
			return fuse.EIO
		},
	}
	if o.serverOnlyReadOnly {
		mountOpts.Options = nil
	}
	if o.AllowOther {
		// Other users get exactly the access the source files' modes give them.
		mountOpts.Options = append(mountOpts.Options, "default_permissions")
	}
	server, err := fs.Mount(mountpoint, &dirNode{st: st}, &fs.Options{
		MountOptions:    mountOpts,
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &timeout,
		Logger:          o.Logger,
	})
	if err != nil {
		chunks.Close()
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	if os.Geteuid() == 0 {
		if err := SetReadahead(mountpoint, ReadaheadKB); err != nil {
			o.Logger.Printf("%v (reads stay at the kernel's default readahead)", err)
		}
	}
	dir, _ := filepath.Abs(mountpoint)
	return &Mount{Server: server, dir: dir, models: ms, chunks: chunks}, nil
}

// Unmount detaches the file system and waits for the server to stop.
func (m *Mount) Unmount() error {
	err := m.Server.Unmount()
	m.Server.Wait()
	m.models.close()
	m.chunks.Close()
	return err
}
