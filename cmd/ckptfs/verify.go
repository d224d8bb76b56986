package main

import (
	"github.com/spf13/cobra"

	"github.com/ckptfs/ckptfs/lazyconv/verify"
)

func verifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify MODEL_DIR|STORE",
		Short: "Read every tensor of every model and report what is wrong",
		Long: `Produce every byte of every generated file of every model under the path,
through the same readers the mount serves them with: every tensor's
checksum is verified and every mapping checked. Prints one line
"PROBLEM <file>: <error>" per problem, then a summary, and exits with
status 1 if there is any problem: a health check for a store.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := verify.Path(args[0])
			r.Print(cmd.OutOrStdout())
			if len(r.Problems) > 0 {
				return verify.ErrProblems
			}
			return nil
		},
	}
}
