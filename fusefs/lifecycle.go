package fusefs

import (
	"fmt"
	"os/exec"
	"syscall"
)

// Detach takes the mount out of the file tree at once, even while files on
// it are open (a lazy unmount): nothing new can be opened, files already
// open keep being served, and once the last is closed the kernel ends the
// session and Wait returns.
func (m *Mount) Detach() error {
	if err := syscall.Unmount(m.dir, syscall.MNT_DETACH); err == nil {
		return nil
	}
	// Not root: fusermount3 may detach a user's own FUSE mount.
	if out, err := exec.Command("fusermount3", "-u", "-z", m.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("detach %s: %v: %s", m.dir, err, out)
	}
	return nil
}

// Wait blocks until the server stops (after Unmount, or after Detach once
// every open file is closed) and frees what the mount held.
func (m *Mount) Wait() {
	m.Server.Wait()
	m.models.close()
	m.chunks.Close()
}
