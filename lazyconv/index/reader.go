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
	ahead   readAhead
	sizes   sizes
}

// sizes are the cuts a Reader makes; tests shrink them.
type sizes struct {
	whole  int64 // largest tensor converted in one piece
	chunk  int64 // target chunk size of larger ones
	window int64 // how far ahead of a sequential reader to prepare
	band   int64 // source bytes a chunk of a larger transpose reads at once
	slack  int64 // how far from a stream's end a read still continues it
}

// NewReader serves plan. id must identify the model and the state of its
// sources (chunks are cached under it); sources may be shared by the
// readers of one model so checksums are verified once.
func NewReader(id string, plan *Plan, chunks *cache.Chunks, sources *Sources) *Reader {
	// A chunk the cache cannot keep would be converted again for every
	// request that falls in it: with a small cache, chunks shrink to an
	// eighth of it.
	limit := max(chunks.Max()/8, 1)
	return &Reader{plan: plan, id: id, chunks: chunks, sources: sources,
		sizes: sizes{whole: min(wholeTensorMax, limit), chunk: min(chunkTarget, limit), window: prefetchWindow, band: stripBand, slack: sequentialSlack}}
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
	r.afterRead(off-int64(total), off)
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
	rowBytes, rowsPerChunk := r.chunking(t)
	chunkBytes := rowBytes * rowsPerChunk
	for len(p) > 0 {
		c := off / chunkBytes
		data, err := r.chunk(t, c)
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

// wholeTensorMax is the largest tensor converted in one piece: reading its
// source once, checksumming and converting that one buffer costs less than
// cutting it, and every model's kernels but the largest fit.
const wholeTensorMax = 32 << 20

// stripBand bounds the source bytes a chunk of a larger transposed tensor
// holds at once.
const stripBand = 2 << 20

// chunking cuts a converted tensor into whole output rows: one chunk up to
// wholeTensorMax, chunks of about chunkTarget beyond.
func (r *Reader) chunking(t *tensor.Tensor) (rowBytes, rowsPerChunk int64) {
	rowBytes = t.Bytes() / outputRows(t)
	if t.Bytes() <= r.sizes.whole {
		return rowBytes, outputRows(t)
	}
	rowsPerChunk = max(1, r.sizes.chunk/rowBytes)
	return rowBytes, rowsPerChunk
}

// convert computes output rows [r0, r1) of tensor t: the rows in the
// source's dtype (transposed if asked), then widened if the output dtype is
// wider. A whole tensor is read once and checksummed on the buffer that is
// converted; a chunk of a larger one reads only the source bytes it needs.
func (r *Reader) convert(t *tensor.Tensor, r0, r1 int64) ([]byte, error) {
	fail := func(err error) error { return fmt.Errorf("%s: tensor %s: %w", t.Src.File, t.Src.Name, err) }
	whole := r0 == 0 && r1 == outputRows(t)
	srcRowBytes := t.Src.Bytes() / outputRows(t)
	rows := make([]byte, (r1-r0)*srcRowBytes)
	switch t.Transform {
	case tensor.Identity:
		if err := r.sources.readRows(t.Src, rows, r0*srcRowBytes, whole); err != nil {
			return nil, err
		}
	case tensor.Transpose2D:
		srcRows, cols, elem := t.Src.Shape[0], t.Src.Shape[1], int64(t.Src.DType.Size())
		if whole {
			src := make([]byte, t.Src.Bytes())
			if err := r.sources.readRows(t.Src, src, 0, true); err != nil {
				return nil, err
			}
			if err := transform.TransposeRows(rows, src, srcRows, cols, r0, r1, int(elem)); err != nil {
				return nil, fail(err)
			}
			break
		}
		// Output rows [r0, r1) are source columns [r0, r1): read that strip
		// of the source a band of rows at a time and transpose each band
		// into place, so the chunk needs little memory beyond itself.
		if err := r.sources.verify(t.Src); err != nil {
			return nil, err
		}
		// A strip of at least an eighth of each row is read as whole rows
		// (one read per band) and cut out in memory; a narrower one with one
		// read per row.
		width, rowBytes := (r1-r0)*elem, cols*elem
		var whole []byte
		perRow := width
		if width*8 >= rowBytes {
			perRow = rowBytes
		}
		band := max(1, min(srcRows, r.sizes.band/perRow))
		if perRow == rowBytes {
			whole = make([]byte, band*rowBytes)
		}
		strip := make([]byte, band*width)
		for i0 := int64(0); i0 < srcRows; i0 += band {
			i1 := min(i0+band, srcRows)
			piece := strip[:(i1-i0)*width]
			if err := r.sources.readStrip(t.Src, piece, whole, i0, i1, rowBytes, r0*elem, width); err != nil {
				return nil, err
			}
			if err := transform.TransposeBand(rows[i0*elem:], srcRows, piece, i1-i0, r1-r0, int(elem)); err != nil {
				return nil, fail(err)
			}
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
