package fusefs

import (
	"encoding/binary"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/ckptfs/ckptfs/lazyconv/index"
)

// folderState is what a model folder's generated files are made from: the
// state (size, modification time, inode) of every file in the folder and
// of every source file outside it, and the owner, group and mode of the
// folder's files, from which the generated files' own are derived. NFS has
// no change notification, so the mount polls it: a different state is a
// new version of the model.
type folderState struct {
	files  map[string]index.FileState // by absolute path
	access map[string]fileAccess      // every file of the state
	hash   uint64
}

// fileAccess is who may read a file.
type fileAccess struct{ uid, gid, mode uint32 }

// readFolderState stats every file of dir (following symlinks, as reads
// do) and every path of outside. A file that vanished between listing and
// stat is left out: its absence is the state.
func readFolderState(dir string, outside []string) (folderState, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return folderState{}, err
	}
	st := folderState{files: map[string]index.FileState{}, access: map[string]fileAccess{}}
	add := func(path string) {
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		st.files[path] = index.StateOf(fi)
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			st.access[path] = fileAccess{uid: sys.Uid, gid: sys.Gid, mode: sys.Mode}
		}
	}
	for _, e := range entries {
		add(filepath.Join(dir, e.Name()))
	}
	for _, p := range outside {
		add(p)
	}
	st.hash = st.fingerprint()
	return st, nil
}

// fingerprint hashes the state in path order, so equal states hash equal
// across mounts and inode numbers derived from it are stable.
func (s folderState) fingerprint() uint64 {
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := fnv.New64a()
	var buf [8]byte
	for _, p := range paths {
		fs := s.files[p]
		h.Write([]byte(p))
		a := s.access[p]
		for _, v := range []uint64{uint64(fs.Size), uint64(fs.ModTime), fs.Ino, uint64(a.uid), uint64(a.gid), uint64(a.mode)} {
			binary.LittleEndian.PutUint64(buf[:], v)
			h.Write(buf[:])
		}
	}
	return h.Sum64()
}

// sameInside says whether a and b agree on every file inside dir: a load
// that saw the folder change under it is redone.
func sameInside(dir string, a, b folderState) bool {
	inside := func(p string) bool { return filepath.Dir(p) == dir }
	for p, fs := range a.files {
		if inside(p) && (b.files[p] != fs || b.access[p] != a.access[p]) {
			return false
		}
	}
	for p := range b.files {
		if _, ok := a.files[p]; inside(p) && !ok {
			return false
		}
	}
	return true
}

// ownership derives the generated files' owner, group and mode from the
// folder's files and the sources outside it (see derivedOwnership).
func (s folderState) ownership() ownership {
	var sources []syscall.Stat_t
	for _, a := range s.access {
		sources = append(sources, syscall.Stat_t{Uid: a.uid, Gid: a.gid, Mode: a.mode})
	}
	return derivedOwnership(sources)
}

// subset returns the states of paths.
func (s folderState) subset(paths []string) map[string]index.FileState {
	out := map[string]index.FileState{}
	for _, p := range paths {
		if fs, ok := s.files[p]; ok {
			out[p] = fs
		}
	}
	return out
}

// inodeNumber numbers a generated file of this version: a new version of
// the folder gives its generated files new numbers, so the kernel drops
// what it cached of the old ones.
func (lm *loadedModel) inodeNumber(rel string) uint64 {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], lm.state.hash)
	key := rel + "\x00" + string(buf[:])
	if lm.gen > 0 {
		binary.LittleEndian.PutUint64(buf[:], lm.gen)
		key += string(buf[:])
	}
	return inodeNumber(key)
}
