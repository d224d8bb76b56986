package transfoxl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

func TestSizesComeFromShapes(t *testing.T) {
	m, err := Map(fakeCheckpoint(t, releaseVars()), testCorpus())
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	got := fmt.Sprint(c.VocabSize, c.Cutoffs, c.DModel, c.DEmbed, c.NHead, c.DHead, c.DInner, c.DivVal, c.NLayer, c.TieProjs)
	if want := "30 [10 18] 8 8 2 3 5 2 2 [false true true]"; got != want {
		t.Errorf("config %s, want %s", got, want)
	}
	// Without a softmax proj of its own, cluster 0 shares the embedding's too.
	m, err = Map(fakeCheckpoint(t, without(releaseVars(), softmaxProj(0))), testCorpus())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Config.TieProjs, []bool{true, true, true}) || tensorByKey(t, m, "crit.out_projs.0") != tensorByKey(t, m, "transformer.word_emb.emb_projs.0") {
		t.Errorf("tie_projs %v", m.Config.TieProjs)
	}
}

func TestTransposesAndTies(t *testing.T) {
	m, err := Map(fakeCheckpoint(t, releaseVars()), testCorpus())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range m.Keys {
		tt := m.Tensors[k.Tensor]
		// The reference transposes every variable whose name holds
		// "kernel" or "proj": dense kernels, proj_W, proj.
		want := tensor.Identity
		if tt.Src != nil && (strings.Contains(tt.Src.Name, "kernel") || strings.Contains(tt.Src.Name, "proj")) {
			want = tensor.Transpose2D
		}
		if tt.Transform != want {
			t.Errorf("%s: transform %v, want %v", k.Name, tt.Transform, want)
		}
	}
	for key, shape := range map[string][]int64{
		"transformer.word_emb.emb_projs.2":             {8, 2},
		"crit.out_projs.0":                             {8, 8},
		"transformer.layers.1.dec_attn.qkv_net.weight": {18, 8},
		"transformer.layers.1.dec_attn.o_net.weight":   {8, 6},
		"transformer.layers.0.pos_ff.CoreNet.3.weight": {8, 5},
		"crit.cluster_weight":                          {2, 8},
	} {
		if got := tensorByKey(t, m, key).Shape; !slices.Equal(got, shape) {
			t.Errorf("%s: shape %v, want %v", key, got, shape)
		}
	}
	for i := range 3 {
		if tensorByKey(t, m, fmt.Sprintf("crit.out_layers.%d.weight", i)) != tensorByKey(t, m, fmt.Sprintf("transformer.word_emb.emb_layers.%d.weight", i)) {
			t.Errorf("crit.out_layers.%d.weight is not the embedding table", i)
		}
	}
	if tensorByKey(t, m, "crit.out_projs.0") == tensorByKey(t, m, "transformer.word_emb.emb_projs.0") {
		t.Error("cluster 0's own softmax proj is served as the embedding's")
	}
	if n := len(m.Keys) - len(m.Tensors); n != 5 {
		t.Errorf("%d tied keys, want 3 tables and 2 projections", n)
	}
}

func TestRelativeBiasesSplitPerLayer(t *testing.T) {
	ck := fakeCheckpoint(t, releaseVars())
	m, err := Map(ck, testCorpus())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"r_w_bias", "r_r_bias"} {
		stacked, _ := ck.Lookup(scope + name)
		per := stacked.Size / 2
		for i := range int64(2) {
			tt := tensorByKey(t, m, fmt.Sprintf("transformer.layers.%d.dec_attn.%s", i, name))
			if !slices.Equal(tt.Shape, []int64{2, 3}) || tt.Src.Parent == nil || tt.Src.Parent.Name != stacked.Name {
				t.Errorf("%s layer %d: shape %v, parent %v", name, i, tt.Shape, tt.Src.Parent)
				continue
			}
			if e := tt.Src.Extents; len(e) != 1 || e[0].Offset != stacked.Offset+i*per || e[0].Length != per {
				t.Errorf("%s layer %d: extents %+v", name, i, e)
			}
		}
	}
}

