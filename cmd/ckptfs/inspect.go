package main

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ckptfs/ckptfs/lazyconv/bert"
	"github.com/ckptfs/ckptfs/lazyconv/dtype"
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
			m, err := model.Load(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "model:        %s\nkind:         %s\ncheckpoint:   %s\narchitecture: %s\n\n",
				args[0], m.Kind, filepath.Base(m.Checkpoint.Prefix), m.Mapping.Architecture)
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ORIGINAL\tHF NAME\tDTYPE\tSHAPE\tTRANSFORM")
			for _, t := range m.Mapping.Tensors {
				shape := tensor.FormatShape(t.Src.Shape)
				if !tensor.ShapeEqual(t.Shape, t.Src.Shape) {
					shape += " -> " + tensor.FormatShape(t.Shape)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Src.Name, t.Name, t.DType, shape, t.TransformName())
			}
			w.Flush()
			for _, k := range m.Mapping.Keys {
				if t := m.Mapping.Tensors[k.Tensor]; t.Name != k.Name {
					fmt.Fprintf(out, "tied:         %s = %s\n", k.Name, t.Name)
				}
			}
			left := append(append([]string{}, m.Mapping.Skipped...), m.Mapping.Unmapped...)
			if len(left) > 0 {
				fmt.Fprintf(out, "\nleft out (%d):\n", len(left))
				entries := map[string]string{}
				for _, e := range m.Checkpoint.Entries {
					entries[e.Name] = dtype.TFDataTypeName(e.TFDType) + " " + tensor.FormatShape(e.Shape)
				}
				for _, name := range left {
					fmt.Fprintf(out, "  %s\t%s\t%s\n", name, entries[name], bert.Describe(name))
				}
			}
			return nil
		},
	}
}
