package torchpickle

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// unpickling reads the pickles of one file, collecting the storages their
// persistent ids name.
type unpickling struct {
	path   string
	legacy bool // persistent ids carry a sixth item, the view metadata
	// storages by key, and in the order the pickle first names them.
	storages map[string]*storage
	order    []*storage
}

func newUnpickling(path string, legacy bool) *unpickling {
	return &unpickling{path: path, legacy: legacy, storages: map[string]*storage{}}
}

// refusedError is a global outside the allow-list.
type refusedError struct{ err error }

func (e refusedError) Error() string { return e.err.Error() }

// load unpickles one complete pickle (its length already checked by
// pickleLength) and converts the result to plain Go values.
func (u *unpickling) load(data []byte) (v any, err error) {
	defer func() {
		// gopickle trusts its input in places (an odd SETITEMS, an
		// unhashable dict key); a malformed pickle must not take the
		// process down.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%s: malformed pickle: %v", u.path, r)
		}
	}()
	p := pickle.NewUnpickler(bytes.NewReader(data))
	p.FindClass = func(module, name string) (any, error) {
		c, err := u.findClass(module, name)
		if err != nil {
			return nil, refusedError{err}
		}
		return c, nil
	}
	p.PersistentLoad = u.persistentLoad
	obj, err := p.Load()
	if err != nil {
		var refused refusedError
		if errors.As(err, &refused) {
			return nil, fmt.Errorf("%s: %w", u.path, refused.err)
		}
		return nil, fmt.Errorf("%s: malformed pickle: %w", u.path, err)
	}
	out, err := newConverter().convert(obj, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: malformed pickle: %w", u.path, err)
	}
	return out, nil
}

// persistentLoad resolves ('storage', <torch.XStorage>, key, location,
// numel[, view_metadata]) to the storage it names.
func (u *unpickling) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || len(*t) == 0 {
		return nil, fmt.Errorf("persistent id %v is not a tuple", pid)
	}
	id := *t
	if kind, _ := id[0].(string); kind != "storage" {
		if kind == "module" {
			return nil, errors.New("unsupported: a pickled nn.Module (torch.save of a whole model); only state dicts are read")
		}
		return nil, fmt.Errorf("persistent id of kind %v, want 'storage'", id[0])
	}
	want := 5
	if u.legacy {
		want = 6
	}
	if len(id) != want {
		return nil, fmt.Errorf("storage id has %d items, want %d", len(id), want)
	}
	class, ok1 := id[1].(storageClass)
	key, ok2 := id[2].(string)
	_, ok3 := id[3].(string)
	numel, ok4 := toInt(id[4])
	if !ok1 || !ok2 || !ok3 || !ok4 || numel < 0 {
		return nil, fmt.Errorf("malformed storage id %v", id)
	}
	if u.legacy && id[5] != nil {
		return nil, fmt.Errorf("unsupported: storage %s is a view of another storage (torch < 1.0)", key)
	}
	if s, ok := u.storages[key]; ok {
		if s.DType != class.dtype || s.Numel != numel {
			return nil, fmt.Errorf("storage %s is named as %s[%d] and as %s[%d]", key, s.DType, s.Numel, class.dtype, numel)
		}
		return s, nil
	}
	s := &storage{Key: key, DType: class.dtype, Numel: numel}
	u.storages[key] = s
	u.order = append(u.order, s)
	return s, nil
}

// rebuildTensor records torch._utils._rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
func (u *unpickling) rebuildTensor(args ...any) (any, error) {
	if len(args) != 6 && len(args) != 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 takes 6 or 7 arguments, got %d", len(args))
	}
	s, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2 of %T, want a storage", args[0])
	}
	offset, ok := toInt(args[1])
	if !ok || offset < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage offset %v", args[1])
	}
	shape, ok1 := intTuple(args[2])
	stride, ok2 := intTuple(args[3])
	if !ok1 || !ok2 || len(shape) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v", args[2], args[3])
	}
	return &Tensor{DType: s.DType, Shape: shape, Stride: stride, StorageOffset: offset, storage: s, path: u.path}, nil
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), true
		}
	}
	return 0, false
}

func intTuple(v any) ([]int64, bool) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	out := make([]int64, len(*t))
	for i, x := range *t {
		n, ok := toInt(x)
		if !ok || n < 0 {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}