func TestInvFreqIsComputed(t *testing.T) {
	m, err := Map(fakeCheckpoint(t, releaseVars()), testCorpus())
	if err != nil {
		t.Fatal(err)
	}
	tt := tensorByKey(t, m, invFreqKey)
	if tt.Src != nil || !tt.Computed() || !slices.Equal(tt.Shape, []int64{4}) {
		t.Fatalf("inv_freq: src %v shape %v", tt.Src, tt.Shape)
	}
	// 1 / 10000^(i/8) for i = 0, 2, 4, 6: 1, 0.1, 0.01, 0.001 in float32.
	for i, want := range []float32{1, 0.1, 0.01, 0.001} {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(tt.Data[4*i:])); got != want {
			t.Errorf("inv_freq[%d] = %v, want %v", i, got, want)
		}
	}
	if odd := invFreq(7); len(odd.Data) != 4*4 || odd.Shape[0] != 4 {
		t.Errorf("d_model 7: %d elements, want arange(0, 7, 2)'s 4", odd.Shape[0])
	}
}

func TestOptimizerAndUnusedVariables(t *testing.T) {
	vs := releaseVars()
	for _, v := range releaseVars() {
		vs = append(vs, f32(v.name+"/Adam", v.shape...), f32(v.name+"/Adam_1", v.shape...))
	}
	vs = append(vs, f32("beta1_power"), f32("beta2_power"), variable{"global_step", tfInt64, nil}, f32("transformer/extra", 3))
	m, err := Map(fakeCheckpoint(t, vs), testCorpus())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Skipped) != 2*len(releaseVars())+3 {
		t.Errorf("%d skipped, want %d", len(m.Skipped), 2*len(releaseVars())+3)
	}
	if len(m.Unused) != 1 || m.Unused[0].Name != "transformer/extra" || m.Unused[0].DType != "float32" {
		t.Errorf("unused %+v", m.Unused)
	}
}

func TestUnsupportedLayouts(t *testing.T) {
	for name, vs := range map[string][]variable{
		// untie_r false: [n_head, d_head] biases shared by every layer.
		"tied biases": replaced(replaced(releaseVars(), f32(rwBias, 2, 3)), f32(rrBias, 2, 3)),
		// div_val 1: one unscoped table.
		"div_val 1": append(without(releaseVars(), embedTable(0), embedTable(1), embedTable(2)), f32(embedScope+"lookup_table", 30, 8)),
		// proj_same_dim false (lm1b): no projection where a cluster is as
		// wide as d_model.
		"proj_same_dim false": without(releaseVars(), embedProj(0), softmaxProj(0)),
	} {
		_, err := Map(fakeCheckpoint(t, vs), testCorpus())
		if !errors.Is(err, tfbundle.ErrUnsupported) || !strings.Contains(err.Error(), "model.ckpt-0.index") {
			t.Errorf("%s: %v, want an unsupported error naming the index", name, err)
		}
	}
}

func TestBadCheckpoints(t *testing.T) {
	for name, c := range map[string]struct {
		vars []variable
		want string
	}{
		"missing variable":   {without(releaseVars(), softmaxBias(2)), softmaxBias(2)},
		"missing layer var":  {without(releaseVars(), layerScope(1)+"ff/layer_2/bias"), "layer_1/ff/layer_2/bias"},
		"layer past n_layer": {append(releaseVars(), f32(layerScope(2)+"ff/layer_1/bias", 5)), "layer 2"},
		"cluster rows":       {replaced(releaseVars(), f32(embedTable(1), 9, 4)), "corpus-info.json"},
		"extra cluster":      {append(releaseVars(), f32(embedTable(3), 1, 1)), "corpus-info.json"},
		"width not div_val":  {replaced(releaseVars(), f32(embedTable(1), 8, 3)), "div_val"},
		"bias shape":         {replaced(releaseVars(), f32(softmaxBias(0), 11)), softmaxBias(0)},
		"kernel rank":        {replaced(releaseVars(), f32(layerScope(0)+"rel_attn/o/kernel", 6, 8, 1)), "rel_attn/o/kernel"},
		"biases not stacked": {replaced(releaseVars(), f32(rrBias, 3, 2, 3)), rrBias},
	} {
		_, err := Map(fakeCheckpoint(t, c.vars), testCorpus())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", name, err, c.want)
		}
	}
}
