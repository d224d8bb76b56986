package conversion

import (
	"strings"
	"testing"
)

func TestCheckCounts(t *testing.T) {
	if err := CheckCounts("c.json", 10, "m.index", Count{"layers", 10}, Count{"groups", 1}); err != nil {
		t.Errorf("counts within the checkpoint refused: %v", err)
	}
	for _, c := range []struct {
		counts []Count
		want   string
	}{
		{[]Count{{"num_hidden_layers", 1 << 40}}, "c.json: num_hidden_layers is 1099511627776, but m.index holds only 10 variables"},
		{[]Count{{"groups", 5}, {"inner", 3}}, "15 layers in all (groups × inner)"},
	} {
		err := CheckCounts("c.json", 10, "m.index", c.counts...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.counts, err, c.want)
		}
	}
}
