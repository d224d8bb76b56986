// Package index is the tensor-offset index: for every byte range of a virtual
// file it says whether the bytes are header bytes held in memory, a run of a
// source file served as it is, or part of a tensor that is converted on
// demand. Plans are built from checkpoint metadata alone, so a file's size and
// header are known before any tensor data is read.
package index

import (
	"sort"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// RunKind says where a run's bytes come from.
type RunKind uint8

const (
	// Literal bytes are held in Run.Data (headers, pickles, padding).
	Literal RunKind = iota
	// Source bytes are a tensor's source bytes, served unchanged.
	Source
	// Converted bytes are a tensor's bytes after its transform, computed in
	// chunks and cached.
	Converted
)

func (k RunKind) String() string {
	switch k {
	case Literal:
		return "literal"
	case Source:
		return "source"
	}
	return "converted"
}

// Run is one contiguous byte range of a virtual file.
type Run struct {
	Off  int64 // offset in the virtual file
	Len  int64
	Kind RunKind
	Data []byte // Literal only; len(Data) == Len
	// Tensor indexes Plan.Tensors (Source and Converted); TensorOff is the
	// offset of the run's first byte within that tensor's output bytes.
	Tensor    int
	TensorOff int64
}

// Plan is the index of one virtual file.
type Plan struct {
	Size    int64
	Runs    []Run // sorted by Off, contiguous, covering [0, Size)
	Tensors []*tensor.Tensor
}

// Find returns the index of the run containing off, or -1 past the end.
func (p *Plan) Find(off int64) int {
	if off < 0 || off >= p.Size {
		return -1
	}
	return sort.Search(len(p.Runs), func(i int) bool { return p.Runs[i].Off+p.Runs[i].Len > off })
}

// Builder appends runs in file order.
type Builder struct {
	plan Plan
}

// NewBuilder starts a plan over the given tensors.
func NewBuilder(tensors []*tensor.Tensor) *Builder {
	return &Builder{plan: Plan{Tensors: tensors}}
}

// Offset is the current end of the file being built.
func (b *Builder) Offset() int64 { return b.plan.Size }

// Literal appends bytes held in memory; consecutive literals are merged.
func (b *Builder) Literal(data []byte) {
	if len(data) == 0 {
		return
	}
	if n := len(b.plan.Runs); n > 0 && b.plan.Runs[n-1].Kind == Literal {
		last := &b.plan.Runs[n-1]
		last.Data = append(last.Data, data...)
		last.Len += int64(len(data))
		b.plan.Size += int64(len(data))
		return
	}
	b.plan.Runs = append(b.plan.Runs, Run{Off: b.plan.Size, Len: int64(len(data)), Kind: Literal, Data: append([]byte(nil), data...)})
	b.plan.Size += int64(len(data))
}

// Zeros appends n zero bytes (alignment padding).
func (b *Builder) Zeros(n int) { b.Literal(make([]byte, n)) }

// Tensor appends all output bytes of tensor i of the plan. A computed
// tensor's bytes are a literal run: they are known already.
func (b *Builder) Tensor(i int) {
	t := b.plan.Tensors[i]
	n := t.Bytes()
	if n == 0 {
		return
	}
	if t.Computed() {
		b.Literal(t.Data)
		return
	}
	kind := Source
	if t.Converted() {
		kind = Converted
	}
	b.plan.Runs = append(b.plan.Runs, Run{Off: b.plan.Size, Len: n, Kind: kind, Tensor: i})
	b.plan.Size += n
}

// Plan returns the finished plan.
func (b *Builder) Plan() *Plan { return &b.plan }
