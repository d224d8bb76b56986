package t5

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// File names of a T5 release folder.
const (
	GinFile    = "operative_config.gin"
	ConfigFile = "config.json" // optional: a T5 config supplied for the conversion
)

// Family is a T5 release with the vocabulary's SentencePiece model beside
// it (any *.model; T5 publishes it apart from the checkpoints): the folder
// gains config.json and the tokenizer files.
var Family = conversion.Family{
	Kind:      "t5",
	Detect:    func(names []string) bool { return isRelease(names) && spmModel(names) != "" },
	Generated: []string{"config.json", "tokenizer_config.json", "spiece.model"},
	Convert:   func(dir string) (*conversion.Conversion, error) { return convert(dir, true) },
}

// WeightsOnly is a T5 release as Google ships it, without a SentencePiece
// model: the folder gains config.json and the weights, no tokenizer.
var WeightsOnly = conversion.Family{
	Kind:      "t5",
	Detect:    func(names []string) bool { return isRelease(names) && spmModel(names) == "" },
	Generated: []string{"config.json"},
	Convert:   func(dir string) (*conversion.Conversion, error) { return convert(dir, false) },
}

// isRelease: Mesh TF's operative_config.gin beside a TensorFlow checkpoint.
func isRelease(names []string) bool {
	return slices.Contains(names, GinFile) && slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, ".index") })
}

// spmModel picks the SentencePiece model among a folder's file names:
// sentencepiece.model (the name of T5's vocabulary files), spiece.model,
// else the first *.model.
func spmModel(names []string) string {
	var models []string
	for _, n := range names {
		if strings.HasSuffix(n, ".model") && len(n) > len(".model") {
			models = append(models, n)
		}
	}
	slices.Sort(models)
	for _, preferred := range []string{"sentencepiece.model", "spiece.model"} {
		if slices.Contains(models, preferred) {
			return preferred
		}
	}
	if len(models) > 0 {
		return models[0]
	}
	return ""
}

func convert(dir string, withTokenizer bool) (*conversion.Conversion, error) {
	g, err := ReadGin(filepath.Join(dir, GinFile))
	if err != nil {
		return nil, err
	}
	ck, err := tfbundle.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(dir, ck, g)
	if err != nil {
		return nil, err
	}
	for _, c := range []conversion.Count{{Key: "num_layers", N: cfg.NumLayers}, {Key: "num_decoder_layers", N: cfg.NumDecoderLayers}} {
		if err := conversion.CheckCounts(cfg.Source, len(ck.Entries), ck.IndexPath(), c); err != nil {
			return nil, err
		}
	}
	m, err := Map(ck, cfg)
	if err != nil {
		return nil, err
	}
	config, err := cfg.HFConfig()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Source, err)
	}
	files := map[string][]byte{"config.json": config}
	if withTokenizer {
		if err := addTokenizer(dir, cfg, files); err != nil {
			return nil, err
		}
	}
	return &conversion.Conversion{
		Source:       filepath.Base(ck.Prefix),
		Architecture: Architecture,
		Tensors:      m.Tensors,
		Keys:         m.Keys,
		Files:        files,
		Skipped:      m.Skipped,
		Unused:       m.Unused,
	}, nil
}

// readConfig uses a config.json supplied beside the checkpoint if there is
// one (it is then served as it is), else derives the config from the gin
// and the checkpoint's shapes.
func readConfig(dir string, ck *tfbundle.Checkpoint, g *Gin) (*Config, error) {
	path := filepath.Join(dir, ConfigFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return DeriveConfig(ck, g)
	}
	cfg, err := ReadHFConfig(path)
	if err != nil {
		return nil, err
	}
	if _, untied := ck.Lookup(logitsVar); untied && cfg.Tied {
		// The reference would write the head into the shared embedding,
		// then overwrite it with shared/embedding: a silently wrong model.
		return nil, fmt.Errorf("%s: tie_word_embeddings is true, but %s has an untied %s", path, ck.IndexPath(), logitsVar)
	}
	if cfg.ExtraIDs, err = extraIDs(g); err != nil {
		return nil, err
	}
	return cfg, nil
}

// addTokenizer serves the folder's SentencePiece model as spiece.model, the
// name T5Tokenizer looks for, with its tokenizer_config.json.
func addTokenizer(dir string, cfg *Config, files map[string][]byte) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	name := spmModel(names)
	if name == "" {
		return fmt.Errorf("%s: no SentencePiece model (*.model)", dir)
	}
	if files["spiece.model"], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
		return err
	}
	files["tokenizer_config.json"], err = cfg.TokenizerConfig()
	return err
}
