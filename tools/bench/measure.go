package main

import (
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

const readSize = 1 << 20

// throughput is bytes over a duration, in GB/s.
type throughput struct {
	bytes int64
	took  time.Duration
}

func (t throughput) gbps() float64 { return float64(t.bytes) / t.took.Seconds() / 1e9 }

// readAll reads path from start to end in 1 MiB reads.
func readAll(path string) (throughput, error) {
	f, err := os.Open(path)
	if err != nil {
		return throughput{}, err
	}
	defer f.Close()
	buf := make([]byte, readSize)
	began := time.Now()
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return throughput{}, err
		}
	}
	return throughput{n, time.Since(began)}, nil
}

// readAllConcurrently reads every path at once, one reader each; the
// figure is total bytes over wall time.
func readAllConcurrently(paths []string) (throughput, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		first error
	)
	began := time.Now()
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := readAll(p)
			mu.Lock()
			defer mu.Unlock()
			total += t.bytes
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return throughput{total, time.Since(began)}, first
}

// request is one read of a random-access pattern, placed as a fraction of
// the file so one pattern fits files of slightly different sizes.
type request struct {
	at   float64
	size int
}

// randomPattern is what an mmap loader's page faults look like to the file
// system: reads of 4 KiB to 1 MiB at scattered offsets.
func randomPattern(count int) []request {
	r := rand.New(rand.NewPCG(7, 11))
	reqs := make([]request, count)
	for i := range reqs {
		reqs[i] = request{at: r.Float64(), size: 4096 * (1 + r.IntN(256))}
	}
	return reqs
}

func readPattern(path string, reqs []request) (throughput, error) {
	f, err := os.Open(path)
	if err != nil {
		return throughput{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return throughput{}, err
	}
	buf := make([]byte, 1<<20)
	began := time.Now()
	var n int64
	for _, q := range reqs {
		off := int64(q.at*float64(st.Size()-int64(q.size))) &^ 4095
		k, err := f.ReadAt(buf[:q.size], off)
		if err != nil && err != io.EOF {
			return throughput{}, err
		}
		n += int64(k)
	}
	return throughput{n, time.Since(began)}, nil
}

// openEnds opens path and reads its first and last 4 KiB.
func openEnds(path string) (time.Duration, error) {
	began := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return 0, err
	}
	if _, err := f.ReadAt(buf, max(0, st.Size()-4096)); err != nil && err != io.EOF {
		return 0, err
	}
	return time.Since(began), nil
}
