package fusefs

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

func TestDerivedOwnership(t *testing.T) {
	src := func(uid, gid, mode uint32) syscall.Stat_t {
		return syscall.Stat_t{Uid: uid, Gid: gid, Mode: syscall.S_IFREG | mode}
	}
	for _, c := range []struct {
		name    string
		sources []syscall.Stat_t
		want    ownership
	}{
		{"all public", []syscall.Stat_t{src(7, 8, 0o644), src(7, 8, 0o444)}, ownership{7, 8, 0o444}},
		{"one private shard", []syscall.Stat_t{src(7, 8, 0o644), src(7, 8, 0o600)}, ownership{7, 8, 0o400}},
		{"group readable", []syscall.Stat_t{src(7, 8, 0o640), src(7, 8, 0o750)}, ownership{7, 8, 0o440}},
		{"owners differ", []syscall.Stat_t{src(7, 8, 0o644), src(9, 8, 0o644)}, ownership{0, 8, 0o044}},
		{"groups differ", []syscall.Stat_t{src(7, 8, 0o640), src(7, 9, 0o640)}, ownership{7, 0, 0o400}},
		{"both differ", []syscall.Stat_t{src(7, 8, 0o644), src(9, 6, 0o644)}, ownership{0, 0, 0o004}},
		// Owners refused by their own file are refused by the view.
		{"owner refused", []syscall.Stat_t{src(7, 8, 0o044)}, ownership{7, 8, 0}},
		{"group member refused", []syscall.Stat_t{src(7, 8, 0o404)}, ownership{7, 8, 0o400}},
		{"no sources", nil, ownership{}},
	} {
		if got := derivedOwnership(c.sources); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

const nobody = 65534 // uid of nobody and gid of nogroup on Debian

// readAsNobody reads path through a dd running as uid/gid 65534 with no
// supplementary groups, and gives what it read or its error output.
func readAsNobody(t *testing.T, path string) ([]byte, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dd", "if="+path, "bs=65536", "status=none")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.Bytes(), errOut.String(), err
}

// needRoot skips a test that must chown files and switch users, except
// in CI, where it fails.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test needs root (to chown files and read as another user)")
	}
	t.Skip("needs root")
}

// traversable opens dir and its parents below the temporary directory to
// other users: the test's temporary folders are created 0700.
func traversable(t *testing.T, dir string) {
	t.Helper()
	for d := dir; strings.HasPrefix(d, filepath.Clean(os.TempDir())+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAllowOtherChecksTheSourcesPermissions mounts with --allow-other as
// root and reads as nobody: a user who cannot read a source file can read
// neither it nor anything generated from it.
func TestAllowOtherChecksTheSourcesPermissions(t *testing.T) {
	needRoot(t)
	store := t.TempDir()
	src := filepath.Join(sampleStore, bertBase)
	// Each folder: a copy of the BERT sample with every file set to
	// owner:group and mode, then the shard set to shardMode.
	type setup struct {
		uid, gid, mode, shardMode uint32
	}
	folders := map[string]setup{
		"public":       {0, 0, 0o644, 0o644},
		"privateshard": {0, 0, 0o644, 0o600},
		"group":        {0, nobody, 0o640, 0o640},
		"othergroup":   {0, 0, 0o640, 0o640},
	}
	for name, s := range folders {
		dir := filepath.Join(store, name)
		copyTree(t, src, dir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			mode := s.mode
			if e.Name() == bertShard {
				mode = s.shardMode
			}
			if err := os.Chown(p, int(s.uid), int(s.gid)); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, os.FileMode(mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
	traversable(t, store)
	mnt, _ := mountWithOptions(t, store, Options{AllowOther: true})
	traversable(t, filepath.Dir(mnt))

	generated := []string{model.Safetensors, model.TorchWeights, "config.json"}
	for name, s := range folders {
		for _, file := range append([]string{bertShard, "vocab.txt"}, generated...) {
			path := filepath.Join(mnt, name, file)
			original := file == bertShard || file == "vocab.txt"
			readable := s.mode&0o004 != 0 || s.gid == nobody && s.mode&0o040 != 0
			if file == bertShard || !original {
				// The shard's own mode, and the generated files' mode
				// derived from all the folder's sources.
				readable = readable && (s.shardMode&0o004 != 0 || s.gid == nobody && s.shardMode&0o040 != 0)
			}
			got, stderr, err := readAsNobody(t, path)
			switch {
			case readable && err != nil:
				t.Errorf("%s/%s: nobody cannot read it: %v: %s", name, file, err, stderr)
			case readable:
				want, rerr := os.ReadFile(path)
				if rerr != nil || !bytes.Equal(got, want) {
					t.Errorf("%s/%s: nobody read different bytes (%v)", name, file, rerr)
				}
			case err == nil:
				t.Errorf("%s/%s: nobody read %d bytes of a file it may not read", name, file, len(got))
			case !strings.Contains(stderr, "Permission denied"):
				t.Errorf("%s/%s: refused with %q, want EACCES", name, file, stderr)
			}
		}
	}

	// What the kernel checks: the attributes the view reports.
	for _, c := range []struct {
		path           string
		uid, gid, perm uint32
	}{
		{"privateshard/" + bertShard, 0, 0, 0o400},
		{"privateshard/vocab.txt", 0, 0, 0o444},
		{"privateshard/" + model.Safetensors, 0, 0, 0o400},
		{"public/" + model.TorchWeights, 0, 0, 0o444},
		{"group/" + model.Safetensors, 0, nobody, 0o440},
		{"group/config.json", 0, nobody, 0o440},
	} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(mnt, c.path), &st); err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if st.Uid != c.uid || st.Gid != c.gid || st.Mode&0o7777 != c.perm {
			t.Errorf("%s: %d:%d %o, want %d:%d %o", c.path, st.Uid, st.Gid, st.Mode&0o7777, c.uid, c.gid, c.perm)
		}
	}
}

// A chmod of a source file is a change of the folder: once it is noticed,
// the generated files report the mode derived from the new one.
func TestAChmodOfASourceChangesTheGeneratedFilesMode(t *testing.T) {
	store := t.TempDir()
	copyTree(t, filepath.Join(sampleStore, bertBase), filepath.Join(store, "m"))
	mnt := mountWith(t, store, Options{Recheck: 50 * time.Millisecond})
	weights := filepath.Join(mnt, "m", model.Safetensors)
	mode := func() os.FileMode {
		fi, err := os.Stat(weights)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(); m&0o044 != 0o044 {
		t.Fatalf("generated file mode %v before the chmod, want group and other readable", m)
	}
	shard := filepath.Join(store, "m", "bert_model.ckpt.data-00000-of-00001")
	if err := os.Chmod(shard, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for mode()&0o044 != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("generated file mode still %v 5 s after its shard became 0600", mode())
		}
		time.Sleep(60 * time.Millisecond)
	}
}
