package fusefs

import (
	"os"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// With --allow-other the kernel checks permissions (default_permissions)
// against the attributes the view reports. An original file reports its
// source's owner, group and mode. A generated file is made from several
// source files, so it reports what lets no one read it who could not read
// every one of them.

// ownership is the owner, group and permission bits a file reports.
type ownership struct {
	uid, gid, perm uint32
}

// derivedOwnership combines the sources' attributes into the generated
// file's: the common owner and group if all agree, else root (whose class
// bits then stay clear); a read bit only where every source grants it to
// that class and to every class the kernel would check first for some
// reader (the owner class before the group class before others), so that
// an owner or group member refused by a source is refused by the view too.
func derivedOwnership(sources []syscall.Stat_t) ownership {
	if len(sources) == 0 {
		return ownership{}
	}
	o := ownership{uid: sources[0].Uid, gid: sources[0].Gid}
	sameOwner, sameGroup := true, true
	for _, s := range sources {
		sameOwner = sameOwner && s.Uid == o.uid
		sameGroup = sameGroup && s.Gid == o.gid
	}
	if !sameOwner {
		o.uid = 0
	}
	if !sameGroup {
		o.gid = 0
	}
	user, group, other := sameOwner, sameGroup, true
	for _, s := range sources {
		u, g, a := s.Mode&syscall.S_IRUSR != 0, s.Mode&syscall.S_IRGRP != 0, s.Mode&syscall.S_IROTH != 0
		user = user && u
		// A member of the group may own one of the sources.
		group = group && g && u
		// Someone outside the view's owner and group may still own a
		// source or be in its group.
		other = other && a && g && u
	}
	if user {
		o.perm |= syscall.S_IRUSR
	}
	if group {
		o.perm |= syscall.S_IRGRP
	}
	if other {
		o.perm |= syscall.S_IROTH
	}
	return o
}

// modelSources describes the source files a model folder's generated files
// are made from: its original files as the view shows them. The families
// read configs, vocabularies, checkpoint indexes and shards by name, so
// every original file of the folder counts, which errs towards refusing.
func (s *store) modelSources(dir string) []syscall.Stat_t {
	rel, err := filepath.Rel(s.root, dir)
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []syscall.Stat_t
	for _, e := range entries {
		var st syscall.Stat_t
		if err := s.stat(filepath.Join(rel, e.Name()), &st); err != nil {
			continue // not shown in the view
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFREG {
			out = append(out, st)
		}
	}
	return out
}

// setGeneratedOwnership gives a generated file of the model folder dir the
// owner, group and mode derived from its sources; with none readable it
// reports mode 0 owned by root.
func (s *store) setGeneratedOwnership(a *fuse.Attr, dir string) {
	o := derivedOwnership(s.modelSources(dir))
	a.Uid, a.Gid = o.uid, o.gid
	a.Mode = syscall.S_IFREG | o.perm
}
