package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // served on --debug-addr only
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/ckptfs/ckptfs/fusefs"
)

// memoryOverhead is what the daemon's Go memory may use beyond its chunk
// cache: FUSE buffers, plans, the conversions in flight (a few 16-32 MiB
// chunks). Streaming a model larger than the cache, the collector lets the
// heap grow to the limit, so the resident size is the limit plus ~10 MB of
// non-heap memory: 112 MiB keeps it under cache + 150 MB with room to
// spare (128 MiB measured 413-417 MB at a 256 MiB cache).
const memoryOverhead = 112 << 20

func mountCommand() *cobra.Command {
	var (
		cacheSize      string
		allowOther     bool
		followSymlinks bool
		debugFUSE      bool
		debugAddr      string
		recheck        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "mount [flags] STORE MNT",
		Short: "Mount STORE at MNT, in the foreground, until interrupted",
		Long: `Mount STORE at MNT read-only. Every model folder found under STORE shows
its generated config.json, tokenizer_config.json, pytorch_model.bin and
model.safetensors beside the original files. A folder whose files change
is served as a new version to opens made after the next check (at most
every --recheck); files already open keep the version they opened.

SIGINT or SIGTERM detaches the mount at once (a lazy unmount); files
already open are served until closed, then ckptfs exits 0. A second signal
exits 1 at once.

Every write is refused (EROFS). With --allow-other the kernel checks each
user's access against the owner, group and mode the view reports: an
original file's own, and for a generated file the common owner and group
of the folder's files with read access only for those who may read all of
them. Symlinks that lead outside STORE are hidden unless --follow-symlinks.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if recheck <= 0 {
				return fmt.Errorf("--recheck %v: want a positive duration such as 2s or 500ms", recheck)
			}
			bytes, err := humanize.ParseBytes(cacheSize)
			if err != nil || bytes == 0 {
				return fmt.Errorf("--cache-size %q: want a size such as 256MiB or 1GiB", cacheSize)
			}
			logger := log.New(os.Stderr, "ckptfs: ", log.LstdFlags)
			// The cache is the daemon's only large memory; a soft limit just
			// above it makes the collector return freed chunks promptly, so
			// the resident size stays near the cache size.
			debug.SetMemoryLimit(int64(bytes) + memoryOverhead)
			if debugAddr != "" {
				ln, err := net.Listen("tcp", debugAddr)
				if err != nil {
					return fmt.Errorf("--debug-addr %s: %w", debugAddr, err)
				}
				logger.Printf("profiles at http://%s/debug/pprof/", ln.Addr())
				go http.Serve(ln, nil)
			}
			// Signals are caught before mounting: the default action, dying,
			// would be fatal while go-fuse checks the new mount by opening a
			// file on it (a process that dies with a request to itself
			// in flight never finishes exiting). A signal that arrives
			// meanwhile is handled once the mount is up.
			signals := make(chan os.Signal, 2)
			signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
			m, err := fusefs.New(args[0], args[1], fusefs.Options{
				CacheBytes:     int64(bytes),
				AllowOther:     allowOther,
				FollowSymlinks: followSymlinks,
				Debug:          debugFUSE,
				Logger:         logger,
				Recheck:        recheck,
			})
			if err != nil {
				return err
			}
			go func() {
				sig := <-signals
				// Detach at once, so nothing new opens; readers in flight
				// finish, and the process exits when the last file closes.
				logger.Printf("%v: unmounting %s; open files are served until closed (signal again to exit at once)", sig, args[1])
				if err := m.Detach(); err != nil {
					logger.Printf("%v (run: fusermount3 -u -z %s)", err, args[1])
				}
				<-signals
				logger.Printf("second signal: exiting with files still open on %s", args[1])
				os.Exit(1)
			}()
			logger.Printf("serving %s at %s (Ctrl-C to unmount)", args[0], args[1])
			m.Wait()
			logger.Printf("unmounted %s", args[1])
			return nil
		},
	}
	cmd.Flags().StringVar(&cacheSize, "cache-size", "1GiB", "memory for converted chunks, e.g. 256MiB")
	cmd.Flags().BoolVar(&allowOther, "allow-other", false, "let other users read the mount (permissions follow the source files)")
	cmd.Flags().BoolVar(&followSymlinks, "follow-symlinks", false, "follow symlinks that lead outside STORE (hidden otherwise)")
	cmd.Flags().BoolVar(&debugFUSE, "debug", false, "log every FUSE request")
	cmd.Flags().StringVar(&debugAddr, "debug-addr", "", "serve Go profiles (net/http/pprof) at this address, e.g. localhost:6060")
	cmd.Flags().DurationVar(&recheck, "recheck", 2*time.Second, "how often, at most, a model folder is checked for changed files (also the kernel's cache timeout)")
	return cmd
}
