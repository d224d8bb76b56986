package main

import (
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/ckptfs/ckptfs/fusefs"
)

func mountCommand() *cobra.Command {
	var (
		cacheSize      string
		allowOther     bool
		followSymlinks bool
		debug          bool
	)
	cmd := &cobra.Command{
		Use:   "mount [flags] STORE MNT",
		Short: "Mount STORE at MNT, in the foreground, until interrupted",
		Long: `Mount STORE at MNT read-only and serve it until SIGINT or SIGTERM, which
unmount cleanly. Every model folder found under STORE shows its generated
config.json, tokenizer_config.json, pytorch_model.bin and model.safetensors
beside the original files.

Every write is refused (EROFS). With --allow-other the kernel checks each
user's access against the owner, group and mode the view reports: an
original file's own, and for a generated file the common owner and group
of the folder's files with read access only for those who may read all of
them. Symlinks that lead outside STORE are hidden unless --follow-symlinks.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			bytes, err := humanize.ParseBytes(cacheSize)
			if err != nil || bytes == 0 {
				return fmt.Errorf("--cache-size %q: want a size such as 256MiB or 1GiB", cacheSize)
			}
			logger := log.New(os.Stderr, "ckptfs: ", log.LstdFlags)
			m, err := fusefs.New(args[0], args[1], fusefs.Options{
				CacheBytes:     int64(bytes),
				AllowOther:     allowOther,
				FollowSymlinks: followSymlinks,
				Debug:          debug,
				Logger:         logger,
			})
			if err != nil {
				return err
			}
			signals := make(chan os.Signal, 1)
			signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
			go func() {
				<-signals
				logger.Printf("unmounting %s", args[1])
				if err := m.Unmount(); err != nil {
					logger.Printf("unmount %s: %v (run: fusermount3 -u %s)", args[1], err, args[1])
				}
			}()
			logger.Printf("serving %s at %s (Ctrl-C to unmount)", args[0], args[1])
			m.Server.Wait()
			return nil
		},
	}
	cmd.Flags().StringVar(&cacheSize, "cache-size", "1GiB", "memory for converted chunks, e.g. 256MiB")
	cmd.Flags().BoolVar(&allowOther, "allow-other", false, "let other users read the mount (permissions follow the source files)")
	cmd.Flags().BoolVar(&followSymlinks, "follow-symlinks", false, "follow symlinks that lead outside STORE (hidden otherwise)")
	cmd.Flags().BoolVar(&debug, "debug", false, "log every FUSE request")
	return cmd
}
