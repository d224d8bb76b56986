package transfoxl

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
	"github.com/ckptfs/ckptfs/lazyconv/layout"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// Mapping is a checkpoint's tensors as TransfoXLLMHeadModel's state dict.
type Mapping struct {
	Config *Config
	// Tensors are the distinct output tensors in state-dict order; Keys is
	// the full state dict, the softmax weights (and tied projections)
	// naming the embedding's.
	Tensors []*tensor.Tensor
	Keys    []layout.Key
	// Skipped lists optimizer and bookkeeping variables; Unused every other
	// variable the model does not use.
	Skipped []string
	Unused  []conversion.Leftover
}

// target is where the reference puts a checkpoint variable: one key, or,
// for the relative biases stacked along axis 0, one key per layer.
type target struct {
	keys    []string
	stacked bool
	// transpose: load_tf_weights_in_transfo_xl transposes every variable
	// whose name contains "kernel" or "proj" (dense kernels, proj_W, proj).
	transpose bool
}

const invFreqKey = "transformer.pos_emb.inv_freq"

// targets is build_tf_to_pytorch_map for c.
func targets(c *Config) map[string]target {
	one := func(key string) target { return target{keys: []string{key}} }
	tr := func(key string) target { return target{keys: []string{key}, transpose: true} }
	m := map[string]target{
		clusterW: one("crit.cluster_weight"),
		clusterB: one("crit.cluster_bias"),
	}
	for i, tied := range c.TieProjs {
		m[embedTable(i)] = one(fmt.Sprintf("transformer.word_emb.emb_layers.%d.weight", i))
		m[embedProj(i)] = tr(fmt.Sprintf("transformer.word_emb.emb_projs.%d", i))
		m[softmaxBias(i)] = one(fmt.Sprintf("crit.out_layers.%d.bias", i))
		if !tied {
			m[softmaxProj(i)] = tr(fmt.Sprintf("crit.out_projs.%d", i))
		}
	}
	for _, name := range []string{"r_r_bias", "r_w_bias"} {
		t := target{stacked: true}
		for i := range c.NLayer {
			t.keys = append(t.keys, fmt.Sprintf("transformer.layers.%d.dec_attn.%s", i, name))
		}
		m[scope+name] = t
	}
	for i := range c.NLayer {
		tf, hf := layerScope(i), fmt.Sprintf("transformer.layers.%d.", i)
		m[tf+"rel_attn/LayerNorm/gamma"] = one(hf + "dec_attn.layer_norm.weight")
		m[tf+"rel_attn/LayerNorm/beta"] = one(hf + "dec_attn.layer_norm.bias")
		m[tf+"rel_attn/o/kernel"] = tr(hf + "dec_attn.o_net.weight")
		m[tf+"rel_attn/qkv/kernel"] = tr(hf + "dec_attn.qkv_net.weight")
		m[tf+"rel_attn/r/kernel"] = tr(hf + "dec_attn.r_net.weight")
		m[tf+"ff/LayerNorm/gamma"] = one(hf + "pos_ff.layer_norm.weight")
		m[tf+"ff/LayerNorm/beta"] = one(hf + "pos_ff.layer_norm.bias")
		m[tf+"ff/layer_1/kernel"] = tr(hf + "pos_ff.CoreNet.0.weight")
		m[tf+"ff/layer_1/bias"] = one(hf + "pos_ff.CoreNet.0.bias")
		m[tf+"ff/layer_2/kernel"] = tr(hf + "pos_ff.CoreNet.3.weight")
		m[tf+"ff/layer_2/bias"] = one(hf + "pos_ff.CoreNet.3.bias")
	}
	return m
}

