package fusefs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadaheadKB is the kernel readahead ckptfs asks for on its mount: one
// full 1 MiB request ahead of a sequential reader or around an mmap fault.
// The FUSE handshake caps readahead at the kernel's default of 128 KiB
// whatever MaxReadAhead says; only the mount's backing device setting
// raises it.
const ReadaheadKB = 1024

// SetReadahead sets the readahead of the FUSE mount at mountpoint through
// /sys/class/bdi/MAJOR:MINOR/read_ahead_kb. It needs root; callers treat a
// failure as a missed optimisation. The device number comes from
// /proc/self/mountinfo, not from a stat of the mount, which would make the
// kernel cache the root's attributes.
func SetReadahead(mountpoint string, kb int) error {
	dev, err := mountDevice(mountpoint)
	if err != nil {
		return fmt.Errorf("readahead of %s: %w", mountpoint, err)
	}
	if err := os.WriteFile("/sys/class/bdi/"+dev+"/read_ahead_kb", []byte(strconv.Itoa(kb)), 0o644); err != nil {
		return fmt.Errorf("readahead of %s: %w", mountpoint, err)
	}
	return nil
}

// mountDevice is the MAJOR:MINOR of the newest mount at mountpoint.
func mountDevice(mountpoint string) (string, error) {
	abs, err := filepath.Abs(mountpoint)
	if err != nil {
		return "", err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	dev := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		// id parent MAJOR:MINOR root mountpoint ...; spaces in paths are \040.
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && strings.ReplaceAll(fields[4], `\040`, " ") == abs {
			dev = fields[2]
		}
	}
	if dev == "" {
		return "", fmt.Errorf("not in /proc/self/mountinfo")
	}
	return dev, s.Err()
}
