package fusefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"
)

// Symlinks in the store are followed when they stay inside it. One that
// leads outside is hidden from the view (and makes a model folder that holds
// it fail), unless the mount was made with --follow-symlinks. The view
// never shows a symlink itself, only what it leads to, so no path of the
// view can point anywhere the server would not go.

// outsideError is a path of the view whose symlinks lead out of the store.
type outsideError struct {
	path   string // in the store
	target string // where its symlinks lead
}

func (e *outsideError) Error() string {
	return fmt.Sprintf("%s: symlink leads outside the store (to %s); not followed without --follow-symlinks", e.path, e.target)
}

// Unwrap makes a path that leads outside one that does not exist in the
// view (ENOENT).
func (e *outsideError) Unwrap() error { return syscall.ENOENT }

// inside tells whether the absolute, symlink-free path p is the store root
// or below it.
func (s *store) inside(p string) bool {
	return p == s.root || len(p) > len(s.root) && p[:len(s.root)] == s.root && p[len(s.root)] == filepath.Separator
}

// resolve gives the real path of the view path rel, its symlinks followed.
// Unless links may lead anywhere, a path that resolves outside the store
// gives an *outsideError.
func (s *store) resolve(rel string) (string, error) {
	full := filepath.Join(s.root, rel)
	if s.noLinksBelowRoot(full) {
		return full, nil
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", err
	}
	if !s.followSymlinks && !s.inside(real) {
		return "", &outsideError{path: full, target: real}
	}
	return real, nil
}

// noLinksBelowRoot tells whether no component of full below the store root
// (which is symlink-free) is a symlink, so full is its own real path. It
// spares resolving the root's own ancestors again on every request; any
// symlink, or any error, leaves the answer to EvalSymlinks.
func (s *store) noLinksBelowRoot(full string) bool {
	if !s.inside(full) {
		return false
	}
	for p := full; p != s.root; p = filepath.Dir(p) {
		var st syscall.Stat_t
		if syscall.Lstat(p, &st) != nil || st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
			return false
		}
	}
	return true
}

// stat describes what the view path rel leads to.
func (s *store) stat(rel string, st *syscall.Stat_t) error {
	real, err := s.resolve(rel)
	if err != nil {
		return err
	}
	return syscall.Stat(real, st)
}

// open opens the view path rel for reading. The path is resolved and
// checked, then opened with openat2(RESOLVE_NO_SYMLINKS): if a symlink on
// the way was repointed since, the open fails instead of following it.
func (s *store) open(rel string) (*os.File, error) {
	real, err := s.resolve(rel)
	if err != nil {
		return nil, err
	}
	if s.followSymlinks {
		return os.Open(real)
	}
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(unix.AT_FDCWD, real, &how)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		// No openat2 (kernels before 5.6, or a seccomp filter that
		// refuses it): open, then check where the descriptor leads.
		return s.openChecked(rel, real)
	}
	if errors.Is(err, unix.ELOOP) {
		return nil, &outsideError{path: filepath.Join(s.root, rel), target: "a symlink repointed while open"}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: real, Err: err}
	}
	return os.NewFile(uintptr(fd), real), nil
}

// openChecked opens real without following a last symlink and makes sure
// the file opened is inside the store, as the kernel names it.
func (s *store) openChecked(rel, real string) (*os.File, error) {
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	opened, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil || !s.inside(opened) {
		f.Close()
		return nil, &outsideError{path: filepath.Join(s.root, rel), target: opened}
	}
	return f, nil
}

// checkModelLinks refuses to load a model folder whose files include a
// symlink leading outside the store: loading it would read that file.
func (s *store) checkModelLinks(dir string) error {
	rel, err := filepath.Rel(s.root, dir)
	if err != nil {
		return err
	}
	if _, err := s.resolve(rel); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type()&os.ModeSymlink == 0 {
			continue
		}
		var oe *outsideError
		if _, err := s.resolve(filepath.Join(rel, e.Name())); errors.As(err, &oe) {
			return err
		}
	}
	return nil
}

// checkSourcesInside refuses a model that reads files outside the store
// (a checkpoint state file naming an absolute path or "../.." elsewhere),
// unless links may lead anywhere.
func (s *store) checkSourcesInside(paths []string) error {
	if s.followSymlinks {
		return nil
	}
	for _, p := range paths {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return err
		}
		if !s.inside(real) {
			return fmt.Errorf("source file %s is outside the store (the checkpoint state file or a link leads there); not read without --follow-symlinks", real)
		}
	}
	return nil
}

// refuse turns an error of open into the answer the kernel gets: a path
// that leads outside now (a symlink repointed after lookup) is refused
// with EACCES and logged once.
func (s *store) refuse(err error) syscall.Errno {
	var oe *outsideError
	if errors.As(err, &oe) {
		if _, seen := s.logged.LoadOrStore(oe.Error(), true); !seen {
			s.logger.Print("refused: " + oe.Error())
		}
		return syscall.EACCES
	}
	return fs.ToErrno(err)
}
