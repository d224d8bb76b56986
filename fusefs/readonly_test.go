package fusefs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// writeOp is one write-like system call on the mount.
type writeOp struct {
	name string
	do   func(mnt string) error
}

// openClose opens path with flags and closes it at once if that worked.
func openClose(path string, flags int) error {
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0o644)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// onOpenFile runs f on a read-only descriptor of path: the only kind the
// mount hands out.
func onOpenFile(path string, f func(fd int) error) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return f(fd)
}

// writeOps are the write-like calls tried on the mount of a store holding
// the BERT sample as m/ and an empty folder empty/.
func writeOps() []writeOp {
	orig := func(mnt string) string { return filepath.Join(mnt, "m", "vocab.txt") }
	virt := func(mnt string) string { return filepath.Join(mnt, "m", model.Safetensors) }
	dir := func(mnt string) string { return filepath.Join(mnt, "m") }
	when := time.Unix(1e9, 0)
	return []writeOp{
		{"open O_WRONLY original", func(m string) error { return openClose(orig(m), unix.O_WRONLY) }},
		{"open O_RDWR original", func(m string) error { return openClose(orig(m), unix.O_RDWR) }},
		{"open O_WRONLY|O_APPEND original", func(m string) error { return openClose(orig(m), unix.O_WRONLY|unix.O_APPEND) }},
		{"open O_RDONLY|O_TRUNC original", func(m string) error { return openClose(orig(m), unix.O_RDONLY|unix.O_TRUNC) }},
		{"open O_WRONLY generated", func(m string) error { return openClose(virt(m), unix.O_WRONLY) }},
		{"open O_RDWR generated", func(m string) error { return openClose(virt(m), unix.O_RDWR) }},
		{"open O_RDONLY|O_TRUNC generated", func(m string) error { return openClose(virt(m), unix.O_RDONLY|unix.O_TRUNC) }},
		{"create", func(m string) error {
			return openClose(filepath.Join(dir(m), "new"), unix.O_CREAT|unix.O_WRONLY|unix.O_EXCL)
		}},
		{"create read-only", func(m string) error { return openClose(filepath.Join(dir(m), "new"), unix.O_CREAT|unix.O_RDONLY) }},
		{"open O_CREAT existing for writing", func(m string) error { return openClose(orig(m), unix.O_CREAT|unix.O_WRONLY) }},
		{"O_TMPFILE", func(m string) error { return openClose(dir(m), unix.O_TMPFILE|unix.O_RDWR) }},
		{"mkdir", func(m string) error { return unix.Mkdir(filepath.Join(dir(m), "sub"), 0o755) }},
		{"mkdir in root", func(m string) error { return unix.Mkdir(filepath.Join(m, "sub"), 0o755) }},
		{"mknod fifo", func(m string) error { return unix.Mknod(filepath.Join(dir(m), "fifo"), unix.S_IFIFO|0o644, 0) }},
		{"mknod regular", func(m string) error { return unix.Mknod(filepath.Join(dir(m), "reg"), unix.S_IFREG|0o644, 0) }},
		{"unlink original", func(m string) error { return unix.Unlink(orig(m)) }},
		{"unlink generated", func(m string) error { return unix.Unlink(virt(m)) }},
		{"rmdir empty folder", func(m string) error { return unix.Rmdir(filepath.Join(m, "empty")) }},
		{"rmdir model folder", func(m string) error { return unix.Rmdir(dir(m)) }},
		{"rename original", func(m string) error { return unix.Rename(orig(m), filepath.Join(dir(m), "moved")) }},
		{"rename original over another", func(m string) error { return unix.Rename(orig(m), filepath.Join(dir(m), "bert_config.json")) }},
		{"rename generated", func(m string) error { return unix.Rename(virt(m), filepath.Join(dir(m), "moved")) }},
		{"rename folder", func(m string) error { return unix.Rename(filepath.Join(m, "empty"), filepath.Join(m, "moved")) }},
		{"renameat2 exchange", func(m string) error {
			return unix.Renameat2(unix.AT_FDCWD, orig(m), unix.AT_FDCWD, filepath.Join(dir(m), "bert_config.json"), unix.RENAME_EXCHANGE)
		}},
		{"link", func(m string) error { return unix.Link(orig(m), filepath.Join(dir(m), "hard")) }},
		{"symlink", func(m string) error { return unix.Symlink("vocab.txt", filepath.Join(dir(m), "soft")) }},
		{"chmod original", func(m string) error { return unix.Chmod(orig(m), 0o777) }},
		{"chmod generated", func(m string) error { return unix.Chmod(virt(m), 0o777) }},
		{"chmod folder", func(m string) error { return unix.Chmod(dir(m), 0o700) }},
		{"chown original", func(m string) error { return unix.Chown(orig(m), 65534, 65534) }},
		{"chown generated", func(m string) error { return unix.Chown(virt(m), 65534, 65534) }},
		{"truncate original", func(m string) error { return unix.Truncate(orig(m), 1) }},
		{"truncate generated", func(m string) error { return unix.Truncate(virt(m), 1) }},
		{"utimes original", func(m string) error { return os.Chtimes(orig(m), when, when) }},
		{"utimes generated", func(m string) error { return os.Chtimes(virt(m), when, when) }},
		{"utimes folder", func(m string) error { return os.Chtimes(dir(m), when, when) }},
		{"fchmod on a read-only descriptor", func(m string) error {
			return onOpenFile(orig(m), func(fd int) error { return unix.Fchmod(fd, 0o777) })
		}},
		{"setxattr original", func(m string) error { return unix.Setxattr(orig(m), "user.ckptfs", []byte("x"), 0) }},
		{"setxattr generated", func(m string) error { return unix.Setxattr(virt(m), "user.ckptfs", []byte("x"), 0) }},
		{"setxattr folder", func(m string) error { return unix.Setxattr(dir(m), "user.ckptfs", []byte("x"), 0) }},
		{"removexattr original", func(m string) error { return unix.Removexattr(orig(m), "user.ckptfs") }},
		{"removexattr folder", func(m string) error { return unix.Removexattr(dir(m), "user.ckptfs") }},
		// write(2), fallocate(2) and copy_file_range(2) into the mount need
		// a descriptor open for writing, which the opens above refuse; the
		// server's own refusals of them are checked in
		// TestReadOnlyNodesRefuseEveryWrite.
	}
}

