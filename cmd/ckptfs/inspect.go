package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ckptfs/ckptfs/lazyconv/model"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

func inspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect MODEL_DIR",
		Short: "Show how a model's original tensors map to Hugging Face names",
		Long: `For one model folder, list every original tensor with the Hugging Face
name it is served as, its dtype, its shape before and after conversion, and
the transform applied; then the tied names and every variable left out.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := model.LoadDir(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "model:        %s\nkind:         %s\ncheckpoint:   %s\narchitecture: %s\n\n",
				args[0], m.Family.Kind, m.Conv.Source, m.Conv.Architecture)
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ORIGINAL\tHF NAME\tDTYPE\tSHAPE\tTRANSFORM")
			for _, t := range m.Conv.Tensors {
				shape := tensor.FormatShape(t.Shape)
				if t.Src != nil && !tensor.ShapeEqual(t.Shape, t.Src.Shape) {
					shape = tensor.FormatShape(t.Src.Shape) + " -> " + shape
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.SourceName(), t.Name, t.DType, shape, t.TransformName())
			}
			w.Flush()
			for _, k := range m.Conv.Keys {
				if t := m.Conv.Tensors[k.Tensor]; t.Name != k.Name {
					fmt.Fprintf(out, "tied:         %s = %s\n", k.Name, t.Name)
				}
			}
			if n := len(m.Conv.Skipped); n > 0 {
				fmt.Fprintf(out, "\nskipped:      %d optimizer and bookkeeping variables: %s\n", n, countByKind(m.Conv.Skipped))
			}
			if len(m.Conv.Unused) > 0 {
				fmt.Fprintf(out, "\nnot used by the model (%d):\n", len(m.Conv.Unused))
				w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				for _, u := range m.Conv.Unused {
					fmt.Fprintf(w, "  %s\t%s\t%s\n", u.Name, u.DType, tensor.FormatShape(u.Shape))
				}
				w.Flush()
			}
			return nil
		},
	}
}

// countByKind summarises skipped variables by their last name component
// (adam_m, adam_v, global_step, ...), in order of first appearance: the
// slots of every weight would bury the listing.
func countByKind(names []string) string {
	var kinds []string
	count := map[string]int{}
	for _, n := range names {
		kind := n[strings.LastIndex(n, "/")+1:]
		if count[kind] == 0 {
			kinds = append(kinds, kind)
		}
		count[kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, count[k])
	}
	return strings.Join(parts, ", ")
}
