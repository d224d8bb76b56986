package fusefs

import (
	"syscall"
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
