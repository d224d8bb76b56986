// Command bench measures ckptfs against baselines taken in the same run and
// prints one table (issue 5's figures B1-B10). It writes its own inputs,
// BERT-shaped TensorFlow checkpoints of about 440 MB, 1.3 GB and 10 GB, in
// a temporary folder under -workdir and removes them at the end. Cold
// figures drop the page cache first, so it must run as root.
//
//	bench -ckptfs bin/ckptfs [-only B1,B9] [-venv .venv] [-profile DIR]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// row is one line of the table.
type row struct {
	id, figure, baseline, ratio, target, met string
}

type bench struct {
	bin, work, venv, fixturesVenv, profileDir string
	store                                     string // the models, under work
	logPath                                   string
	data                                      pool

	mu   sync.Mutex
	live map[*daemon]bool
}

var all = []string{"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10"}

func main() {
	var (
		only       = flag.String("only", "", "comma-separated figures to run, e.g. B1,B9 (default: all)")
		bin        = flag.String("ckptfs", "bin/ckptfs", "the ckptfs binary to measure")
		workdir    = flag.String("workdir", "/var/tmp", "where the inputs are written (needs about 16 GB free for all figures)")
		venv       = flag.String("venv", ".venv", "Python venv with torch and transformers, for B6 and B7")
		profileDir = flag.String("profile", "", "save CPU profiles of ckptfs during B1 and B8 into this folder")
		keep       = flag.Bool("keep", false, "keep the inputs (for a second look)")
		splice     = flag.String("serve-splice", "", "internal: serve the files given as arguments at this mountpoint")
	)
	flag.Parse()
	if *splice != "" {
		if err := serveSplice(*splice, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "splice baseline:", err)
			os.Exit(1)
		}
		return
	}
	selected := all
	if *only != "" {
		selected = strings.Split(strings.ToUpper(*only), ",")
		for _, id := range selected {
			if !slices.Contains(all, id) {
				fmt.Fprintf(os.Stderr, "-only: unknown figure %q (have %s)\n", id, strings.Join(all, ","))
				os.Exit(2)
			}
		}
	}
	b := &bench{venv: *venv, fixturesVenv: os.Getenv("CKPTFS_FIXTURES_VENV"), profileDir: *profileDir, live: map[*daemon]bool{}}
	var err error
	if b.bin, err = filepath.Abs(*bin); err == nil {
		b.venv, err = filepath.Abs(b.venv)
	}
	if err == nil {
		err = b.checkDisk(*workdir, selected)
	}
	if err == nil {
		b.work, err = os.MkdirTemp(*workdir, "ckptfs-bench-")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	b.store = filepath.Join(b.work, "store")
	b.logPath = filepath.Join(b.work, "daemons.log")
	cleanup := func() {
		b.stopAll()
		if *keep {
			fmt.Fprintf(os.Stderr, "inputs kept in %s\n", b.work)
			return
		}
		os.RemoveAll(b.work)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(os.Stderr, "bench: interrupted, cleaning up")
		cleanup()
		os.Exit(1)
	}()

	began := time.Now()
	fmt.Printf("ckptfs bench, %s\n\n%s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine())
	var rows []row
	for _, id := range all {
		if !slices.Contains(selected, id) {
			continue
		}
		fmt.Fprintf(os.Stderr, "%s %s ...\n", time.Now().Format("15:04:05"), id)
		got, err := b.run(id)
		b.stopAll()
		if err != nil {
			got = []row{{id: id, figure: "error: " + err.Error(), met: "no"}}
			fmt.Fprintf(os.Stderr, "%s: %v\n", id, err)
		}
		rows = append(rows, got...)
	}
	fmt.Println()
	printTable(rows)
	fmt.Printf("\ntotal time %s\n", time.Since(began).Round(time.Second))
	if b.profileDir != "" {
		fmt.Printf("profiles in %s (go tool pprof -top %s FILE)\n", b.profileDir, b.bin)
	}
	cleanup()
}

func (b *bench) run(id string) ([]row, error) {
	switch id {
	case "B1":
		return b.b1()
	case "B2":
		return b.b2()
	case "B3":
		return b.b3()
	case "B4":
		return b.b4()
	case "B5":
		return b.b5()
	case "B6":
		return b.b6()
	case "B7":
		return b.b7()
	case "B8":
		return b.b8()
	case "B9":
		return b.b9()
	}
	return b.b10()
}

// models the figures need, by name under store/google, with their shape.
var models = map[string]bertShape{
	"uncased_base_0": bertBase, "uncased_base_1": bertBase, "uncased_base_2": bertBase, "uncased_base_3": bertBase,
	"uncased_large": bertLarge, "uncased_10g": bert10G,
}

func needs(id string) []string {
	switch id {
	case "B1", "B2", "B3":
		return []string{"uncased_large"}
	case "B4":
		return []string{"uncased_base_0", "uncased_base_1", "uncased_base_2", "uncased_base_3"}
	case "B5":
		return []string{"uncased_base_0", "uncased_large", "uncased_10g"}
	case "B6", "B7":
		return []string{"uncased_base_0"}
	case "B8":
		return []string{"uncased_10g"}
	}
	return nil
}

// checkDisk refuses to start when workdir cannot hold the inputs of the
// selected figures (plus copies B6 and B7 make, and some slack).
func (b *bench) checkDisk(workdir string, selected []string) error {
	need := int64(1 << 30)
	seen := map[string]bool{}
	for _, id := range selected {
		for _, m := range needs(id) {
			if !seen[m] {
				seen[m] = true
				need += models[m].bytes()
			}
		}
		if id == "B6" || id == "B7" {
			need += 2 * bertBase.bytes()
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(workdir, &st); err != nil {
		return err
	}
	if free := int64(st.Bavail) * st.Bsize; free < need {
		return fmt.Errorf("%s has %.1f GB free; the selected figures need %.1f GB", workdir, float64(free)/1e9, float64(need)/1e9)
	}
	return nil
}

// model writes the named model on first use and returns its folder.
func (b *bench) model(name string) (string, error) {
	dir := filepath.Join(b.store, "google", name)
	if _, err := os.Stat(filepath.Join(dir, "bert_model.ckpt.index")); err == nil {
		return dir, nil
	}
	shape := models[name]
	if int64(len(b.data)) < shape.largestTensor()+1<<20 {
		b.data = nil
		runtime.GC()
		b.data = newPool(bert10G.largestTensor() + 1<<20) // one pool, the largest any model needs
	}
	began := time.Now()
	if err := writeBERT(dir, shape, b.data); err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	fmt.Fprintf(os.Stderr, "  wrote %s (%.2f GB) in %s\n", name, float64(shape.bytes())/1e9, time.Since(began).Round(time.Millisecond))
	return dir, nil
}

func (b *bench) models(id string) error {
	for _, m := range needs(id) {
		if _, err := b.model(m); err != nil {
			return err
		}
	}
	return nil
}

func shard(dir string) string { return filepath.Join(dir, "bert_model.ckpt.data-00000-of-00001") }

// mountCkptfs drops the page cache (if cold) and mounts the store afresh.
func (b *bench) mountCkptfs(cold bool, cacheSize string) (*daemon, string, error) {
	if cold {
		if err := dropCaches(); err != nil {
			return nil, "", err
		}
	}
	mnt := filepath.Join(b.work, "mnt")
	d, _, err := startCkptfs(b.bin, b.store, mnt, cacheSize, b.logPath)
	if err != nil {
		return nil, "", err
	}
	b.track(d)
	return d, filepath.Join(mnt, "google"), nil
}

// mountSplice serves files through the splice baseline as f0, f1, ...
func (b *bench) mountSplice(cold bool, files ...string) (*daemon, string, error) {
	if cold {
		if err := dropCaches(); err != nil {
			return nil, "", err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	mnt := filepath.Join(b.work, "splice")
	d, _, err := start(append([]string{self, "-serve-splice", mnt}, append(files, mnt)...), b.logPath)
	if err != nil {
		return nil, "", err
	}
	b.track(d)
	return d, mnt, nil
}

func (b *bench) track(d *daemon) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live[d] = true
}

func (b *bench) stop(d *daemon) error {
	b.mu.Lock()
	delete(b.live, d)
	b.mu.Unlock()
	return d.stop()
}

func (b *bench) stopAll() {
	b.mu.Lock()
	live := b.live
	b.live = map[*daemon]bool{}
	b.mu.Unlock()
	for d := range live {
		d.stop()
	}
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	var si syscall.Sysinfo_t
	syscall.Sysinfo(&si)
	var uts syscall.Utsname
	syscall.Uname(&uts)
	release := make([]byte, 0, len(uts.Release))
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		release = append(release, byte(c))
	}
	return fmt.Sprintf("machine: %d cores (%s), %.1f GB RAM, Linux %s, %s",
		runtime.NumCPU(), cpu, float64(si.Totalram)*float64(si.Unit)/1e9, release, runtime.Version())
}

func printTable(rows []row) {
	fmt.Println("| id | figure | baseline (same run) | ratio | target | met? |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.id, r.figure, r.baseline, r.ratio, r.target, r.met)
	}
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
