package xlm

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/torchpickle"
)

// Release is what a training dump of facebookresearch/XLM holds
// (xlm/trainer.py save_model / save_checkpoint).
type Release struct {
	Path string
	// Model is the `model` state dict, in its order.
	Model []Entry
	// Params is `params`: every training flag, as a dict.
	Params *torchpickle.Dict
	// Word2ID is `dico_word2id`, in dictionary order.
	Word2ID []Word
	// Others are the remaining top-level entries (`dico_*`, `epoch`,
	// optimizer states, ...), kept to list the tensors left out.
	Others []torchpickle.Item
}

// Entry is one state-dict tensor.
type Entry struct {
	Name   string
	Tensor *torchpickle.Tensor
}

// Word is one dictionary entry.
type Word struct {
	Token string
	ID    int64
}

// ReadRelease opens a training dump and checks the parts the conversion
// needs.
func ReadRelease(path string) (*Release, error) {
	f, err := torchpickle.Open(path)
	if err != nil {
		return nil, err
	}
	root, ok := f.Root.(*torchpickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: holds a %T, not XLM's dict of model, params and dictionary", path, f.Root)
	}
	r := &Release{Path: path}
	var model, params, word2id any
	for _, it := range root.Items {
		switch it.Key {
		case "model":
			model = it.Value
		case "params":
			params = it.Value
		case "dico_word2id":
			word2id = it.Value
		default:
			r.Others = append(r.Others, it)
		}
	}
	if model == nil {
		if _, ok := root.Get("encoder"); ok {
			return nil, fmt.Errorf("%s: unsupported: a translation model (encoder and decoder); only XLM language models are served", path)
		}
		return nil, fmt.Errorf("%s: no `model` state dict", path)
	}
	if r.Model, err = readStateDict(path, model); err != nil {
		return nil, err
	}
	if r.Params, ok = params.(*torchpickle.Dict); !ok {
		return nil, fmt.Errorf("%s: `params` is a %T, want the dict of training flags", path, params)
	}
	if r.Word2ID, err = readDictionary(path, word2id); err != nil {
		return nil, err
	}
	return r, nil
}

func readStateDict(path string, v any) ([]Entry, error) {
	d, ok := v.(*torchpickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: `model` is a %T, want a state dict", path, v)
	}
	out := make([]Entry, 0, len(d.Items))
	for _, it := range d.Items {
		name, ok1 := it.Key.(string)
		t, ok2 := it.Value.(*torchpickle.Tensor)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: model entry %v is a %T, want a tensor", path, it.Key, it.Value)
		}
		out = append(out, Entry{Name: name, Tensor: t})
	}
	return out, nil
}

func readDictionary(path string, v any) ([]Word, error) {
	d, ok := v.(*torchpickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: `dico_word2id` is a %T, want a dict of word ids", path, v)
	}
	out := make([]Word, 0, len(d.Items))
	for _, it := range d.Items {
		tok, ok1 := it.Key.(string)
		id, ok2 := it.Value.(int64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: dico_word2id entry %v: %v is not a word id", path, it.Key, it.Value)
		}
		out = append(out, Word{tok, id})
	}
	return out, nil
}

// leftOutTensors lists every tensor outside the state dict (the trainer's
// pred_probs, optimizer states), named by its path in the dump. Paths are
// only spelt out for tensors (dictionaries are large), and the walk is
// bounded: a pickle can share one container many times over.
func (r *Release) leftOutTensors() []string {
	var out []string
	visits := 0
	var walk func(path []any, v any)
	walk = func(path []any, v any) {
		if visits++; len(path) > 64 || visits > 1<<22 {
			return
		}
		switch x := v.(type) {
		case *torchpickle.Tensor:
			parts := make([]string, len(path))
			for i, p := range path {
				parts[i] = fmt.Sprint(p)
			}
			out = append(out, strings.Join(parts, "/"))
		case *torchpickle.Dict:
			for _, it := range x.Items {
				walk(append(path, it.Key), it.Value)
			}
		case torchpickle.List:
			for i, it := range x {
				walk(append(path, i), it)
			}
		case torchpickle.Tuple:
			for i, it := range x {
				walk(append(path, i), it)
			}
		}
	}
	walk([]any{"params"}, r.Params)
	for _, it := range r.Others {
		walk([]any{it.Key}, it.Value)
	}
	return out
}

// base is the dump's file name, for messages and `ckptfs inspect`.
func (r *Release) base() string { return filepath.Base(r.Path) }

// ddpPrefix is the `module.` prefix DistributedDataParallel puts on every
// key of a model saved without unwrapping, when all keys have it; XLM's own
// reloader drops it.
func ddpPrefix(entries []Entry) string {
	for _, e := range entries {
		if !strings.HasPrefix(e.Name, "module.") {
			return ""
		}
	}
	return "module."
}
