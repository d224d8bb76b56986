// Package model recognises model folders in a store and assembles, for one
// folder, everything its Hugging Face view shows: generated config and
// tokenizer files, and the plans of the virtual weight files.
package model

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/albert"
	"github.com/ckptfs/ckptfs/lazyconv/bert"
	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/gpt2"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/openaigpt"
	"github.com/ckptfs/ckptfs/lazyconv/t5"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/transfoxl"
	"github.com/ckptfs/ckptfs/lazyconv/xlm"
	"github.com/ckptfs/ckptfs/lazyconv/xlnet"
)

// Families are the kinds of release the view recognises, in the order they
// are tried.
var Families = []*conversion.Family{
	&bert.Family,
	&gpt2.Family,
	&albert.Family,
	&xlnet.Family,
	&t5.Family, &t5.WeightsOnly,
	&openaigpt.Family,
	&xlm.Family,
	&transfoxl.Family,
}

// Names of the weight files every model folder gains.
const (
	TorchWeights = "pytorch_model.bin"
	Safetensors  = "model.safetensors"
)

// Detect tells from a folder's file names alone which family's release it
// holds, so that listing a store never reads a checkpoint.
func Detect(names []string) (*conversion.Family, bool) {
	for _, f := range Families {
		if f.Detect(names) {
			return f, true
		}
	}
	return nil, false
}

// Generated lists the files a folder of family f gains, in listing order.
func Generated(f *conversion.Family) []string {
	return append(append([]string{}, f.Generated...), TorchWeights, Safetensors)
}

// File is one generated file: small ones are held whole, weight files are
// described by a plan.
type File struct {
	Data []byte
	Plan *index.Plan
}

// Bytes produces the whole file outside a mount: its data, or what its
// plan gives (see index.ReadAll).
func (f *File) Bytes() ([]byte, error) {
	if f.Plan == nil {
		return f.Data, nil
	}
	return index.ReadAll(f.Plan)
}

// Size is the file's length in bytes.
func (f *File) Size() int64 {
	if f.Plan != nil {
		return f.Plan.Size
	}
	return int64(len(f.Data))
}

// Model is a converted model folder.
type Model struct {
	Dir    string
	Family *conversion.Family
	Conv   *conversion.Conversion
	Files  map[string]*File
	// Identity names the state of the source files (paths, sizes, mtimes):
	// converted chunks are cached under it, so a rewritten checkpoint never
	// hits chunks of the old one.
	Identity string
	// SourceFiles lists, sorted, the files the tensors are read from.
	SourceFiles []string
	// ModTime is the newest source file's modification time.
	ModTime time.Time
}

// LoadDir detects which family's release dir holds and loads it.
func LoadDir(dir string) (*Model, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	f, ok := Detect(names)
	if !ok {
		return nil, fmt.Errorf("%s: no supported model release found", dir)
	}
	return Load(dir, f)
}

// Load converts the model folder dir of family f: it reads metadata only
// and plans the weight files.
func Load(dir string, f *conversion.Family) (*Model, error) {
	conv, err := f.Convert(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Dir: dir, Family: f, Conv: conv, Files: map[string]*File{}}
	for name, data := range conv.Files {
		m.Files[name] = &File{Data: data}
	}
	bin, err := layout.TorchZip(conv.Tensors, conv.Keys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, TorchWeights), err)
	}
	st := conv.Tensors
	if conv.Safetensors != nil {
		st = make([]*tensor.Tensor, len(conv.Safetensors))
		for i, t := range conv.Safetensors {
			st[i] = conv.Tensors[t]
		}
	}
	sft, err := layout.Safetensors(st)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, Safetensors), err)
	}
	m.Files[TorchWeights] = &File{Plan: bin}
	m.Files[Safetensors] = &File{Plan: sft}
	m.SourceFiles = sourceFiles(conv.Tensors)
	m.Identity, m.ModTime = identity(dir, m.SourceFiles)
	return m, nil
}

// sourceFiles lists, sorted, the files the tensors are read from.
func sourceFiles(tensors []*tensor.Tensor) []string {
	seen := map[string]bool{}
	var paths []string
	for _, t := range tensors {
		if t.Src == nil {
			continue // computed: no source file
		}
		for _, e := range t.Src.Extents {
			if !seen[e.Path] {
				seen[e.Path] = true
				paths = append(paths, e.Path)
			}
		}
	}
	sort.Strings(paths)
	return paths
}

// identity fingerprints the source files the tensors are read from.
func identity(dir string, paths []string) (string, time.Time) {
	var newest time.Time
	id := dir
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			id += fmt.Sprintf("\x00%s:%d:%d", p, fi.Size(), fi.ModTime().UnixNano())
			if fi.ModTime().After(newest) {
				newest = fi.ModTime()
			}
		}
	}
	return id, newest
}
