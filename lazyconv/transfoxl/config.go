package transfoxl

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Variable names of kimiyoung/transformer-xl tf/model.py: transformer()
// creates everything under "transformer"; the embedding and the softmax
// have one cutoff_<i> scope per cluster when div_val > 1.
const (
	scope        = "transformer/"
	rwBias       = scope + "r_w_bias"
	rrBias       = scope + "r_r_bias"
	embedScope   = scope + "adaptive_embed/"
	softmaxScope = scope + "adaptive_softmax/"
	clusterW     = softmaxScope + "cutoff_0/cluster_W"
	clusterB     = softmaxScope + "cutoff_0/cluster_b"
)

func embedTable(i int) string   { return fmt.Sprintf("%scutoff_%d/lookup_table", embedScope, i) }
func embedProj(i int) string    { return fmt.Sprintf("%scutoff_%d/proj_W", embedScope, i) }
func softmaxBias(i int) string  { return fmt.Sprintf("%scutoff_%d/b", softmaxScope, i) }
func softmaxProj(i int) string  { return fmt.Sprintf("%scutoff_%d/proj", softmaxScope, i) }
func layerScope(i int64) string { return fmt.Sprintf("%slayer_%d/", scope, i) }

// Config is the model's shape: the vocabulary and cutoffs from
// corpus-info.json, every size from the variables' shapes (the release
// ships no model config: train.py takes them as flags).
type Config struct {
	VocabSize int64
	Cutoffs   []int64
	DModel    int64
	DEmbed    int64
	NHead     int64
	DHead     int64
	DInner    int64
	DivVal    int64
	NLayer    int64
	// TieProjs says, per cluster, whether the softmax projection is the
	// embedding's (train.py's proj_share_all_but_first ties all but the
	// first): a cluster without its own adaptive_softmax/cutoff_<i>/proj.
	TieProjs []bool
}

// clusterBounds are the token ranges of the clusters: [0, c0), [c0, c1), ...
func (c *Config) clusterBounds() [][2]int64 {
	ends := append(append([]int64{0}, c.Cutoffs...), c.VocabSize)
	b := make([][2]int64, len(ends)-1)
	for i := range b {
		b[i] = [2]int64{ends[i], ends[i+1]}
	}
	return b
}

// embedWidth is cluster i's embedding width, d_embed // div_val^i as both
// the original and transformers compute it.
func (c *Config) embedWidth(i int) int64 {
	w := c.DEmbed
	for range i {
		w /= c.DivVal
	}
	return w
}

// inferConfig reads the sizes off the checkpoint's variables. Layouts the
// reference conversion cannot load (tied relative biases, div_val 1's
// unscoped embedding) are refused as unsupported.
func inferConfig(ck *tfbundle.Checkpoint, corpus *CorpusInfo) (*Config, error) {
	idx := ck.IndexPath()
	shape := func(name string, rank int) ([]int64, error) {
		e, ok := ck.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("%s: no variable %s", idx, name)
		}
		if len(e.Shape) != rank {
			return nil, fmt.Errorf("%s: tensor %s has shape %v, want %d dimensions", idx, name, e.Shape, rank)
		}
		for _, d := range e.Shape {
			if d <= 0 {
				return nil, fmt.Errorf("%s: tensor %s has shape %v: every size is read from it, and none may be 0", idx, name, e.Shape)
			}
		}
		// Sizes read off a variable are trusted only once its bytes are
		// known to lie in its shard: they size loops and buffers.
		if _, err := ck.Source(e); err != nil {
			return nil, err
		}
		return e.Shape, nil
	}
	if _, ok := ck.Lookup(embedScope + "lookup_table"); ok {
		return nil, fmt.Errorf("%w: %s: an embedding without clusters (div_val 1), which transformers' Transformer-XL conversion cannot load", tfbundle.ErrUnsupported, idx)
	}
	c := &Config{VocabSize: corpus.VocabSize, Cutoffs: corpus.Cutoffs}
	if e, ok := ck.Lookup(rwBias); ok && len(e.Shape) == 2 {
		return nil, fmt.Errorf("%w: %s: relative biases shared by all layers (untie_r false), which transformers' Transformer-XL conversion cannot load", tfbundle.ErrUnsupported, idx)
	}
	r, err := shape(rwBias, 3)
	if err != nil {
		return nil, err
	}
	c.NLayer, c.NHead, c.DHead = r[0], r[1], r[2]
	if err := conversion.CheckCounts(idx, len(ck.Entries), idx, conversion.Count{Key: "n_layer (" + rwBias + "'s first dimension)", N: c.NLayer}); err != nil {
		return nil, err
	}
	t0, err := shape(embedTable(0), 2)
	if err != nil {
		return nil, err
	}
	if _, ok := ck.Lookup(embedProj(0)); !ok {
		// lm1b's layout (proj_same_dim false): a cluster as wide as
		// d_model has no projection, which the reference's map requires.
		return nil, fmt.Errorf("%w: %s: no %s (trained with proj_same_dim false, as lm1b), which transformers' Transformer-XL conversion cannot load", tfbundle.ErrUnsupported, idx, embedProj(0))
	}
	p0, err := shape(embedProj(0), 2)
	if err != nil {
		return nil, err
	}
	t1, err := shape(embedTable(1), 2)
	if err != nil {
		return nil, err
	}
	c.DEmbed, c.DModel = t0[1], p0[1]
	if t1[1] <= 0 || c.DEmbed%t1[1] != 0 || c.DEmbed/t1[1] < 2 {
		return nil, fmt.Errorf("%s: cluster embedding widths %d and %d do not divide by a div_val above 1", idx, c.DEmbed, t1[1])
	}
	c.DivVal = c.DEmbed / t1[1]
	ff, err := shape(layerScope(0)+"ff/layer_1/kernel", 2)
	if err != nil {
		return nil, err
	}
	c.DInner = ff[1]
	for i, b := range c.clusterBounds() {
		t, err := shape(embedTable(i), 2)
		if err != nil {
			return nil, fmt.Errorf("%w (cluster %d of %s's cutoffs)", err, i, corpus.Path)
		}
		if t[0] != b[1]-b[0] || t[1] != c.embedWidth(i) {
			return nil, fmt.Errorf("%s: tensor %s has shape %v, but cluster %d of %s's cutoffs holds %d tokens of width %d (div_val %d)",
				idx, embedTable(i), t, i, corpus.Path, b[1]-b[0], c.embedWidth(i), c.DivVal)
		}
		_, own := ck.Lookup(softmaxProj(i))
		c.TieProjs = append(c.TieProjs, !own)
	}
	if _, ok := ck.Lookup(embedTable(len(c.Cutoffs) + 1)); ok {
		return nil, fmt.Errorf("%s: more embedding clusters than %s's %d cutoffs make", idx, corpus.Path, len(c.Cutoffs))
	}
	return c, nil
}