// Map infers the model's shape from ck and corpus and applies the
// reference's map to every variable. Every variable the map names must be
// present, as the reference asserts.
func Map(ck *tfbundle.Checkpoint, corpus *CorpusInfo) (*Mapping, error) {
	c, err := inferConfig(ck, corpus)
	if err != nil {
		return nil, err
	}
	m := &Mapping{Config: c}
	ts := targets(c)
	byKey := map[string]*tensor.Tensor{}
	for i := range ck.Entries {
		e := &ck.Entries[i]
		if isOptimizerState(e.Name) {
			m.Skipped = append(m.Skipped, e.Name)
			continue
		}
		if l, ok := layerOf(e.Name); ok && l >= c.NLayer {
			return nil, fmt.Errorf("%s: tensor %s is in layer %d, but %s stacks %d layers", ck.IndexPath(), e.Name, l, rwBias, c.NLayer)
		}
		t, ok := ts[e.Name]
		if !ok {
			m.Unused = append(m.Unused, conversion.Leftover{Name: e.Name, DType: dtype.TFDataTypeName(e.TFDType), Shape: e.Shape})
			continue
		}
		delete(ts, e.Name)
		src, err := ck.Source(e)
		if err != nil {
			return nil, err
		}
		out, err := place(src, t)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			byKey[o.Name] = o
		}
	}
	for name := range ts {
		return nil, fmt.Errorf("%s: no variable %s, which the model needs", ck.IndexPath(), name)
	}
	byKey[invFreqKey] = invFreq(c.DModel)
	if m.Tensors, m.Keys, err = conversion.Assemble(stateDict(c), byKey, corpus.Path); err != nil {
		return nil, err
	}
	return m, nil
}

// place makes the output tensors of one variable: itself, transposed, or
// one slice per layer of a stacked variable.
func place(src *tensor.Source, t target) ([]*tensor.Tensor, error) {
	if t.stacked {
		return perLayer(src, t.keys)
	}
	out := &tensor.Tensor{Name: t.keys[0], DType: src.DType, Shape: src.Shape, Src: src}
	if t.transpose {
		if len(src.Shape) != 2 {
			return nil, fmt.Errorf("%s: tensor %s has shape %s, want 2 dimensions to transpose", src.File, src.Name, tensor.FormatShape(src.Shape))
		}
		out.Shape, out.Transform = []int64{src.Shape[1], src.Shape[0]}, tensor.Transpose2D
	}
	return []*tensor.Tensor{out}, nil
}

// perLayer splits a variable stacked along axis 0 into slices of the
// stored tensor, verified through its checksum.
func perLayer(src *tensor.Source, keys []string) ([]*tensor.Tensor, error) {
	if len(src.Shape) == 0 || src.Shape[0] != int64(len(keys)) {
		return nil, fmt.Errorf("%s: tensor %s: shape %s does not stack %d layers", src.File, src.Name, tensor.FormatShape(src.Shape), len(keys))
	}
	return src.SplitStacked(keys)
}

// invFreq is PositionalEmbedding's buffer, 1 / 10000^(arange(0, d, 2) / d),
// in float32 steps as torch builds it: the exponent a float32 quotient, the
// power the correctly rounded float32 (what torch's scalar pow, glibc's
// powf, gives; its vectorised pow may be an ULP off, see README), the
// reciprocal a float32 division.
func invFreq(d int64) *tensor.Tensor {
	n := (d + 1) / 2
	data := make([]byte, 0, 4*n)
	for i := range n {
		x := float32(2*i) / float32(d)
		p := float32(math.Pow(10000, float64(x)))
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(1/p))
	}
	return &tensor.Tensor{Name: invFreqKey, DType: dtype.F32, Shape: []int64{n}, Data: data}
}

// isOptimizerState reports whether a variable is optimizer or bookkeeping
// state: tf.train.AdamOptimizer's slots (<var>/Adam, <var>/Adam_1, which
// the reference drops) and powers, the step counter.
func isOptimizerState(name string) bool {
	switch name {
	case "global_step", "beta1_power", "beta2_power":
		return true
	}
	return strings.HasSuffix(name, "/Adam") || strings.HasSuffix(name, "/Adam_1")
}

var layerName = regexp.MustCompile(`^transformer/layer_(\d+)/`)

// layerOf is the layer index a variable belongs to, if it is in one.
func layerOf(name string) (int64, bool) {
	m := layerName.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	i, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return math.MaxInt64, true
	}
	return i, true
}
