package transfoxl

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
)

// stateDict lists TransfoXLLMHeadModel's state dict in order (module
// registration order) with the shapes c gives it. The softmax's output
// layers share the embedding tables (tie_word_embeddings), and its
// projections the embedding's where tie_projs says so.
func stateDict(c *Config) []conversion.Param {
	D, L := c.DModel, c.NLayer
	p := func(key string, shape ...int64) conversion.Param { return conversion.Param{Key: key, Shape: shape} }
	tied := func(key, to string) conversion.Param { return conversion.Param{Key: key, TiedTo: to} }
	bounds := c.clusterBounds()
	var ps []conversion.Param
	for i, b := range bounds {
		ps = append(ps, p(fmt.Sprintf("transformer.word_emb.emb_layers.%d.weight", i), b[1]-b[0], c.embedWidth(i)))
	}
	for i := range bounds {
		ps = append(ps, p(fmt.Sprintf("transformer.word_emb.emb_projs.%d", i), D, c.embedWidth(i)))
	}
	for i := range L {
		l := fmt.Sprintf("transformer.layers.%d.", i)
		ps = append(ps,
			p(l+"dec_attn.r_r_bias", c.NHead, c.DHead), p(l+"dec_attn.r_w_bias", c.NHead, c.DHead),
			p(l+"dec_attn.qkv_net.weight", 3*c.NHead*c.DHead, D), p(l+"dec_attn.o_net.weight", D, c.NHead*c.DHead),
			p(l+"dec_attn.layer_norm.weight", D), p(l+"dec_attn.layer_norm.bias", D),
			p(l+"dec_attn.r_net.weight", c.NHead*c.DHead, D),
			p(l+"pos_ff.CoreNet.0.weight", c.DInner, D), p(l+"pos_ff.CoreNet.0.bias", c.DInner),
			p(l+"pos_ff.CoreNet.3.weight", D, c.DInner), p(l+"pos_ff.CoreNet.3.bias", D),
			p(l+"pos_ff.layer_norm.weight", D), p(l+"pos_ff.layer_norm.bias", D),
		)
	}
	ps = append(ps, p(invFreqKey, (D+1)/2),
		p("crit.cluster_weight", int64(len(c.Cutoffs)), c.DEmbed), p("crit.cluster_bias", int64(len(c.Cutoffs))))
	for i, b := range bounds {
		ps = append(ps,
			tied(fmt.Sprintf("crit.out_layers.%d.weight", i), fmt.Sprintf("transformer.word_emb.emb_layers.%d.weight", i)),
			p(fmt.Sprintf("crit.out_layers.%d.bias", i), b[1]-b[0]))
	}
	for i, t := range c.TieProjs {
		key := fmt.Sprintf("crit.out_projs.%d", i)
		if t {
			ps = append(ps, tied(key, fmt.Sprintf("transformer.word_emb.emb_projs.%d", i)))
		} else {
			ps = append(ps, p(key, D, c.embedWidth(i)))
		}
	}
	return ps
}
