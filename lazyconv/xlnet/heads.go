package xlnet

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle"
)

// TaskHead is a fine-tuning task's output layer, as run_classifier.py builds
// it: modeling.classification_loss under model/classification_<task>, or
// regression_loss under model/regression_<task>, each a dense layer "logit"
// on the summarised sequence.
type TaskHead struct {
	Scope      string // "model/classification_mnli_matched/logit/"
	Task       string // "mnli_matched"
	Regression bool
	NumLabels  int64
}

var headKernel = regexp.MustCompile(`^model/(classification|regression)_(.+)/logit/kernel$`)

// findHead finds the checkpoint's task head, if it has one. A checkpoint
// with several heads is refused: nothing says which one to serve.
func findHead(ck *tfbundle.Checkpoint, c *Config) (*TaskHead, error) {
	var found []*TaskHead
	var kernels []*tfbundle.Entry
	for i := range ck.Entries {
		m := headKernel.FindStringSubmatch(ck.Entries[i].Name)
		if m == nil {
			continue
		}
		found = append(found, &TaskHead{Scope: strings.TrimSuffix(m[0], "kernel"), Task: m[2], Regression: m[1] == "regression"})
		kernels = append(kernels, &ck.Entries[i])
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
	default:
		var scopes []string
		for _, h := range found {
			scopes = append(scopes, strings.TrimSuffix(h.Scope, "/"))
		}
		return nil, fmt.Errorf("%s: unsupported: several task heads (%s); cannot tell which one to serve", ck.IndexPath(), strings.Join(scopes, ", "))
	}
	h, k := found[0], kernels[0]
	// The dense kernel is [d_model, labels]; a regression head has one output.
	if len(k.Shape) != 2 || k.Shape[0] != c.DModel || k.Shape[1] < 1 || (h.Regression && k.Shape[1] != 1) {
		return nil, fmt.Errorf("%s: tensor %s: shape %s is not a task head over d_model %d from %s",
			ck.IndexPath(), k.Name, tensor.FormatShape(k.Shape), c.DModel, c.Path)
	}
	h.NumLabels = k.Shape[1]
	return h, nil
}

// headTargets maps a classifier's summary projection and task head onto
// XLNetForSequenceClassification: the reference's map for summary and
// regression heads (kernels transposed), applied to classification heads
// too, whose dense layer is laid out the same way.
func headTargets(h *TaskHead) map[string]target {
	return map[string]target{
		summaryKernel:      transposed("sequence_summary.summary.weight"),
		summaryBias:        one("sequence_summary.summary.bias"),
		h.Scope + "kernel": transposed("logits_proj.weight"),
		h.Scope + "bias":   one("logits_proj.bias"),
	}
}

// checkSummary refuses a summary XLNetForSequenceClassification cannot run:
// summary_type "attn" adds attention variables under the summary scope.
func checkSummary(ck *tfbundle.Checkpoint) error {
	for _, e := range ck.Entries {
		if strings.HasPrefix(e.Name, summaryScope) && e.Name != summaryKernel && e.Name != summaryBias && !isOptimizerState(e.Name) {
			return fmt.Errorf("%s: unsupported: %s is part of an attention summary (summary_type \"attn\"), which transformers' XLNet does not implement", ck.IndexPath(), e.Name)
		}
	}
	return nil
}
