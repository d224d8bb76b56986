package index

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// SourceSpan says where bytes [off, off+n) of the virtual file lie when
// they are one piece of one source file, so the caller can hand the kernel
// that file range (splice) instead of copying the bytes through memory. ok
// is false when the range holds anything else, or when the tensor has no
// recorded checksum (only a verified tensor is known to be all there). The
// tensor's checksum is verified first, as for every other read. f is a
// descriptor of the caller's own, which it must close: the kernel reads it
// after the call, when the set's own handle may have been dropped.
func (r *Reader) SourceSpan(off int64, n int) (f *os.File, fileOff int64, size int, ok bool, err error) {
	if off < 0 || off >= r.plan.Size || n <= 0 {
		return nil, 0, 0, false, nil
	}
	n = int(min(int64(n), r.plan.Size-off))
	run := &r.plan.Runs[r.plan.Find(off)]
	within := off - run.Off
	if run.Kind != Source || within+int64(n) > run.Len {
		return nil, 0, 0, false, nil
	}
	src := r.plan.Tensors[run.Tensor].Src
	root := src
	for root.Parent != nil {
		root = root.Parent
	}
	if !root.HasCRC {
		return nil, 0, 0, false, nil
	}
	if err := r.sources.verify(src); err != nil {
		return nil, 0, 0, false, err
	}
	at := run.TensorOff + within
	for _, e := range src.Extents {
		if at >= e.Length {
			at -= e.Length
			continue
		}
		if at+int64(n) > e.Length {
			return nil, 0, 0, false, nil // crosses into the next extent
		}
		f, err := r.sources.spliceFile(e.Path, src.Name)
		if err != nil || f == nil {
			return nil, 0, 0, false, err // f == nil: not a real file, copy instead
		}
		r.afterRead(off, off+int64(n))
		return f, e.Offset + at, n, true, nil
	}
	return nil, 0, 0, false, nil
}

// spliceFile gives a duplicate descriptor of the open source file path,
// after checking (with the retries of every read) that the file is still
// the version that was verified and planned: the kernel reads the range
// after we return. It is nil when the opener gives no real files.
func (s *Sources) spliceFile(path, tensorName string) (*os.File, error) {
	var dup *os.File
	err := s.withRetries(path, tensorName, func() error {
		sf, err := s.file(path)
		if err != nil {
			return err
		}
		if err := s.unchanged(sf); err != nil {
			if needsReopen(err) {
				s.drop(path, sf)
			}
			return err
		}
		dup, err = s.dup(path, sf)
		return err
	})
	return dup, err
}

// dup duplicates sf's descriptor while the set still holds it open (drop
// and Close close under the same lock), so the copy cannot be of a number
// already reused for another file.
func (s *Sources) dup(path string, sf *openSource) (*os.File, error) {
	f, ok := sf.f.(*os.File)
	if !ok {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.files[path] != sf {
		return nil, syscall.ESTALE // dropped meanwhile: reopen
	}
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}
