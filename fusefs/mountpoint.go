package fusefs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// prepareMountpoint checks that dir can be mounted on: an existing, empty
// directory. A mount left behind by a killed daemon ("transport endpoint is
// not connected") is cleared first, or reported with the command that
// clears it.
func prepareMountpoint(dir string) error {
	_, err := os.Stat(dir)
	if errors.Is(err, syscall.ENOTCONN) {
		if uerr := lazyUnmount(dir); uerr != nil {
			return fmt.Errorf("mountpoint %s holds a stale ckptfs mount (its daemon died) that could not be cleared: %v; run: fusermount3 -u %s", dir, uerr, dir)
		}
		_, err = os.Stat(dir)
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mountpoint %s does not exist; create it with: mkdir -p %s", dir, dir)
	}
	if err != nil {
		return fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("mountpoint %s is not empty; mount on an empty directory so nothing is hidden", dir)
	}
	return nil
}

// lazyUnmount detaches the FUSE mount at dir even while files on it are
// open: directly as root, else with fusermount3 (which lets a user unmount
// their own FUSE mounts). It clears a dead mount and detaches a live one.
func lazyUnmount(dir string) error {
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err == nil {
		return nil
	}
	out, err := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
