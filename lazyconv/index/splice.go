package index

import (
	"fmt"
	"os"
)

// SourceSpan says where bytes [off, off+n) of the virtual file lie when
// they are one piece of one source file, so the caller can hand the kernel
// that file range (splice) instead of copying the bytes through memory. ok
// is false when the range holds anything else, or when the tensor has no
// recorded checksum (only a verified tensor is known to be all there). The
// tensor's checksum is verified first, as for every other read.
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
		sf, err := r.sources.file(e.Path)
		if err != nil {
			return nil, 0, 0, false, fmt.Errorf("tensor %s: %w", src.Name, err)
		}
		f, isOS := sf.f.(*os.File)
		if !isOS {
			return nil, 0, 0, false, nil // an opener of other files: copy instead
		}
		// The kernel reads the range after we return: check now that the
		// file is still the version that was verified and planned.
		if err := r.sources.unchanged(sf); err != nil {
			return nil, 0, 0, false, &ReadError{Path: e.Path, Tensor: src.Name, Attempts: 1, Err: err}
		}
		r.afterRead(off, off+int64(n))
		return f, e.Offset + at, n, true, nil
	}
	return nil, 0, 0, false, nil
}
