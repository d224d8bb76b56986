package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is a FUSE server child process (ckptfs or the splice baseline)
// and its mountpoint.
type daemon struct {
	cmd       *exec.Cmd
	mnt       string
	debugAddr string
	done      chan error
}

const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

func mounted(mnt string) bool {
	var a, b syscall.Stat_t
	if syscall.Stat(mnt, &a) != nil || syscall.Stat(filepath.Dir(mnt), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// start runs argv, whose last argument is the mountpoint, and returns once
// the mount is live, with the time that took.
func start(argv []string, logPath string) (*daemon, time.Duration, error) {
	mnt := argv[len(argv)-1]
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return nil, 0, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	defer logFile.Close()
	d := &daemon{cmd: exec.Command(argv[0], argv[1:]...), mnt: mnt, done: make(chan error, 1)}
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	began := time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, 0, err
	}
	go func() { d.done <- d.cmd.Wait() }()
	deadline := time.After(readyTimeout)
	for !mounted(mnt) {
		select {
		case err := <-d.done:
			d.done <- err
			return nil, 0, fmt.Errorf("%s exited before mounting (%v); see %s", argv[0], err, logPath)
		case <-deadline:
			d.stop()
			return nil, 0, fmt.Errorf("%s did not mount %s within %s; see %s", argv[0], mnt, readyTimeout, logPath)
		case <-time.After(time.Millisecond):
		}
	}
	return d, time.Since(began), nil
}

// startCkptfs mounts store with bin; cacheSize may be empty for the default.
func startCkptfs(bin, store, mnt, cacheSize, logPath string) (*daemon, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	argv := []string{bin, "mount", "--debug-addr", addr}
	if cacheSize != "" {
		argv = append(argv, "--cache-size", cacheSize)
	}
	d, took, err := start(append(argv, store, mnt), logPath)
	if d != nil {
		d.debugAddr = addr
	}
	return d, took, err
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// stop unmounts by SIGTERM and waits; a daemon that does not exit in time
// is killed and its mount detached, so the bench never leaves one behind.
func (d *daemon) stop() error {
	if d == nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-d.done:
	case <-time.After(stopTimeout):
		d.cmd.Process.Kill()
		syscall.Unmount(d.mnt, syscall.MNT_DETACH)
		select {
		case <-d.done:
		case <-time.After(stopTimeout):
		}
		err = fmt.Errorf("%s did not stop within %s; killed", d.cmd.Path, stopTimeout)
	}
	if mounted(d.mnt) {
		syscall.Unmount(d.mnt, syscall.MNT_DETACH)
	}
	return err
}

// peakRSS is the daemon's high-water resident size (VmHWM), in bytes.
func (d *daemon) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// profile records a CPU profile of the daemon for the given time into path,
// in the background; the returned function waits for it.
func (d *daemon) profile(seconds int, path string) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := http.Client{Timeout: time.Duration(seconds+30) * time.Second}
		resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", d.debugAddr, seconds))
		if err != nil {
			fmt.Fprintf(os.Stderr, "profile: %v\n", err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			return
		}
		defer f.Close()
		io.Copy(f, resp.Body)
	}()
	return func() { <-done }
}

// dropCaches empties the page cache so the next reads come from disk.
func dropCaches() error {
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0o200); err != nil {
		return fmt.Errorf("cold figures need root to drop the page cache: %w", err)
	}
	return nil
}
