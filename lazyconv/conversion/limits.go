package conversion

import "fmt"

// Count is a number from a config that a conversion loops over (layers,
// layer groups), named for error messages.
type Count struct {
	Key string
	N   int64
}

// CheckCounts refuses counts the checkpoint cannot hold. Every layer (or
// group) has at least one variable, so a count above the number of
// variables is wrong; the check comes before anything loops over it, so a
// hostile config saying 2^40 layers gives an error instead of hanging the
// mount while it lists 2^40 layers' parameters. Several counts multiplied
// (groups × layers per group) must fit together.
func CheckCounts(config string, variables int, checkpoint string, counts ...Count) error {
	total := int64(1)
	for _, c := range counts {
		if c.N > int64(variables) {
			return fmt.Errorf("%s: %s is %d, but %s holds only %d variables", config, c.Key, c.N, checkpoint, variables)
		}
		if total *= max(c.N, 1); total > int64(variables) {
			return fmt.Errorf("%s: %d layers in all (%s), but %s holds only %d variables", config, total, keys(counts), checkpoint, variables)
		}
	}
	return nil
}

func keys(counts []Count) string {
	s := ""
	for i, c := range counts {
		if i > 0 {
			s += " × "
		}
		s += c.Key
	}
	return s
}
