package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ckptfs/ckptfs/lazyconv/transform"
)

const (
	bin = "pytorch_model.bin"
	st  = "model.safetensors"
)

func gb(t throughput) string { return fmt.Sprintf("%.2f GB/s", t.gbps()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// profiled reads path, recording a CPU profile of d meanwhile if asked.
func (b *bench) profiled(d *daemon, name string, seconds int, read func() (throughput, error)) (throughput, error) {
	if b.profileDir == "" {
		return read()
	}
	os.MkdirAll(b.profileDir, 0o755)
	wait := d.profile(seconds, filepath.Join(b.profileDir, name+".pprof"))
	t, err := read()
	wait()
	return t, err
}

// coldRead reads one virtual file of a model on a fresh mount after
// dropping the page cache.
func (b *bench) coldRead(model, file string) (throughput, error) {
	d, mnt, err := b.mountCkptfs(true, "")
	if err != nil {
		return throughput{}, err
	}
	defer b.stop(d)
	return b.profiled(d, "B1-"+file, 3, func() (throughput, error) { return readAll(filepath.Join(mnt, model, file)) })
}

// B1: cold sequential reads against the splice baseline.
func (b *bench) b1() ([]row, error) {
	if err := b.models("B1"); err != nil {
		return nil, err
	}
	const m = "uncased_large"
	tb, err := b.coldRead(m, bin)
	if err != nil {
		return nil, err
	}
	ts, err := b.coldRead(m, st)
	if err != nil {
		return nil, err
	}
	d, mnt, err := b.mountSplice(true, shard(filepath.Join(b.store, "google", m)))
	if err != nil {
		return nil, err
	}
	base, err := readAll(filepath.Join(mnt, "f0"))
	b.stop(d)
	if err != nil {
		return nil, err
	}
	r := min(tb.gbps(), ts.gbps()) / base.gbps()
	return []row{{"B1", fmt.Sprintf("cold 1 MiB reads, BERT-large: .bin %s, .safetensors %s", gb(tb), gb(ts)),
		"splice file " + gb(base), fmt.Sprintf("%.2f", r), "≥ 0.9", yesNo(r >= 0.9)}}, nil
}

// B2: warm re-reads against a direct read of the shard from the page cache.
func (b *bench) b2() ([]row, error) {
	if err := b.models("B2"); err != nil {
		return nil, err
	}
	const m = "uncased_large"
	d, mnt, err := b.mountCkptfs(false, "")
	if err != nil {
		return nil, err
	}
	defer b.stop(d)
	var warm [2]throughput
	for i, f := range []string{bin, st} {
		if _, err := readAll(filepath.Join(mnt, m, f)); err != nil {
			return nil, err
		}
		if warm[i], err = readAll(filepath.Join(mnt, m, f)); err != nil {
			return nil, err
		}
	}
	src := shard(filepath.Join(b.store, "google", m))
	readAll(src)
	base, err := readAll(src)
	if err != nil {
		return nil, err
	}
	// For context, not the target: the same re-read through the splice
	// file, i.e. what any FUSE file's page cache gives on this kernel.
	sd, smnt, err := b.mountSplice(false, src)
	if err != nil {
		return nil, err
	}
	readAll(filepath.Join(smnt, "f0"))
	fuseWarm, err := readAll(filepath.Join(smnt, "f0"))
	b.stop(sd)
	if err != nil {
		return nil, err
	}
	r := min(warm[0].gbps(), warm[1].gbps()) / base.gbps()
	return []row{{"B2", fmt.Sprintf("warm re-read, BERT-large: .bin %s, .safetensors %s (splice file re-read: %s)", gb(warm[0]), gb(warm[1]), gb(fuseWarm)),
		"shard from page cache " + gb(base), fmt.Sprintf("%.2f", r), "≥ 0.5", yesNo(r >= 0.5)}}, nil
}

// B3: cold random reads of 4 KiB-1 MiB, the same pattern on both.
func (b *bench) b3() ([]row, error) {
	if err := b.models("B3"); err != nil {
		return nil, err
	}
	const m = "uncased_large"
	reqs := randomPattern(400)
	var got [2]throughput
	for i, f := range []string{st, bin} {
		d, mnt, err := b.mountCkptfs(true, "")
		if err != nil {
			return nil, err
		}
		got[i], err = readPattern(filepath.Join(mnt, m, f), reqs)
		b.stop(d)
		if err != nil {
			return nil, err
		}
	}
	d, mnt, err := b.mountSplice(true, shard(filepath.Join(b.store, "google", m)))
	if err != nil {
		return nil, err
	}
	base, err := readPattern(filepath.Join(mnt, "f0"), reqs)
	b.stop(d)
	if err != nil {
		return nil, err
	}
	r := min(got[0].gbps(), got[1].gbps()) / base.gbps()
	return []row{{"B3", fmt.Sprintf("cold random 4 KiB-1 MiB reads (400), BERT-large: .safetensors %s, .bin %s", gb(got[0]), gb(got[1])),
		"splice file " + gb(base), fmt.Sprintf("%.2f", r), "≥ 0.8", yesNo(r >= 0.8)}}, nil
}

// B4: 8 concurrent cold readers over 4 models (each model's .bin and
// .safetensors) against 8 readers over the 4 shards on splice files.
func (b *bench) b4() ([]row, error) {
	if err := b.models("B4"); err != nil {
		return nil, err
	}
	names := needs("B4")
	d, mnt, err := b.mountCkptfs(true, "")
	if err != nil {
		return nil, err
	}
	var paths, shards, splicePaths []string
	for i, n := range names {
		paths = append(paths, filepath.Join(mnt, n, bin), filepath.Join(mnt, n, st))
		shards = append(shards, shard(filepath.Join(b.store, "google", n)))
		f := fmt.Sprintf("f%d", i)
		splicePaths = append(splicePaths, f, f)
	}
	got, err := readAllConcurrently(paths)
	b.stop(d)
	if err != nil {
		return nil, err
	}
	d, smnt, err := b.mountSplice(true, shards...)
	if err != nil {
		return nil, err
	}
	for i := range splicePaths {
		splicePaths[i] = filepath.Join(smnt, splicePaths[i])
	}
	base, err := readAllConcurrently(splicePaths)
	b.stop(d)
	if err != nil {
		return nil, err
	}
	r := got.gbps() / base.gbps()
	return []row{{"B4", fmt.Sprintf("8 cold readers over 4 BERT-base (.bin + .safetensors each): %s aggregate", gb(got)),
		"8 readers over 4 splice files " + gb(base), fmt.Sprintf("%.2f", r), "≥ 0.9", yesNo(r >= 0.9)}}, nil
}

// B5: open + first and last 4 KiB of each virtual file, cold, for three
// model sizes.
func (b *bench) b5() ([]row, error) {
	if err := b.models("B5"); err != nil {
		return nil, err
	}
	d, mnt, err := b.mountCkptfs(true, "")
	if err != nil {
		return nil, err
	}
	defer b.stop(d)
	figure, worst := "", time.Duration(0)
	for _, m := range []struct{ name, label string }{{"uncased_base_0", "440 MB"}, {"uncased_large", "1.3 GB"}, {"uncased_10g", "10 GB"}} {
		var took [2]time.Duration
		for i, f := range []string{bin, st} {
			if took[i], err = openEnds(filepath.Join(mnt, m.name, f)); err != nil {
				return nil, err
			}
			worst = max(worst, took[i])
		}
		figure += fmt.Sprintf("%s: .bin %s, .safetensors %s; ", m.label, ms(took[0]), ms(took[1]))
	}
	return []row{{"B5", "cold open + first + last 4 KiB: " + figure[:len(figure)-2], "—", "—", "≤ 50 ms each, flat",
		yesNo(worst <= 50*time.Millisecond)}}, nil
}

// B6: torch.load(mmap) touching every tensor and from_pretrained through
// the mount against a local copy of the same bytes, cold and warm.
func (b *bench) b6() ([]row, error) {
	if !hasPython(b.venv) {
		return []row{{"B6", "not run: no Python venv at " + b.venv + " (make test creates it)", "", "", "≤ 1.3 cold, ≤ 1.1 warm", "not run"}}, nil
	}
	if err := b.models("B6"); err != nil {
		return nil, err
	}
	const m = "uncased_base_0"
	local := filepath.Join(b.work, "local", m)
	d, mnt, err := b.mountCkptfs(false, "")
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"config.json", bin, st} {
		if err := copyFile(filepath.Join(mnt, m, f), filepath.Join(local, f)); err != nil {
			b.stop(d)
			return nil, err
		}
	}
	b.stop(d)
	// times[place][op][cold, warm]
	var times [2][2][2]time.Duration
	for op, name := range []string{"load", "pretrained"} {
		for place := range 2 {
			folder := local
			if place == 0 {
				if d, mnt, err = b.mountCkptfs(true, ""); err != nil {
					return nil, err
				}
				folder = filepath.Join(mnt, m)
			} else if err := dropCaches(); err != nil {
				return nil, err
			}
			for run := range 2 {
				if times[place][op][run], err = timedLoad(b.venv, name, folder); err != nil {
					break
				}
			}
			if place == 0 {
				b.stop(d)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	ratio := func(op, run int) float64 { return times[0][op][run].Seconds() / times[1][op][run].Seconds() }
	s := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	met := ratio(0, 0) <= 1.3 && ratio(1, 0) <= 1.3 && ratio(0, 1) <= 1.1 && ratio(1, 1) <= 1.1
	return []row{{"B6",
		fmt.Sprintf("BERT-base through the mount: torch.load(mmap) cold %s warm %s; from_pretrained cold %s warm %s",
			s(times[0][0][0]), s(times[0][0][1]), s(times[0][1][0]), s(times[0][1][1])),
		fmt.Sprintf("local copy: torch.load cold %s warm %s; from_pretrained cold %s warm %s",
			s(times[1][0][0]), s(times[1][0][1]), s(times[1][1][0]), s(times[1][1][1])),
		fmt.Sprintf("cold %.2f/%.2f, warm %.2f/%.2f", ratio(0, 0), ratio(1, 0), ratio(0, 1), ratio(1, 1)),
		"≤ 1.3 cold, ≤ 1.1 warm", yesNo(met)}}, nil
}

// B7: time to a loaded model: transformers 4.x conversion, then
// from_pretrained of its output, against mounting ckptfs and
// from_pretrained through it. Both start with a cold page cache.
func (b *bench) b7() ([]row, error) {
	switch {
	case b.fixturesVenv == "" || !hasPython(b.fixturesVenv):
		return []row{{"B7", "not run: CKPTFS_FIXTURES_VENV does not name a venv with TensorFlow and transformers 4.x (e.g. tools/fixtures/.venv)", "", "", "≥ 10× faster", "not run"}}, nil
	case !hasPython(b.venv):
		return []row{{"B7", "not run: no Python venv at " + b.venv, "", "", "≥ 10× faster", "not run"}}, nil
	}
	if err := b.models("B7"); err != nil {
		return nil, err
	}
	const m = "uncased_base_0"
	out := filepath.Join(b.work, "converted", m)
	if err := dropCaches(); err != nil {
		return nil, err
	}
	began := time.Now()
	if _, err := python(b.fixturesVenv, convertScript, filepath.Join(b.store, "google", m), out); err != nil {
		return nil, err
	}
	converted := time.Since(began)
	if _, err := python(b.venv, loadScript, "pretrained", out); err != nil {
		return nil, err
	}
	baseline := time.Since(began)

	if err := dropCaches(); err != nil {
		return nil, err
	}
	began = time.Now()
	d, mnt, err := b.mountCkptfs(false, "")
	if err != nil {
		return nil, err
	}
	_, err = python(b.venv, loadScript, "pretrained", filepath.Join(mnt, m))
	ours := time.Since(began)
	b.stop(d)
	if err != nil {
		return nil, err
	}
	r := baseline.Seconds() / ours.Seconds()
	return []row{{"B7", fmt.Sprintf("BERT-base, cold: mount + from_pretrained %.1f s", ours.Seconds()),
		fmt.Sprintf("transformers 4.x conversion %.1f s + from_pretrained = %.1f s", converted.Seconds(), baseline.Seconds()),
		fmt.Sprintf("%.2f×", r), "≥ 10× faster", yesNo(r >= 10)}}, nil
}

// B8: peak RSS of the daemon streaming the 10 GB model with a 256 MiB cache.
func (b *bench) b8() ([]row, error) {
	if err := b.models("B8"); err != nil {
		return nil, err
	}
	d, mnt, err := b.mountCkptfs(true, "256MiB")
	if err != nil {
		return nil, err
	}
	defer b.stop(d)
	t, err := b.profiled(d, "B8", 10, func() (throughput, error) { return readAll(filepath.Join(mnt, "uncased_10g", bin)) })
	if err != nil {
		return nil, err
	}
	rss, err := d.peakRSS()
	if err != nil {
		return nil, err
	}
	limit := int64(256<<20) + 150e6
	return []row{{"B8", fmt.Sprintf("peak RSS streaming the 10 GB .bin (%s) with --cache-size 256MiB: %d MB", gb(t), rss/1e6),
		"—", "—", fmt.Sprintf("≤ %d MB", limit/1e6), yesNo(rss <= limit)}}, nil
}

// B9: the transpose conversion against memcpy of the same bytes.
func (b *bench) b9() ([]row, error) {
	const rows, cols = 4096, 4096 // 64 MiB of float32: beyond every cache
	src := newPool(rows * cols * 4)
	dst := make([]byte, len(src))
	best := func(f func()) time.Duration {
		var m time.Duration
		for i := range 6 {
			began := time.Now()
			f()
			if d := time.Since(began); i > 0 && (m == 0 || d < m) {
				m = d // the first run only warms up
			}
		}
		return m
	}
	tr := best(func() { transform.TransposeRows(dst, src, rows, cols, 0, cols, 4) })
	cp := best(func() { copy(dst, src) })
	gbs := func(d time.Duration) float64 { return float64(len(src)) / d.Seconds() / 1e9 }
	r := gbs(tr) / gbs(cp)
	return []row{{"B9", fmt.Sprintf("transpose of a 4096x4096 float32 matrix: %.2f GB/s", gbs(tr)),
		fmt.Sprintf("memcpy %.2f GB/s", gbs(cp)), fmt.Sprintf("%.2f", r), "≥ 0.5", yesNo(r >= 0.5)}}, nil
}

// B10: a store of 2,000 model folders: time to mount, ls -R, one stat.
func (b *bench) b10() ([]row, error) {
	store := filepath.Join(b.work, "many")
	one, err := writeManyModels(store, 2000)
	if err != nil {
		return nil, err
	}
	mnt := filepath.Join(b.work, "mnt-many")
	d, ready, err := startCkptfs(b.bin, store, mnt, "", b.logPath)
	if err != nil {
		return nil, err
	}
	b.track(d)
	defer b.stop(d)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ls := exec.CommandContext(ctx, "ls", "-R", mnt)
	ls.Stdout = io.Discard
	began := time.Now()
	if err := ls.Run(); err != nil {
		return nil, fmt.Errorf("ls -R: %w", err)
	}
	lsTook := time.Since(began)
	began = time.Now()
	if _, err := os.Stat(filepath.Join(mnt, one, bin)); err != nil {
		return nil, err
	}
	statTook := time.Since(began)
	met := ready <= time.Second && lsTook <= 3*time.Second && statTook <= 50*time.Millisecond
	return []row{{"B10", fmt.Sprintf("2,000 model folders: mount ready %s, ls -R %s, stat %s", ms(ready), ms(lsTook), ms(statTook)),
		"—", "—", "ready ≤ 1 s, ls -R ≤ 3 s, stat ≤ 50 ms", yesNo(met)}}, nil
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
