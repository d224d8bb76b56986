package fusefs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

const bertShard = "bert_model.ckpt.data-00000-of-00001"

// linkStore builds a store whose links/ folder holds symlinks that stay
// inside it and symlinks that lead out, next to models whose shard is a
// link: badmodel's leads outside, linkedmodel's stays inside. It returns
// the store and the outside folder.
func linkStore(t *testing.T) (store, outside string) {
	t.Helper()
	store, outside = t.TempDir(), t.TempDir()
	src := filepath.Join(sampleStore, bertBase)
	copyTree(t, src, filepath.Join(store, "m"))
	copyTree(t, src, filepath.Join(store, "m2"))
	copyTree(t, src, filepath.Join(store, "badmodel"))
	copyTree(t, src, filepath.Join(store, "linkedmodel"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside the store\n"), 0o644))
	must(os.Mkdir(filepath.Join(outside, "secretdir"), 0o755))
	must(os.WriteFile(filepath.Join(outside, "secretdir", "secret.txt"), []byte("outside the store\n"), 0o644))
	must(os.Rename(filepath.Join(store, "badmodel", bertShard), filepath.Join(outside, bertShard)))
	must(os.Symlink(filepath.Join(outside, bertShard), filepath.Join(store, "badmodel", bertShard)))
	must(os.Remove(filepath.Join(store, "linkedmodel", bertShard)))
	must(os.Symlink(filepath.Join("..", "m", bertShard), filepath.Join(store, "linkedmodel", bertShard)))

	links := filepath.Join(store, "links")
	must(os.Mkdir(links, 0o755))
	relOutside, err := filepath.Rel(links, filepath.Join(outside, "secret.txt"))
	must(err)
	for name, target := range map[string]string{
		"out_file": filepath.Join(outside, "secret.txt"),
		"out_rel":  relOutside,
		"out_dir":  filepath.Join(outside, "secretdir"),
		"out_root": "/",
		"dangling": "nothing-here",
		"in_file":  "../m/vocab.txt",
		"in_abs":   filepath.Join(store, "m", "bert_config.json"),
		"in_dir":   "../m",
		"in_dir2":  "../m2",
		"swap":     "../m/vocab.txt",
	} {
		must(os.Symlink(target, filepath.Join(links, name)))
	}
	return store, outside
}

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestSymlinksLeadingOutsideAreHidden(t *testing.T) {
	store, _ := linkStore(t)
	mnt, logs := mountWithOptions(t, store, Options{})
	links := filepath.Join(mnt, "links")

	if got, want := strings.Join(listNames(t, links), " "), "in_abs in_dir in_dir2 in_file swap"; got != want {
		t.Errorf("links/ lists %q, want %q", got, want)
	}
	for _, name := range []string{"out_file", "out_rel", "out_dir", "out_dir/secret.txt", "out_root", "out_root/etc", "dangling"} {
		if _, err := os.Stat(filepath.Join(links, name)); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("stat %s: %v, want ENOENT", name, err)
		}
		if _, err := os.ReadFile(filepath.Join(links, name)); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("read %s: %v, want ENOENT", name, err)
		}
	}

	// Links that stay inside are followed, files and folders alike; a
	// model folder seen through a link is still a model folder.
	for view, orig := range map[string]string{"in_file": "m/vocab.txt", "in_abs": "m/bert_config.json", "in_dir/vocab.txt": "m/vocab.txt"} {
		want, _ := os.ReadFile(filepath.Join(store, orig))
		if got, err := os.ReadFile(filepath.Join(links, view)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, or differs from %s", view, err, orig)
		}
	}
	want := materialise(t, filepath.Join(sampleStore, bertBase), model.Safetensors)
	for _, path := range []string{filepath.Join(links, "in_dir", model.Safetensors), filepath.Join(mnt, "linkedmodel", model.Safetensors)} {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, or differs from the model's weights", path, err)
		}
	}

	// A model folder holding a link that leads outside fails, naming it.
	for i := 0; i < 2; i++ {
		if _, err := os.ReadFile(filepath.Join(mnt, "badmodel", model.Safetensors)); !errors.Is(err, syscall.EIO) {
			t.Errorf("weights of a model with a link leading outside: %v, want EIO", err)
		}
	}
	if _, err := os.ReadFile(filepath.Join(mnt, "badmodel", "vocab.txt")); err != nil {
		t.Errorf("the folder's other files must still be served: %v", err)
	}
	linkPath := filepath.Join(store, "badmodel", bertShard)
	if n := strings.Count(logs.String(), linkPath+": symlink leads outside the store"); n != 1 {
		t.Errorf("%d log lines name %s, want 1; log:\n%s", n, linkPath, logs.String())
	}

	// No path of the view leads to anything outside the store.
	err := filepath.Walk(mnt, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Name() == "secret.txt" || fi.Name() == "secretdir" {
			t.Errorf("%s reached outside the store", path)
		}
		return nil
	})
	if err != nil {
		t.Errorf("walking the mount: %v", err)
	}
}

