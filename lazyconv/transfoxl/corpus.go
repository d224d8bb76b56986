package transfoxl

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// CorpusInfo is corpus-info.json as data_utils.get_lm_corpus writes it:
// the vocabulary size and the cluster boundaries, 0 and the vocabulary size
// included (train.py passes cutoffs[1:-1] to the model).
type CorpusInfo struct {
	Path      string
	VocabSize int64
	// Cutoffs are the inner boundaries, as the model and TransfoXLConfig
	// take them.
	Cutoffs []int64
}

func readCorpusInfo(path string) (*CorpusInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		VocabSize *int64  `json:"vocab_size"`
		Cutoffs   []int64 `json:"cutoffs"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if raw.VocabSize == nil || *raw.VocabSize <= 0 {
		return nil, fmt.Errorf("%s: vocab_size missing or not positive", path)
	}
	v, c := *raw.VocabSize, raw.Cutoffs
	if len(c) == 0 {
		// enwik8, text8: one softmax without clusters, which the
		// reference conversion cannot load.
		return nil, fmt.Errorf("%w: %s: no cutoffs, and transformers' Transformer-XL conversion needs an adaptive softmax", tfbundle.ErrUnsupported, path)
	}
	rising := true
	for i := 1; i < len(c); i++ {
		rising = rising && c[i] > c[i-1]
	}
	if len(c) < 3 || c[0] != 0 || c[len(c)-1] != v || !rising {
		return nil, fmt.Errorf("%s: cutoffs %v must rise strictly from 0 to vocab_size %d with at least one cluster boundary between", path, c, v)
	}
	return &CorpusInfo{Path: path, VocabSize: v, Cutoffs: slices.Clone(c[1 : len(c)-1])}, nil
}
