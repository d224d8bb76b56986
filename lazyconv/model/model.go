// Package model recognises model folders in a store and assembles, for one
// folder, everything its Hugging Face view shows: generated config and
// tokenizer files, and the plans of the virtual weight files.
package model

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/bert"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Kind is a family of original releases.
type Kind string

// BERT is Google's original BERT release.
const BERT Kind = "bert"

// Names of the files a model folder gains.
const (
	ConfigJSON      = "config.json"
	TokenizerConfig = "tokenizer_config.json"
	TorchWeights    = "pytorch_model.bin"
	Safetensors     = "model.safetensors"
)

// VirtualFiles are the generated files of every model folder, in listing
// order.
var VirtualFiles = []string{ConfigJSON, TokenizerConfig, TorchWeights, Safetensors}

// Detect tells from a folder's file names alone whether it holds a model,
// so that listing a store never reads a checkpoint.
func Detect(names []string) (Kind, bool) {
	var config, index bool
	for _, n := range names {
		switch {
		case n == bert.ConfigFile:
			config = true
		case strings.HasSuffix(n, ".index"):
			index = true
		}
	}
	if config && index {
		return BERT, true
	}
	return "", false
}

// File is one generated file: small ones are held whole, weight files are
// described by a plan.
type File struct {
	Data []byte
	Plan *index.Plan
}

// Size is the file's length in bytes.
func (f *File) Size() int64 {
	if f.Plan != nil {
		return f.Plan.Size
	}
	return int64(len(f.Data))
}

// Model is a loaded model folder.
type Model struct {
	Dir        string
	Kind       Kind
	Checkpoint *tfbundle.Checkpoint
	Mapping    *bert.Mapping
	Files      map[string]*File
}

// Load reads a model folder's metadata (config, checkpoint index) and plans
// its virtual files. It reads no tensor data.
func Load(dir string) (*Model, error) {
	cfg, err := bert.ReadConfig(filepath.Join(dir, bert.ConfigFile))
	if err != nil {
		return nil, err
	}
	prefix, err := tfbundle.FindPrefix(dir)
	if err != nil {
		return nil, err
	}
	ck, err := tfbundle.Open(prefix)
	if err != nil {
		return nil, err
	}
	m, err := bert.Map(ck, cfg)
	if err != nil {
		return nil, err
	}
	model := &Model{Dir: dir, Kind: BERT, Checkpoint: ck, Mapping: m, Files: map[string]*File{}}
	config, err := cfg.HFConfig(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Path, err)
	}
	tok, err := cfg.TokenizerConfig(dir)
	if err != nil {
		return nil, err
	}
	bin, err := layout.TorchZip(m.Tensors, m.Keys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, TorchWeights), err)
	}
	st, err := layout.Safetensors(m.Tensors)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, Safetensors), err)
	}
	model.Files[ConfigJSON] = &File{Data: config}
	model.Files[TokenizerConfig] = &File{Data: tok}
	model.Files[TorchWeights] = &File{Plan: bin}
	model.Files[Safetensors] = &File{Plan: st}
	return model, nil
}
