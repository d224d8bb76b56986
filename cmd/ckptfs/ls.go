package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/ckptfs/ckptfs/lazyconv/model"
)

func lsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ls STORE",
		Short: "List the models found in STORE",
		Long: `List every model folder under STORE with its kind, the Hugging Face
architecture it is served as, and the size of its model.safetensors. A
model that cannot be served is listed with the reason.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store := args[0]
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "MODEL\tKIND\tARCHITECTURE\tSIZE")
			err := filepath.WalkDir(store, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "ckptfs: %v\n", err)
					return nil
				}
				if !d.IsDir() {
					return nil
				}
				entries, err := os.ReadDir(path)
				if err != nil {
					return nil
				}
				names := make([]string, len(entries))
				for i, e := range entries {
					names[i] = e.Name()
				}
				family, ok := model.Detect(names)
				if !ok {
					return nil
				}
				rel, _ := filepath.Rel(store, path)
				m, err := model.Load(path, family)
				if err != nil {
					fmt.Fprintf(w, "%s\t%s\t-\terror: %v\n", rel, family.Kind, err)
					return nil
				}
				size := m.Files[model.Safetensors].Size()
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", rel, family.Kind, m.Conv.Architecture, humanize.IBytes(uint64(size)))
				return nil
			})
			if err != nil {
				return err
			}
			return w.Flush()
		},
	}
}