func TestSymlinkRepointedOutsideIsRefusedAtOpen(t *testing.T) {
	store, outside := linkStore(t)
	mnt, logs := mountWithOptions(t, store, Options{})
	swap := filepath.Join(mnt, "links", "swap")
	if _, err := os.ReadFile(swap); err != nil {
		t.Fatal(err)
	}
	dir2 := filepath.Join(mnt, "links", "in_dir2")
	if _, err := os.Stat(filepath.Join(dir2, "vocab.txt")); err != nil {
		t.Fatal(err)
	}
	// Repointed after the kernel looked them up (and, for its entry
	// timeout, still trusts them).
	for name, target := range map[string]string{"swap": filepath.Join(outside, "secret.txt"), "in_dir2": filepath.Join(outside, "secretdir")} {
		link := filepath.Join(store, "links", name)
		if err := os.Remove(link); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := os.ReadFile(swap); !errors.Is(err, syscall.EACCES) {
		t.Errorf("open of a link repointed outside: %q, %v; want EACCES", got, err)
	}
	if names, err := os.ReadDir(dir2); !errors.Is(err, syscall.EACCES) {
		t.Errorf("listing a folder link repointed outside: %v, %v; want EACCES", names, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir2, "secret.txt")); !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.EACCES) {
		t.Errorf("a file through a folder link repointed outside: %q, %v; want ENOENT or EACCES", got, err)
	}
	if !strings.Contains(logs.String(), "refused: "+filepath.Join(store, "links", "swap")) {
		t.Errorf("the refusal is not logged:\n%s", logs.String())
	}
}

func TestFollowSymlinksFollowsLinksLeadingOutside(t *testing.T) {
	store, outside := linkStore(t)
	mnt, _ := mountWithOptions(t, store, Options{FollowSymlinks: true})
	links := filepath.Join(mnt, "links")
	if got, want := strings.Join(listNames(t, links), " "), "in_abs in_dir in_dir2 in_file out_dir out_file out_rel out_root swap"; got != want {
		t.Errorf("links/ lists %q, want %q", got, want)
	}
	secret, _ := os.ReadFile(filepath.Join(outside, "secret.txt"))
	for _, name := range []string{"out_file", "out_rel", "out_dir/secret.txt"} {
		if got, err := os.ReadFile(filepath.Join(links, name)); err != nil || !bytes.Equal(got, secret) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	want := materialise(t, filepath.Join(sampleStore, bertBase), model.Safetensors)
	if got, err := os.ReadFile(filepath.Join(mnt, "badmodel", model.Safetensors)); err != nil || !bytes.Equal(got, want) {
		t.Errorf("a model whose shard is a link outside: %v, or differs", err)
	}
}

// TestOpenCheckedRefusesADescriptorOutside covers the open used where
// openat2 is missing: it trusts only where the opened descriptor leads.
func TestOpenCheckedRefusesADescriptorOutside(t *testing.T) {
	root, outside := linkStore(t)
	s := &store{root: root}
	f, err := s.openChecked("m/vocab.txt", filepath.Join(root, "m", "vocab.txt"))
	if err != nil {
		t.Fatalf("a file inside: %v", err)
	}
	f.Close()
	// As if the path had been swapped for one leading outside between the
	// check and the open.
	var oe *outsideError
	if f, err := s.openChecked("links/swap", filepath.Join(outside, "secret.txt")); !errors.As(err, &oe) {
		if f != nil {
			f.Close()
		}
		t.Errorf("a descriptor outside the store: %v, want refused", err)
	}
	// A last component that is a symlink is not followed at all.
	if f, err := s.openChecked("links/in_file", filepath.Join(root, "links", "in_file")); !errors.Is(err, syscall.ELOOP) {
		if f != nil {
			f.Close()
		}
		t.Errorf("a symlink as the last component: %v, want ELOOP", err)
	}
}

// A checkpoint state file may name a prefix anywhere (TF1 writes absolute
// paths); a model whose tensors would come from outside the store is
// refused like a link leading there, unless --follow-symlinks.
func TestACheckpointFileNamingAPrefixOutsideIsRefused(t *testing.T) {
	base := t.TempDir()
	store, elsewhere := filepath.Join(base, "store"), filepath.Join(base, "elsewhere")
	from := filepath.Join(sampleStore, "steps/uncased_two_steps")
	copyTree(t, from, filepath.Join(store, "m"))
	copyTree(t, from, elsewhere)
	state := "model_checkpoint_path: \"" + filepath.Join(elsewhere, "model.ckpt-1") + "\"\n"
	if err := os.WriteFile(filepath.Join(store, "m", "checkpoint"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	mnt, logs := mountWithOptions(t, store, Options{})
	if _, err := os.ReadFile(filepath.Join(mnt, "m", model.Safetensors)); !errors.Is(err, syscall.EIO) {
		t.Errorf("reading weights made from outside the store: %v, want EIO", err)
	}
	if !strings.Contains(logs.String(), "outside the store") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
	followed, _ := mountWithOptions(t, store, Options{FollowSymlinks: true})
	if _, err := os.ReadFile(filepath.Join(followed, "m", model.Safetensors)); err != nil {
		t.Errorf("with --follow-symlinks: %v", err)
	}
}
