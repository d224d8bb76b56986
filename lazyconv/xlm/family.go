// Package xlm serves facebookresearch/XLM's language-model releases (a
// torch.save dump `mlm_<languages>_<dim>.pth` beside fastBPE `codes_*` and
// `vocab_*` files) as Hugging Face XLMWithLMHeadModel folders, following
// transformers 4.x convert_xlm_original_pytorch_checkpoint_to_pytorch.py.
package xlm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
)

// Family is Facebook's XLM release.
var Family = conversion.Family{
	Kind:      "xlm",
	Detect:    detect,
	Generated: []string{"config.json", "tokenizer_config.json", "vocab.json", "merges.txt"},
	Convert:   convert,
}

// detect wants a .pth dump with fastBPE's codes and vocabulary beside it:
// names no other family uses together.
func detect(names []string) bool {
	var pth, codes, vocab bool
	for _, n := range names {
		pth = pth || strings.HasSuffix(n, ".pth")
		codes = codes || strings.HasPrefix(n, "codes_")
		vocab = vocab || strings.HasPrefix(n, "vocab_")
	}
	return pth && codes && vocab
}

// releaseFiles finds the dump and the BPE codes; a folder holds one model.
func releaseFiles(dir string) (pth, codes string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", "", err
	}
	var pths, codeFiles []string
	for _, e := range entries {
		switch n := e.Name(); {
		case strings.HasSuffix(n, ".pth"):
			pths = append(pths, n)
		case strings.HasPrefix(n, "codes_"):
			codeFiles = append(codeFiles, n)
		}
	}
	if len(pths) != 1 || len(codeFiles) != 1 {
		return "", "", fmt.Errorf("%s: want one .pth dump and one codes_* file, found %v and %v", dir, pths, codeFiles)
	}
	return filepath.Join(dir, pths[0]), filepath.Join(dir, codeFiles[0]), nil
}

func convert(dir string) (*conversion.Conversion, error) {
	pth, codesPath, err := releaseFiles(dir)
	if err != nil {
		return nil, err
	}
	r, err := ReadRelease(pth)
	if err != nil {
		return nil, err
	}
	return convertRelease(r, codesPath)
}

// convertRelease converts a release read from its dump, with its BPE codes.
func convertRelease(r *Release, codesPath string) (*conversion.Conversion, error) {
	h, err := readHyper(r)
	if err != nil {
		return nil, err
	}
	if err := conversion.CheckCounts(r.Path, len(r.Model), "its model state dict", conversion.Count{Key: `params["n_layers"]`, N: h.NLayers}); err != nil {
		return nil, err
	}
	m, err := Map(r, h)
	if err != nil {
		return nil, err
	}
	codes, err := os.ReadFile(codesPath)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"merges.txt": mergesTxt(codes)}
	for name, render := range map[string]func() ([]byte, error){
		"config.json":           func() ([]byte, error) { return configJSON(r, m) },
		"tokenizer_config.json": func() ([]byte, error) { return tokenizerConfigJSON(r) },
		"vocab.json":            func() ([]byte, error) { return vocabJSON(r.Word2ID) },
	} {
		if files[name], err = render(); err != nil {
			return nil, err
		}
	}
	return &conversion.Conversion{
		Source:       r.base(),
		Architecture: m.Architecture,
		Tensors:      m.Tensors,
		Keys:         m.Keys,
		Files:        files,
		Skipped:      r.leftOutTensors(),
		Unused:       m.Unused,
	}, nil
}
