package fusefs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A process that serves a FUSE mount must not fork while it holds files
// of that mount open: the child closes them in execve, which waits for the
// server's answer to FLUSH, while the parent thread that forked (vfork)
// cannot be stopped for a garbage collection; the collector's
// stop-the-world then stops the server too, and the whole process hangs
// beyond the reach of test timeouts. Tests that run dd against a mount
// while reading it themselves therefore mount in a separate process: the
// test binary, started with these variables, serves the sample store until
// SIGTERM or until its stdin closes.
const (
	stressDaemonEnv      = "CKPTFS_TEST_STRESS_DAEMON"       // mountpoint
	stressDaemonCacheEnv = "CKPTFS_TEST_STRESS_DAEMON_CACHE" // chunk cache bytes
)

func init() {
	if mnt := os.Getenv(stressDaemonEnv); mnt != "" {
		os.Exit(serveStressDaemon(mnt))
	}
}

func serveStressDaemon(mnt string) int {
	cacheBytes, err := strconv.ParseInt(os.Getenv(stressDaemonCacheEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	m, err := New(sampleStore, mnt, Options{CacheBytes: cacheBytes, Logger: log.New(os.Stderr, "ckptfs daemon: ", 0)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	stdinClosed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	select {
	case <-stop:
	case <-stdinClosed:
	}
	if err := m.Unmount(); err != nil {
		fmt.Fprintln(os.Stderr, "unmount:", err)
		return 1
	}
	return 0
}

// startStressDaemon mounts the sample store in a child process for the
// duration of the test and returns the mountpoint. The test must close its
// files of the mount before it returns; the cleanup then stops the daemon,
// bounded in time.
func startStressDaemon(t *testing.T, cacheBytes int64) string {
	t.Helper()
	mnt := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), stressDaemonEnv+"="+mnt, stressDaemonCacheEnv+"="+strconv.FormatInt(cacheBytes, 10))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		// Wait closes stdout, so it comes after the daemon's one line.
		bufio.NewReader(stdout).ReadString('\n')
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			if waitErr != nil {
				t.Errorf("daemon: %v", waitErr)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("the daemon did not unmount within 20 s (connection abort: %v)", abortConnection(mnt))
			cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
			}
		}
		if _, ok := fuseConnection(mnt); ok {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, ok := fuseConnection(mnt); ok {
			return mnt
		}
		select {
		case <-exited:
			t.Fatalf("the daemon did not mount (FUSE is required for this test): %v\n%s", waitErr, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not mount within 30 s")
		}
	}
}

// fuseConnection finds the FUSE connection number of the mount at mnt in
// /proc/self/mountinfo, without touching the mount (whose server may hang).
func fuseConnection(mnt string) (string, bool) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == mnt {
			if _, minor, ok := strings.Cut(f[2], ":"); ok {
				return minor, true
			}
		}
	}
	return "", false
}

// abortConnection breaks the FUSE connection of mnt, so that requests
// waiting on a hung server fail and their processes can exit.
func abortConnection(mnt string) error {
	conn, ok := fuseConnection(mnt)
	if !ok {
		return errors.New("not mounted")
	}
	dir := "/sys/fs/fuse/connections"
	if _, err := os.Stat(filepath.Join(dir, conn)); err != nil {
		if err := syscall.Mount("fusectl", dir, "fusectl", 0, ""); err != nil {
			return fmt.Errorf("mount fusectl: %w", err)
		}
	}
	return os.WriteFile(filepath.Join(dir, conn, "abort"), []byte("1"), 0)
}
