package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

const (
	sampleStore = "../../testdata/store"
	bertBase    = "google/uncased_L-2_H-32_A-4"
)

// binDir holds the ckptfs binary built for the tests, removed by TestMain.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds ckptfs once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ckptfs-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "ckptfs")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", errors.New(err.Error() + ": " + string(out))
	}
	return bin, nil
})

// isMounted says whether dir is a mountpoint in this mount namespace.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// daemon is a `ckptfs mount` child process.
type daemon struct {
	cmd    *exec.Cmd
	mnt    string
	exited chan struct{}
	err    error // the exit status, once exited is closed
	log    lockedBuffer
}

// lockedBuffer collects the daemon's log while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDaemon mounts the sample store at a fresh mountpoint with the real
// binary and waits (bounded) until it serves. Its cleanup detaches the mount
// and kills the process if the test left it running.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("building ckptfs: %v", err)
	}
	mnt, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	d := &daemon{cmd: exec.CommandContext(ctx, bin, "mount", "--recheck", "50ms", sampleStore, mnt), mnt: mnt, exited: make(chan struct{})}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	logDone := make(chan struct{})
	go func() {
		io.Copy(&d.log, stderr)
		close(logDone)
	}()
	go func() {
		<-logDone
		d.err = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		if isMounted(t, mnt) {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
			exec.Command("fusermount3", "-u", "-z", mnt).Run()
		}
		d.cmd.Process.Kill()
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			t.Error("the daemon did not exit after being killed")
		}
		cancel()
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.log.String())
		}
	})
	// Serving is said once the mount is up and go-fuse's own start-up check
	// of it (an open and close of a file on it) is done; the mountpoint is
	// a mount earlier than that.
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(t, mnt) || !strings.Contains(d.log.String(), "serving ") {
		select {
		case <-d.exited:
			t.Fatalf("ckptfs mount exited before mounting (FUSE is required for this test): %v", d.err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("ckptfs mount did not serve within 30 s")
		}
	}
	return d
}

// exitCode waits (bounded) for the daemon to exit and returns its status.
func (d *daemon) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-d.exited:
	case <-time.After(within):
		t.Fatalf("ckptfs did not exit within %v", within)
	}
	var exit *exec.ExitError
	if errors.As(d.err, &exit) {
		return exit.ExitCode()
	}
	if d.err != nil {
		t.Fatalf("waiting for ckptfs: %v", d.err)
	}
	return 0
}

// planBytes is the generated file as its plan gives it, without FUSE.
func planBytes(t *testing.T, dir, name string) []byte {
	t.Helper()
	m, err := model.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Files[name].Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSIGTERMDetachesAtOnceAndServesOpenFilesToTheEnd(t *testing.T) {
	want := planBytes(t, filepath.Join(sampleStore, bertBase), model.Safetensors)
	d := startDaemon(t)
	f, err := os.Open(filepath.Join(d.mnt, bertBase, model.Safetensors))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 100)
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for isMounted(t, d.mnt) {
		if time.Now().After(deadline) {
			t.Fatal("still mounted 5 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(d.mnt, bertBase)); err == nil {
		t.Error("the mountpoint still shows the store after SIGTERM")
	}
	select {
	case <-d.exited:
		t.Fatalf("ckptfs exited while a file was still open: %v", d.err)
	case <-time.After(200 * time.Millisecond):
	}
	// The reader in flight finishes with the right bytes.
	var rest []byte
	read := make(chan struct{})
	go func() {
		rest, err = io.ReadAll(f)
		close(read)
	}()
	select {
	case <-read:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill() // ends the read: the kernel aborts the session
		<-read
		t.Fatal("reading the open file after SIGTERM did not finish within 30 s")
	}
	if err != nil {
		t.Fatalf("reading an open file after SIGTERM: %v", err)
	}
	if got := append(head, rest...); !bytes.Equal(got, want) {
		t.Errorf("the open file served %d bytes that differ from the plan's %d", len(got), len(want))
	}
	f.Close()
	if code := d.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit status %d after the last file closed, want 0", code)
	}
}

func TestSIGINTWithNothingOpenExitsZero(t *testing.T) {
	d := startDaemon(t)
	if _, err := os.ReadFile(filepath.Join(d.mnt, bertBase, "config.json")); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := d.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if isMounted(t, d.mnt) {
		t.Error("still mounted after ckptfs exited")
	}
}

func TestASecondSignalExitsOneAtOnce(t *testing.T) {
	d := startDaemon(t)
	f, err := os.Open(filepath.Join(d.mnt, bertBase, model.Safetensors))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Wait for the first signal to be handled (the mount detached) before
	// sending the second.
	deadline := time.Now().Add(5 * time.Second)
	for isMounted(t, d.mnt) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.exitCode(t, 5*time.Second); code != 1 {
		t.Errorf("exit status %d after a second signal with a file open, want 1", code)
	}
	if !strings.Contains(d.log.String(), "second signal") {
		t.Errorf("the log does not say why ckptfs exited:\n%s", d.log.String())
	}
}

func TestMountRejectsANonPositiveRecheck(t *testing.T) {
	cmd := mountCommand()
	cmd.SetArgs([]string{"--recheck", "0s", t.TempDir(), t.TempDir()})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--recheck") {
		t.Errorf("error %v, want one about --recheck", err)
	}
}
