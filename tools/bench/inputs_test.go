package main

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// The bench's inputs must be what they claim: BERT checkpoints ckptfs
// serves in full, of the advertised sizes.
func TestWrittenBERTIsServedAsAWholeModel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uncased_tiny")
	if err := writeBERT(dir, bertTiny, newPool(bertTiny.largestTensor()+1<<16)); err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Family.Kind; got != "bert" {
		t.Errorf("detected as %q, want bert", got)
	}
	if n := len(m.Conv.Unused); n != 0 {
		t.Errorf("%d variables not used by the model", n)
	}
	bin := m.Files["pytorch_model.bin"]
	if bin == nil || bin.Size() < bertTiny.bytes() {
		t.Fatalf("pytorch_model.bin missing or smaller than the %d tensor bytes", bertTiny.bytes())
	}
}

func TestShapesHaveTheAdvertisedSizes(t *testing.T) {
	for _, c := range []struct {
		shape bertShape
		gb    float64
	}{{bertBase, 0.44}, {bertLarge, 1.34}, {bert10G, 9.8}} {
		if got := float64(c.shape.bytes()) / 1e9; math.Abs(got-c.gb) > 0.05*c.gb {
			t.Errorf("%+v: %.2f GB, want about %.2f", c.shape, got, c.gb)
		}
	}
}

func TestRandomPatternStaysInsideTheFile(t *testing.T) {
	for _, q := range randomPattern(1000) {
		if q.at < 0 || q.at >= 1 || q.size < 4096 || q.size > 1<<20 {
			t.Fatalf("request %+v", q)
		}
	}
}
