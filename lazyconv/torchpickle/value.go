package torchpickle

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/nlpodyssey/gopickle/types"
)

// The unpickled object tree is handed out as plain Go values:
//
//	None → nil, bool, int → int64 (or *big.Int beyond 64 bits), float → float64,
//	str → string, bytes → []byte, dict / OrderedDict → *Dict, list → List,
//	tuple → Tuple, set / frozenset → Set, tensor → *Tensor,
//	NumPy array or dtype → *Opaque.

// Dict is a Python dict in insertion order, as pickled.
type Dict struct {
	Items []Item
}

// Item is one key/value pair of a Dict.
type Item struct {
	Key, Value any
}

// Get returns the value of a string key.
func (d *Dict) Get(key string) (any, bool) {
	for _, it := range d.Items {
		if k, ok := it.Key.(string); ok && k == key {
			return it.Value, true
		}
	}
	return nil, false
}

// List is a Python list.
type List []any

// Tuple is a Python tuple.
type Tuple []any

// Set is a Python set or frozenset; Python does not keep an order, so the
// items are sorted by their printed form to stay deterministic.
type Set []any

// Opaque stands for data a checkpoint may carry that ckptfs never needs
// (NumPy arrays in training flags); it is recorded, never decoded.
type Opaque struct {
	Class string
}

// maxDepth bounds nesting: deeper trees are not checkpoints, and walking
// them would only grow the stack.
const maxDepth = 200

// converter turns gopickle's values into the ones above. Containers are
// converted once each (a pickle may share one many times), and a container
// that holds itself is an error.
type converter struct {
	done       map[any]any
	inProgress map[any]bool
}

func newConverter() *converter {
	return &converter{done: map[any]any{}, inProgress: map[any]bool{}}
}

func (c *converter) convert(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("objects nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil, bool, string, float64, []byte, *Tensor, *Opaque:
		return v, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case *opaqueBuilder:
		return &x.Opaque, nil
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
		return x, nil
	case *types.List, *types.Tuple, *types.Dict, *types.OrderedDict, *types.Set, *types.FrozenSet, *pySet:
		if out, ok := c.done[v]; ok {
			return out, nil
		}
		if c.inProgress[v] {
			return nil, fmt.Errorf("a %s that contains itself", kindName(v))
		}
		c.inProgress[v] = true
		out, err := c.container(v, depth)
		delete(c.inProgress, v)
		if err != nil {
			return nil, err
		}
		c.done[v] = out
		return out, nil
	}
	return &Opaque{Class: fmt.Sprintf("%T", v)}, nil
}

func (c *converter) container(v any, depth int) (any, error) {
	items := func(in []any) ([]any, error) {
		out := make([]any, len(in))
		for i, x := range in {
			y, err := c.convert(x, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	switch x := v.(type) {
	case *types.List:
		out, err := items(*x)
		return List(out), err
	case *types.Tuple:
		out, err := items(*x)
		return Tuple(out), err
	case *pySet:
		out, err := items(x.items)
		return sortedSet(out), err
	case *types.Set:
		out, err := items(setKeys(*x))
		return sortedSet(out), err
	case *types.FrozenSet:
		out, err := items(frozenSetKeys(*x))
		return sortedSet(out), err
	case *types.Dict:
		b := newDictBuilder()
		for _, e := range *x {
			if err := c.addItem(b, e.Key, e.Value, depth); err != nil {
				return nil, err
			}
		}
		return b.dict, nil
	case *types.OrderedDict:
		b := newDictBuilder()
		for el := x.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := c.addItem(b, e.Key, e.Value, depth); err != nil {
				return nil, err
			}
		}
		return b.dict, nil
	}
	return nil, fmt.Errorf("unexpected container %T", v)
}

// dictBuilder fills a Dict the way Python does: a repeated key (of a type
// Go can compare) replaces the value and keeps its first position.
type dictBuilder struct {
	dict  *Dict
	index map[any]int
}

func newDictBuilder() *dictBuilder {
	return &dictBuilder{dict: &Dict{}, index: map[any]int{}}
}

func (c *converter) addItem(b *dictBuilder, key, value any, depth int) error {
	k, err := c.convert(key, depth+1)
	if err != nil {
		return err
	}
	val, err := c.convert(value, depth+1)
	if err != nil {
		return err
	}
	switch k.(type) {
	case string, int64, bool, float64:
		if i, ok := b.index[k]; ok {
			b.dict.Items[i].Value = val
			return nil
		}
		b.index[k] = len(b.dict.Items)
	}
	b.dict.Items = append(b.dict.Items, Item{Key: k, Value: val})
	return nil
}

func setKeys(s types.Set) []any {
	out := make([]any, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}

func frozenSetKeys(s types.FrozenSet) []any {
	out := make([]any, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}

func sortedSet(items []any) Set {
	sort.SliceStable(items, func(i, j int) bool { return fmt.Sprint(items[i]) < fmt.Sprint(items[j]) })
	return Set(items)
}

func kindName(v any) string {
	switch v.(type) {
	case *types.List:
		return "list"
	case *types.Tuple:
		return "tuple"
	case *types.Set, *types.FrozenSet, *pySet:
		return "set"
	}
	return "dict"
}
