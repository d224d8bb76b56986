package xlnet

import (
	"fmt"

	"github.com/ckptfs/ckptfs/lazyconv/conversion"
)

// Architectures the mapping produces.
const (
	LMHead                 = "XLNetLMHeadModel"
	SequenceClassification = "XLNetForSequenceClassification"
)

// stateDict lists the parameters of the Hugging Face class m describes, in
// its state_dict order (module registration order), with the shapes cfg
// gives them.
func stateDict(c *Config, m *Mapping) []conversion.Param {
	D, H, Dh, I, V := c.DModel, c.NHead, c.DHead, c.DInner, c.NToken
	p := func(key string, shape ...int64) conversion.Param { return conversion.Param{Key: key, Shape: shape} }
	ps := []conversion.Param{p("transformer.mask_emb", 1, 1, D), p("transformer.word_embedding.weight", V, D)}
	for i := int64(0); i < c.NLayer; i++ {
		l := fmt.Sprintf("transformer.layer.%d.", i)
		for _, proj := range []string{"q", "k", "v", "o", "r"} {
			ps = append(ps, p(l+"rel_attn."+proj, D, H, Dh))
		}
		ps = append(ps,
			p(l+"rel_attn.r_r_bias", H, Dh), p(l+"rel_attn.r_s_bias", H, Dh), p(l+"rel_attn.r_w_bias", H, Dh),
			p(l+"rel_attn.seg_embed", 2, H, Dh),
			p(l+"rel_attn.layer_norm.weight", D), p(l+"rel_attn.layer_norm.bias", D),
			p(l+"ff.layer_norm.weight", D), p(l+"ff.layer_norm.bias", D),
			p(l+"ff.layer_1.weight", I, D), p(l+"ff.layer_1.bias", I),
			p(l+"ff.layer_2.weight", D, I), p(l+"ff.layer_2.bias", D),
		)
	}
	if m.Head == nil {
		return append(ps,
			conversion.Param{Key: "lm_loss.weight", TiedTo: "transformer.word_embedding.weight"},
			p("lm_loss.bias", V))
	}
	if m.Summary {
		ps = append(ps, p("sequence_summary.summary.weight", D, D), p("sequence_summary.summary.bias", D))
	}
	N := m.Head.NumLabels
	return append(ps, p("logits_proj.weight", N, D), p("logits_proj.bias", N))
}
