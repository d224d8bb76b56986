// Package conversion defines what a model family contributes to the view:
// how to recognise its folders, and what a folder converts to. Each family
// (lazyconv/bert, ...) implements it; lazyconv/model puts them together.
package conversion

import (
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// Family is one kind of original release.
type Family struct {
	// Kind names the family in listings ("bert").
	Kind string
	// Detect tells from a folder's file names alone whether it holds a
	// release of this family; it must not read files, so that listing a
	// store stays cheap.
	Detect func(names []string) bool
	// Generated names the files a folder of this family gains, so a folder
	// can be listed before it is converted.
	Generated []string
	// Convert reads a folder's metadata (configs, checkpoint indexes) and
	// describes its Hugging Face form. It reads no tensor data.
	Convert func(dir string) (*Conversion, error)
}

// Conversion is a model folder in Hugging Face form.
type Conversion struct {
	// Source names the checkpoint converted (a prefix or a file), for
	// `ckptfs inspect`.
	Source       string
	Architecture string
	// Tensors are the distinct output tensors in state-dict order.
	Tensors []*tensor.Tensor
	// Keys is the full state dict in order (pytorch_model.bin); tied keys
	// name the tensor they share.
	Keys []layout.Key
	// Safetensors lists the tensors model.safetensors holds, as indexes
	// into Tensors; nil means all of them.
	Safetensors []int
	// Files are generated small files (config.json, tokenizer files).
	Files map[string][]byte
	// Skipped counts optimizer and bookkeeping variables left out.
	Skipped []string
	// Unused lists every other source variable the model does not use.
	Unused []Leftover
}

// Leftover is a source variable left out of the conversion.
type Leftover struct {
	Name  string
	DType string
	Shape []int64
}
