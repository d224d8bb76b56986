package torchpickle

import (
	"fmt"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/ckptfs/ckptfs/lazyconv/dtype"
)

// A pickle names Python callables ("globals") that the loader would call.
// ckptfs calls none of them: the few a state dict and XLM's training flags
// need are stood in for by Go values that only record their arguments, and
// any other global is refused. gopickle answers a handful itself before
// asking: the plain containers (collections.OrderedDict, builtins.list and
// builtins.dict) and inert Go stand-ins for __builtin__.object,
// copy_reg._reconstructor and array._array_reconstructor; none of them runs
// anything, and the class an object would be rebuilt as is itself a global
// that comes here.

// storageClass stands for torch.<X>Storage, naming a storage's dtype.
type storageClass struct{ dtype dtype.DType }

var storageClasses = map[string]dtype.DType{}

func init() {
	for _, d := range []dtype.DType{dtype.F32, dtype.F16, dtype.BF16, dtype.F64, dtype.I8, dtype.I16,
		dtype.I32, dtype.I64, dtype.U8, dtype.Bool} {
		storageClasses[d.TorchStorage()] = d
	}
}

// callable adapts a Go function to gopickle's REDUCE.
type callable func(args ...any) (any, error)

func (f callable) Call(args ...any) (any, error) { return f(args...) }

// findClass is the allow-list of globals.
func (u *unpickling) findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return callable(u.rebuildTensor), nil
	case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset":
		return callable(newSet), nil
	case "_codecs.encode":
		return callable(latin1Encode), nil
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
		return callable(func(...any) (any, error) { return &opaqueBuilder{Opaque{Class: "numpy.ndarray"}}, nil }), nil
	case "numpy.dtype":
		return callable(func(...any) (any, error) { return &opaqueBuilder{Opaque{Class: "numpy.dtype"}}, nil }), nil
	case "numpy.ndarray":
		return &Opaque{Class: "numpy.ndarray"}, nil
	}
	if module == "torch" {
		if d, ok := storageClasses[name]; ok {
			return storageClass{d}, nil
		}
	}
	return nil, fmt.Errorf("refused global %s.%s: only tensors, storages, containers and NumPy arrays are read, and nothing in a checkpoint is ever run", module, name)
}

// pySet is a set or frozenset built from the list torch.save (protocol 2)
// pickles it as.
type pySet struct{ items []any }

func newSet(args ...any) (any, error) {
	if len(args) == 0 {
		return &pySet{}, nil
	}
	switch x := args[0].(type) {
	case *types.List:
		return &pySet{items: *x}, nil
	case *types.Tuple:
		return &pySet{items: *x}, nil
	}
	return nil, fmt.Errorf("set() of %T", args[0])
}

// latin1Encode is _codecs.encode(text, "latin1"), which protocol 2 uses to
// pickle bytes.
func latin1Encode(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("_codecs.encode takes 2 arguments, got %d", len(args))
	}
	text, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
		return nil, fmt.Errorf("_codecs.encode(%T, %v): only latin1 text is read", args[0], args[1])
	}
	out := make([]byte, 0, len(text))
	for _, r := range text {
		if r > 0xff {
			return nil, fmt.Errorf("_codecs.encode: %U is not latin1", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// opaqueBuilder is a NumPy object being unpickled: it takes its state
// (BUILD) without decoding it.
type opaqueBuilder struct{ Opaque }

func (o *opaqueBuilder) PySetState(any) error { return nil }
