package verify

import (
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/model"
	"github.com/ckptfs/ckptfs/lazyconv/plancheck"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

const bertDir = "../../testdata/store/google/uncased_L-2_H-32_A-4"

func TestSampleModelHasNoProblems(t *testing.T) {
	r := Path(bertDir)
	if len(r.Problems) != 0 || r.Models != 1 || r.Files != 4 || r.Tensors == 0 {
		t.Errorf("report %+v", r)
	}
}

// The mapping checks catch plans that would serve wrong bytes.
func TestCheckPlanFindsBrokenMappings(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(m *model.Model)
		want   string
	}{
		{"element count", func(m *model.Model) {
			m.Conv.Tensors[0].Shape = []int64{3}
		}, "different element count"},
		{"transpose shape", func(m *model.Model) {
			for _, tt := range m.Conv.Tensors {
				if tt.Transform == tensor.Transpose2D && tt.Src.Shape[0] != tt.Src.Shape[1] {
					tt.Shape = tt.Src.Shape
					return
				}
			}
			t.Fatal("no transposed non-square tensor")
		}, "transpose of"},
		{"gap between runs", func(m *model.Model) {
			m.Files[model.Safetensors].Plan.Runs[1].Off++
		}, "expected to start at"},
	} {
		m, err := model.LoadDir(bertDir)
		if err != nil {
			t.Fatal(err)
		}
		if err := plancheck.Check(m.Files[model.Safetensors].Plan); err != nil {
			t.Fatalf("%s: the intact plan: %v", c.name, err)
		}
		c.damage(m)
		err = plancheck.Check(m.Files[model.Safetensors].Plan)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
