package index

import (
	"fmt"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/transform"
)

// chunkTarget is the size converted tensors are cut into for caching: big
// enough that a sequential reader triggers few conversions, small enough
// that a random reader does not convert far more than it reads.
const chunkTarget = 16 << 20

// Reader serves the bytes of one virtual file from its plan.
type Reader struct {
	plan    *Plan
	id      string // distinguishes this model's chunks in the shared cache
	chunks  *cache.Chunks
	sources *Sources
}

// NewReader serves plan. id must identify the model and the state of its
// sources (chunks are cached under it); sources may be shared by the
// readers of one model so checksums are verified once.
func NewReader(id string, plan *Plan, chunks *cache.Chunks, sources *Sources) *Reader {
	return &Reader{plan: plan, id: id, chunks: chunks, sources: sources}
}

// Size is the virtual file's length.
func (r *Reader) Size() int64 { return r.plan.Size }

// ReadAt fills p from offset off. It returns fewer bytes than len(p) only at
// the end of the file.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.plan.Size {
		return 0, nil
	}
	if rest := r.plan.Size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	total := len(p)
	for i := r.plan.Find(off); len(p) > 0; i++ {
		run := &r.plan.Runs[i]
		within := off - run.Off
		n := min(int64(len(p)), run.Len-within)
		if err := r.readRun(run, p[:n], within); err != nil {
			return 0, err
		}
		p = p[n:]
		off += n
	}
	return total, nil
}

func (r *Reader) readRun(run *Run, p []byte, within int64) error {
	switch run.Kind {
	case Literal:
		copy(p, run.Data[within:])
		return nil
	case Source:
		t := r.plan.Tensors[run.Tensor]
		return r.sources.ReadAt(t.Src, p, run.TensorOff+within)
	}
	return r.readConverted(r.plan.Tensors[run.Tensor], p, run.TensorOff+within)
}

// readConverted copies converted bytes [off, off+len(p)) of tensor t.
func (r *Reader) readConverted(t *tensor.Tensor, p []byte, off int64) error {
	rowBytes, rowsPerChunk := chunking(t)
	chunkBytes := rowBytes * rowsPerChunk
	for len(p) > 0 {
		c := off / chunkBytes
		data, err := r.chunks.Get(fmt.Sprintf("%s\x00%s\x00%d", r.id, t.Name, c), func() ([]byte, error) {
			return r.convert(t, c*rowsPerChunk, min((c+1)*rowsPerChunk, t.Shape[0]))
		})
		if err != nil {
			return err
		}
		n := copy(p, data[off-c*chunkBytes:])
		p = p[n:]
		off += int64(n)
	}
	return nil
}

// outputRows is the number of rows a converted tensor is cut along: its
// first dimension (a scalar is one row).
func outputRows(t *tensor.Tensor) int64 {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[0]
}

// chunking cuts a converted tensor into whole output rows.
func chunking(t *tensor.Tensor) (rowBytes, rowsPerChunk int64) {
	rowBytes = t.Bytes() / outputRows(t)
	rowsPerChunk = max(1, chunkTarget/rowBytes)
	return rowBytes, rowsPerChunk
}

// convert computes output rows [r0, r1) of tensor t: the rows in the
// source's dtype (transposed if asked), then widened if the output dtype is
// wider.
func (r *Reader) convert(t *tensor.Tensor, r0, r1 int64) ([]byte, error) {
	fail := func(err error) error { return fmt.Errorf("%s: tensor %s: %w", t.Src.File, t.Src.Name, err) }
	src := make([]byte, t.Src.Bytes())
	if err := r.sources.ReadAt(t.Src, src, 0); err != nil {
		return nil, err
	}
	srcRowBytes := t.Src.Bytes() / outputRows(t)
	var rows []byte
	switch t.Transform {
	case tensor.Identity:
		rows = src[r0*srcRowBytes : r1*srcRowBytes]
	case tensor.Transpose2D:
		rows = make([]byte, (r1-r0)*srcRowBytes)
		if err := transform.TransposeRows(rows, src, t.Src.Shape[0], t.Src.Shape[1], r0, r1, t.Src.DType.Size()); err != nil {
			return nil, fail(err)
		}
	default:
		return nil, fail(fmt.Errorf("unknown transform %d", t.Transform))
	}
	if t.DType == t.Src.DType {
		return rows, nil
	}
	out, err := transform.Widen(rows, t.Src.DType, t.DType)
	if err != nil {
		return nil, fail(err)
	}
	return out, nil
}
