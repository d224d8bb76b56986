package fusefs

import (
	"crypto/sha256"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mountWithOptions mounts store with o for the duration of the test and
// returns the mountpoint and the server's log. A machine that cannot mount
// fails the test: these tests are never skipped. A request that panicked
// fails it too.
func mountWithOptions(t *testing.T, store string, o Options) (string, *syncBuffer) {
	t.Helper()
	mnt := t.TempDir()
	logs := &syncBuffer{}
	o.Logger = log.New(logs, "", 0)
	if o.CacheBytes == 0 {
		o.CacheBytes = 1 << 20
	}
	m, err := New(store, mnt, o)
	if err != nil {
		t.Fatalf("cannot mount %s (FUSE is required for this test): %v", store, err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		if strings.Contains(logs.String(), internalError) {
			t.Errorf("a request panicked")
		}
		if t.Failed() {
			t.Logf("ckptfs log:\n%s", logs.String())
		}
	})
	return mnt, logs
}

// snapshot describes every path under root as Lstat and the content show
// it, so a test can tell that nothing in the store changed.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("mode=%o uid=%d gid=%d size=%d mtime=%d ctime=%d nlink=%d", st.Mode, st.Uid, st.Gid, st.Size, st.Mtim.Nano(), st.Ctim.Nano(), st.Nlink)
		switch {
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" sha256=%x", sha256.Sum256(data))
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			desc += " -> " + target
		}
		buf := make([]byte, 4096)
		if n, err := unix.Llistxattr(path, buf); err == nil {
			names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
			sort.Strings(names)
			desc += " xattrs=" + strings.Join(names, ",")
		}
		rel, _ := filepath.Rel(root, path)
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSameSnapshot reports every difference between two snapshots.
func assertSameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, d := range before {
		if after[p] != d {
			t.Errorf("store changed at %s: %q, now %q", p, d, after[p])
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("store gained %s", p)
		}
	}
}
