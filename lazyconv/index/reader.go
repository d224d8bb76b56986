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

// chunking cuts a converted tensor into whole output rows.
func chunking(t *tensor.Tensor) (rowBytes, rowsPerChunk int64) {
	rowBytes = t.Bytes() / t.Shape[0]
	rowsPerChunk = max(1, chunkTarget/rowBytes)
	return rowBytes, rowsPerChunk
}

// convert computes output rows [r0, r1) of tensor t.
func (r *Reader) convert(t *tensor.Tensor, r0, r1 int64) ([]byte, error) {
	src := make([]byte, t.Src.Bytes())
	if err := r.sources.ReadAt(t.Src, src, 0); err != nil {
		return nil, err
	}
	switch t.Transform {
	case tensor.Transpose2D:
		out := make([]byte, (r1-r0)*t.Bytes()/t.Shape[0])
		rows, cols := t.Src.Shape[0], t.Src.Shape[1]
		if err := transform.TransposeRows(out, src, rows, cols, r0, r1, t.DType.Size()); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %w", t.Src.File, t.Src.Name, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: tensor %s: unknown transform %d", t.Src.File, t.Src.Name, t.Transform)
}
