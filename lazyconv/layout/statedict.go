package layout

import (
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// setItemsBatch is how many dict items CPython's pickler puts under one
// SETITEMS; reproduced so data.pkl matches torch.save byte for byte.
const setItemsBatch = 1000

// stateEntry is one state-dict item as data.pkl stores it.
type stateEntry struct {
	name    string
	tensor  *tensor.Tensor
	storage string // storage key; the record is data/<storage>
}

// statePickle is the data.pkl torch.save writes for an OrderedDict of
// contiguous CPU tensors: each value is
// _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()), the
// storage a persistent id ('storage', <legacy storage class>, key, 'cpu',
// numel). Entries sharing a storage key share the record, as tensors that
// share memory (tied weights) do in torch.save.
func statePickle(entries []stateEntry) ([]byte, error) {
	p := newPickler()
	p.global("collections", "OrderedDict")
	p.endTuple(0)
	p.reduce()
	for start := 0; start < len(entries); start += setItemsBatch {
		batch := entries[start:min(start+setItemsBatch, len(entries))]
		if len(batch) == 1 {
			pickleEntry(p, batch[0])
			p.op(opSetItem)
			continue
		}
		p.op(opMark)
		for _, e := range batch {
			pickleEntry(p, e)
		}
		p.op(opSetItems)
	}
	return p.bytes()
}

func pickleEntry(p *pickler, e stateEntry) {
	t := e.tensor
	p.str(e.name)
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.startTuple(6)

	// Persistent id. "storage" and "cpu" are constants in torch, and the key
	// string of a shared storage is the same object each time, so CPython
	// memoizes all three.
	p.startTuple(5)
	p.sharedStr("storage", "storage")
	p.global("torch", t.DType.TorchStorage())
	p.sharedStr("storage key "+e.storage, e.storage)
	p.sharedStr("cpu", "cpu")
	p.int(tensor.NumElements(t.Shape))
	p.endTuple(5)
	p.op(opBinPersID)

	p.int(0) // storage offset
	p.ints(t.Shape)
	p.ints(contiguousStrides(t.Shape))
	p.op(opNewFalse) // requires_grad
	p.global("collections", "OrderedDict")
	p.endTuple(0)
	p.reduce() // backward hooks: an empty OrderedDict
	p.endTuple(6)
	p.reduce()
}

// contiguousStrides are the element strides of a row-major tensor, computed
// as torch does (a zero-length dimension counts as one).
func contiguousStrides(shape []int64) []int64 {
	strides := make([]int64, len(shape))
	step := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		strides[i] = step
		step *= max(shape[i], 1)
	}
	return strides
}
