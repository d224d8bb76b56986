// Package transfoxl maps the original Transformer-XL TensorFlow release
// (kimiyoung/transformer-xl tf/: a model/ folder with the checkpoint, its
// corpus' corpus-info.json) onto Hugging Face's TransfoXLLMHeadModel,
// following transformers 4.x build_tf_to_pytorch_map and
// load_tf_weights_in_transfo_xl.
package transfoxl

import (
	"path/filepath"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// CorpusInfoFile is what the release's data_utils.py writes beside the
// corpus (data/<corpus>/corpus-info.json in the tarballs): the vocabulary
// size and the adaptive-softmax cutoffs. The model/ folder is recognised by
// a copy of it, or a symlink to it, beside the checkpoint.
const CorpusInfoFile = "corpus-info.json"

// Family is the Transformer-XL release: corpus-info.json beside a
// TensorFlow checkpoint.
var Family = conversion.Family{
	Kind:      "transfo-xl",
	Detect:    detect,
	Generated: []string{"config.json"},
	Convert:   convert,
}

func detect(names []string) bool { return tfbundle.BesideConfig(names, CorpusInfoFile) }

func convert(dir string) (*conversion.Conversion, error) {
	corpus, err := readCorpusInfo(filepath.Join(dir, CorpusInfoFile))
	if err != nil {
		return nil, err
	}
	ck, err := tfbundle.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	m, err := Map(ck, corpus)
	if err != nil {
		return nil, err
	}
	cfg, err := hfConfig(m.Config)
	if err != nil {
		return nil, err
	}
	return &conversion.Conversion{
		Source:       filepath.Base(ck.Prefix),
		Architecture: LMHead,
		Tensors:      m.Tensors,
		Keys:         m.Keys,
		Files:        map[string][]byte{"config.json": cfg},
		Skipped:      m.Skipped,
		Unused:       m.Unused,
	}, nil
}
