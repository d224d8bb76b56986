// Command ckptfs mounts a store of original model checkpoints as Hugging
// Face model folders, converting weights lazily as they are read.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:   "ckptfs",
		Short: "Serve original checkpoints as Hugging Face model folders",
		Long: `ckptfs shows every model of a store of original checkpoints (Google's BERT
TensorFlow releases, ...) as a Hugging Face model folder: config.json,
tokenizer files, and virtual pytorch_model.bin and model.safetensors files
whose bytes are converted on read. Nothing is written to the store.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(mountCommand(), lsCommand(), inspectCommand(), verifyCommand())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ckptfs:", err)
		os.Exit(1)
	}
}
