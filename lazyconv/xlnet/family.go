// Package xlnet maps the original XLNet release (zihangdai/xlnet: a
// TensorFlow checkpoint, xlnet_config.json, spiece.model) and what its
// run_classifier.py fine-tuning writes onto Hugging Face's XLNetLMHeadModel
// and XLNetForSequenceClassification, following transformers 4.x
// build_tf_xlnet_to_pytorch_map and load_tf_weights_in_xlnet.
package xlnet

import (
	"os"
	"path/filepath"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// File names of an XLNet release.
const (
	ConfigFile        = "xlnet_config.json"
	SentencePieceFile = "spiece.model" // already the name transformers reads
)

// Family is the XLNet release: xlnet_config.json beside a TensorFlow
// checkpoint.
var Family = conversion.Family{
	Kind:      "xlnet",
	Detect:    detect,
	Generated: []string{"config.json", "tokenizer_config.json"},
	Convert:   convert,
}

func detect(names []string) bool { return tfbundle.BesideConfig(names, ConfigFile) }

func convert(dir string) (*conversion.Conversion, error) {
	cfg, err := readConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	ck, err := tfbundle.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	if err := conversion.CheckCounts(cfg.Path, len(ck.Entries), ck.IndexPath(), conversion.Count{Key: "n_layer", N: cfg.NLayer}); err != nil {
		return nil, err
	}
	m, err := Map(ck, cfg)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	if files["config.json"], err = hfConfig(cfg, m); err != nil {
		return nil, err
	}
	// Without a SentencePiece model there is no tokenizer to configure.
	if st, err := os.Stat(filepath.Join(dir, SentencePieceFile)); err == nil && st.Mode().IsRegular() {
		if files["tokenizer_config.json"], err = tokenizerConfig(); err != nil {
			return nil, err
		}
	}
	return &conversion.Conversion{
		Source:       filepath.Base(ck.Prefix),
		Architecture: m.Architecture,
		Tensors:      m.Tensors,
		Keys:         m.Keys,
		Files:        files,
		Skipped:      m.Skipped,
		Unused:       m.Unused,
	}, nil
}