// TestEveryWriteIsRefused tries every write-like call on a real mount:
// once as mounted ("ro" in the kernel), once with the kernel letting writes
// through to the server, which must refuse them by itself.
func TestEveryWriteIsRefused(t *testing.T) {
	for _, mode := range []struct {
		name       string
		serverOnly bool
	}{{"kernel-ro", false}, {"server-alone", true}} {
		t.Run(mode.name, func(t *testing.T) {
			store := t.TempDir()
			copyTree(t, filepath.Join(sampleStore, bertBase), filepath.Join(store, "m"))
			if err := os.Mkdir(filepath.Join(store, "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, store)
			mnt, _ := mountWithOptions(t, store, Options{serverOnlyReadOnly: mode.serverOnly})
			if _, err := os.Stat(filepath.Join(mnt, "m", model.Safetensors)); err != nil {
				t.Fatalf("the mount does not serve: %v", err)
			}
			for _, op := range writeOps() {
				if err := op.do(mnt); !errors.Is(err, syscall.EROFS) {
					t.Errorf("%s: %v, want EROFS", op.name, err)
				}
			}
			assertSameSnapshot(t, before, snapshot(t, store))
			// The view itself is unchanged too: nothing was removed or added.
			for _, name := range []string{"vocab.txt", "bert_config.json", model.Safetensors} {
				if _, err := os.Stat(filepath.Join(mnt, "m", name)); err != nil {
					t.Errorf("%s after the refused writes: %v", name, err)
				}
			}
			for _, name := range []string{"new", "moved", "hard", "soft", "sub", "fifo", "reg"} {
				if _, err := os.Lstat(filepath.Join(mnt, "m", name)); !errors.Is(err, syscall.ENOENT) {
					t.Errorf("%s appeared in the view: %v", name, err)
				}
			}
		})
	}
}

// TestReadOnlyNodesRefuseEveryWrite checks the refusals no system call can
// reach, because the kernel wants a descriptor open for writing first.
func TestReadOnlyNodesRefuseEveryWrite(t *testing.T) {
	ctx := context.Background()
	var n readOnlyNode
	if _, errno := n.Write(ctx, nil, []byte("x"), 0); errno != syscall.EROFS {
		t.Errorf("write: %v", errno)
	}
	if errno := n.Allocate(ctx, nil, 0, 1, 0); errno != syscall.EROFS {
		t.Errorf("fallocate: %v", errno)
	}
	if _, errno := n.CopyFileRange(ctx, nil, 0, nil, nil, 0, 1, 0); errno != syscall.EROFS {
		t.Errorf("copy_file_range: %v", errno)
	}
	var d readOnlyDir
	if _, _, _, errno := d.Tmpfile(ctx, 0, 0o644, nil); errno != syscall.EROFS {
		t.Errorf("tmpfile: %v", errno)
	}
	for _, flags := range []int{os.O_WRONLY, os.O_RDWR, os.O_RDONLY | os.O_TRUNC, os.O_WRONLY | os.O_APPEND} {
		if !isWriteOpen(uint32(flags)) {
			t.Errorf("open flags %#x not taken as a write", flags)
		}
	}
	// O_APPEND without write access opens read-only, as on any
	// read-only file system.
	if isWriteOpen(uint32(os.O_RDONLY|syscall.O_NOATIME|syscall.O_CLOEXEC)) || isWriteOpen(uint32(os.O_RDONLY|os.O_APPEND)) {
		t.Error("a read-only open taken as a write")
	}
}
