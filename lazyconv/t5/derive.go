package t5

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Variables whose shapes give the model's sizes.
const (
	embeddingVar = "shared/embedding"
	logitsVar    = "decoder/logits/kernel"
	encoderBlock = "encoder/block_000/"
	biasVar      = encoderBlock + "layer_000/SelfAttention/relative_attention_bias"
	queryVar     = encoderBlock + "layer_000/SelfAttention/q"
	wiVar        = encoderBlock + "layer_001/DenseReluDense/wi/kernel"
	wi0Var       = encoderBlock + "layer_001/DenseReluDense/wi_0/kernel"
)

// size is one hyper-parameter as a source states it.
type size struct {
	value int64
	where string
}

// shapeSizes are the hyper-parameters the checkpoint's shapes show.
type shapeSizes struct {
	vocab                                     int64
	dModel, heads, buckets, headsTimesKV, dff *size
	layers, decoderLayers                     *size
	gated, tied                               bool
}

func readShapes(ck *tfbundle.Checkpoint) (*shapeSizes, error) {
	index := ck.IndexPath()
	shape := func(name string, dims int) ([]int64, bool) {
		e, ok := ck.Lookup(name)
		if !ok || len(e.Shape) != dims {
			return nil, false
		}
		return e.Shape, true
	}
	dim := func(name string, dims, i int) *size {
		if s, ok := shape(name, dims); ok {
			return &size{s[i], fmt.Sprintf("%s in %s", name, index)}
		}
		return nil
	}
	emb, ok := shape(embeddingVar, 2)
	if !ok {
		return nil, fmt.Errorf("%s: no 2-D %s: not a Mesh TensorFlow T5 checkpoint", index, embeddingVar)
	}
	s := &shapeSizes{vocab: emb[0], dModel: dim(embeddingVar, 2, 1),
		heads: dim(biasVar, 2, 0), buckets: dim(biasVar, 2, 1), headsTimesKV: dim(queryVar, 2, 1)}
	_, s.gated = ck.Lookup(wi0Var)
	if s.gated {
		s.dff = dim(wi0Var, 2, 1)
	} else {
		s.dff = dim(wiVar, 2, 1)
	}
	_, untied := ck.Lookup(logitsVar)
	s.tied = !untied
	enc, dec := countBlocks(ck)
	if enc > 0 {
		s.layers = &size{enc, fmt.Sprintf("the encoder/block_* variables in %s", index)}
	}
	if dec > 0 {
		s.decoderLayers = &size{dec, fmt.Sprintf("the decoder/block_* variables in %s", index)}
	}
	return s, nil
}

// DeriveConfig works out T5Config's values from the checkpoint's shapes
// and the gin, as a user writing the conversion's config.json would; where
// both state a value, they must agree.
func DeriveConfig(ck *tfbundle.Checkpoint, g *Gin) (*Config, error) {
	shapes, err := readShapes(ck)
	if err != nil {
		return nil, err
	}
	c := &Config{Source: g.Path, VocabSize: shapes.vocab, MaxDistance: maxDistance}
	pick := func(dst *int64, name string, shape *size, scope, configurable, param, macro string) error {
		stated, err := ginSize(g, scope, configurable, param, macro)
		if err != nil {
			return err
		}
		if stated == nil && shape == nil {
			return fmt.Errorf("%s, %s: cannot tell %s: neither states it", g.Path, ck.IndexPath(), name)
		}
		*dst, err = agree(name, stated, shape)
		return err
	}
	for _, p := range []struct {
		dst                               *int64
		name                              string
		shape                             *size
		scope, configurable, param, macro string
	}{
		{&c.DModel, "d_model", shapes.dModel, "encoder", "Unitransformer", "d_model", "d_model"},
		{&c.NumHeads, "num_heads", shapes.heads, "encoder", "SelfAttention", "num_heads", "num_heads"},
		{&c.Buckets, "relative_attention_num_buckets", shapes.buckets, "encoder", "SelfAttention", "relative_attention_num_buckets", ""},
		{&c.DFF, "d_ff", shapes.dff, "encoder", "DenseReluDense", "hidden_size", "d_ff"},
		{&c.NumLayers, "num_layers", shapes.layers, "encoder", "make_layer_stack", "num_layers", "num_layers"},
		{&c.NumDecoderLayers, "num_decoder_layers", shapes.decoderLayers, "decoder", "make_layer_stack", "num_layers", "num_layers"},
	} {
		if err := pick(p.dst, p.name, p.shape, p.scope, p.configurable, p.param, p.macro); err != nil {
			return nil, err
		}
	}
	// The query projection is [d_model, num_heads * d_kv].
	kv := shapes.headsTimesKV
	if kv != nil {
		if kv.value%c.NumHeads != 0 {
			return nil, fmt.Errorf("%s: %d columns are not a multiple of num_heads %d", kv.where, kv.value, c.NumHeads)
		}
		kv = &size{kv.value / c.NumHeads, kv.where}
	}
	if err := pick(&c.DKV, "d_kv", kv, "encoder", "SelfAttention", "key_value_size", "d_kv"); err != nil {
		return nil, err
	}
	if err := c.readGinExtras(g, shapes.gated, shapes.tied); err != nil {
		return nil, err
	}
	if c.ExtraIDs, err = extraIDs(g); err != nil {
		return nil, err
	}
	return c, nil
}

