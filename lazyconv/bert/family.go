package bert

import (
	"fmt"
	"path/filepath"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Family is Google's original BERT release: bert_config.json beside a
// TensorFlow V2 checkpoint.
var Family = conversion.Family{
	Kind:      "bert",
	Detect:    detect,
	Generated: []string{"config.json", "tokenizer_config.json"},
	Convert:   convert,
}

func detect(names []string) bool { return tfbundle.BesideConfig(names, ConfigFile) }

func convert(dir string) (*conversion.Conversion, error) {
	cfg, err := ReadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	ck, err := tfbundle.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	if err := conversion.CheckCounts(cfg.Path, len(ck.Entries), ck.IndexPath(), conversion.Count{Key: "num_hidden_layers", N: cfg.NumLayers}); err != nil {
		return nil, err
	}
	m, err := Map(ck, cfg)
	if err != nil {
		return nil, err
	}
	config, err := cfg.HFConfig(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Path, err)
	}
	tok, err := cfg.TokenizerConfig(dir)
	if err != nil {
		return nil, err
	}
	conv := &conversion.Conversion{
		Source:       filepath.Base(ck.Prefix),
		Architecture: m.Architecture,
		Tensors:      m.Tensors,
		Keys:         m.Keys,
		Files:        map[string][]byte{"config.json": config, "tokenizer_config.json": tok},
		Skipped:      m.Skipped,
		Unused:       leftovers(ck, m.Unmapped),
	}
	return conv, nil
}

// leftovers describes unused checkpoint variables for `ckptfs inspect`.
func leftovers(ck *tfbundle.Checkpoint, names []string) []conversion.Leftover {
	out := make([]conversion.Leftover, 0, len(names))
	for _, name := range names {
		l := conversion.Leftover{Name: name}
		if e, ok := ck.Lookup(name); ok {
			l.DType, l.Shape = dtype.TFDataTypeName(e.TFDType), e.Shape
		}
		out = append(out, l)
	}
	return out
}