// ginSize reads a positive integer the gin binds (in scope), or else
// defines as a macro; nil if it states neither.
func ginSize(g *Gin, scope, configurable, param, macro string) (*size, error) {
	lit, where, ok := g.Lookup(scope, configurable, param)
	if !ok && macro != "" {
		lit, ok = g.Macro(macro)
		where = macro
	}
	if !ok {
		return nil, nil
	}
	v, err := ginInt(lit)
	if err != nil || v <= 0 || v > 1<<40 {
		return nil, fmt.Errorf("%s: %s = %s: want a positive integer", g.Path, where, lit)
	}
	return &size{v, fmt.Sprintf("%s: %s = %d", g.Path, where, v)}, nil
}

// agree picks a hyper-parameter from the gin and the shapes (at least one
// states it), which must not contradict each other.
func agree(name string, stated, shape *size) (int64, error) {
	switch {
	case stated == nil:
		return shape.value, nil
	case shape != nil && stated.value != shape.value:
		return 0, fmt.Errorf("%s, but %s gives %s = %d", stated.where, shape.where, name, shape.value)
	}
	return stated.value, nil
}

var blockName = regexp.MustCompile(`^(encoder|decoder)/block_(\d+)/`)

// countBlocks counts the layers of each stack (highest block index + 1).
func countBlocks(ck *tfbundle.Checkpoint) (encoder, decoder int64) {
	for _, e := range ck.Entries {
		m := blockName.FindStringSubmatch(e.Name)
		if m == nil || isSkipped(e.Name) {
			continue
		}
		n, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil || n >= 1<<20 {
			continue
		}
		if m[1] == "encoder" {
			encoder = max(encoder, n+1)
		} else {
			decoder = max(decoder, n+1)
		}
	}
	return encoder, decoder
}

// readGinExtras reads what only the gin states: dropout, epsilon, the
// feed-forward activation; and checks the head tying it states against the
// checkpoint's.
func (c *Config) readGinExtras(g *Gin, gated, tiedInCheckpoint bool) error {
	float := func(configurable, param, macro string, def float64) (float64, error) {
		lit, where, ok := g.Lookup("encoder", configurable, param)
		if !ok && macro != "" {
			lit, ok = g.Macro(macro)
			where = macro
		}
		if !ok {
			return def, nil
		}
		v, err := ginFloat(lit)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, fmt.Errorf("%s: %s = %s: want a non-negative number", g.Path, where, lit)
		}
		return v, nil
	}
	var err error
	if c.DropoutRate, err = float("LayerStack", "dropout_rate", "dropout_rate", defaultDropout); err != nil {
		return err
	}
	if c.LayerNormEpsilon, err = float("LayerStack", "norm_epsilon", "", defaultEpsilon); err != nil {
		return err
	}
	if c.FeedForwardProj, err = feedForwardProj(g, gated); err != nil {
		return err
	}
	c.Tied = tiedInCheckpoint
	if lit, where, ok := g.Lookup("decoder", "Unitransformer", "shared_embedding_and_softmax_weights"); ok {
		stated, err := ginBool(lit)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", g.Path, where, err)
		}
		if stated != tiedInCheckpoint {
			return fmt.Errorf("%s: %s = %s, but the checkpoint %s", g.Path, where, lit, logitsPhrase(tiedInCheckpoint))
		}
	}
	return nil
}

// extraIDs is how many sentinels the vocabulary appends to the
// SentencePiece model's pieces.
func extraIDs(g *Gin) (int64, error) {
	lit, where, ok := g.Lookup("", "SentencePieceVocabulary", "extra_ids")
	if !ok {
		return defaultExtraIDs, nil
	}
	n, err := ginInt(lit)
	if err != nil || n < 0 || n > 1<<20 {
		return 0, fmt.Errorf("%s: %s = %s: want a non-negative integer", g.Path, where, lit)
	}
	return n, nil
}

func logitsPhrase(tied bool) string {
	if tied {
		return "has no " + logitsVar
	}
	return "has an untied " + logitsVar
}

// feedForwardProj turns Mesh TF's DenseReluDense activation into T5Config's
// feed_forward_proj. mtf.gelu is the tanh approximation, transformers'
// gelu_new; a two-element list is a gated layer (wi_0 activated, wi_1
// linear).
func feedForwardProj(g *Gin, gated bool) (string, error) {
	lit, where, ok := g.Lookup("encoder", "DenseReluDense", "activation")
	if !ok {
		if gated {
			return "", fmt.Errorf("%s: no DenseReluDense.activation, and the checkpoint's feed-forward layers are gated (%s)", g.Path, "wi_0/wi_1")
		}
		return "relu", nil // DenseReluDense's default
	}
	acts, err := ginStrings(lit)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", g.Path, where, err)
	}
	names := map[string]string{"relu": "relu", "gelu": "gelu_new"}
	var proj string
	switch {
	case len(acts) == 1 && names[acts[0]] != "":
		proj = names[acts[0]]
	case len(acts) == 2 && acts[1] == "linear" && names[acts[0]] != "":
		proj = "gated-" + acts[0] // transformers reads gated-gelu as gelu_new
	default:
		return "", fmt.Errorf("unsupported: %s: %s = %s has no transformers T5 equivalent", g.Path, where, lit)
	}
	if (len(acts) == 2) != gated {
		return "", fmt.Errorf("%s: %s = %s, but the checkpoint %s", g.Path, where, lit, gatedPhrase(gated))
	}
	return proj, nil
}

func gatedPhrase(gated bool) string {
	if gated {
		return "has gated feed-forward layers (" + wi0Var + ")"
	}
	return "has ungated feed-forward layers (" + wiVar + ")"
}
