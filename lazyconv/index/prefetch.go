package index

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// A reader reading a file from start to end (a loader, cp) would wait for
// every conversion and every source read in turn. Once its reads are seen to
// be sequential, the chunks and source bytes of the next prefetchWindow
// bytes are prepared in the background, a bounded number at a time.
const prefetchWindow = 32 << 20

// prefetchSlots bounds background work across all readers of the process:
// conversions are CPU-bound, and the machine may have two cores.
var prefetchSlots = make(chan struct{}, 2)

// sequentialSlack is how far a read may start from where the previous one
// ended and still count as sequential: the kernel's readahead requests
// arrive slightly out of order.
const sequentialSlack = 4 << 20

// readAhead is a Reader's view of its readers' pattern.
type readAhead struct {
	end     atomic.Int64 // where the last read ended
	upTo    atomic.Int64 // end of what has been prefetched
	started atomic.Bool  // a read happened (a first read at 0 is sequential)
	running sync.WaitGroup
}

// afterRead notes a read of [off, end) and, when it continues the previous
// one, starts preparing what comes next.
func (r *Reader) afterRead(off, end int64) {
	prev := r.ahead.end.Swap(end)
	first := !r.ahead.started.Swap(true)
	if !first && (off < prev-sequentialSlack || off > prev+sequentialSlack) {
		return // a random reader: prefetching would convert what nobody reads
	}
	from := max(end, r.ahead.upTo.Load())
	to := min(end+r.sizes.window, r.plan.Size)
	if to-from < r.sizes.window/4 {
		return // mostly prepared already; wait for a bigger step
	}
	select {
	case prefetchSlots <- struct{}{}:
	default:
		return // busy: the reader's own reads come first
	}
	r.ahead.upTo.Store(to)
	r.ahead.running.Add(1)
	go func() {
		defer r.ahead.running.Done()
		defer func() { <-prefetchSlots }()
		r.prepare(from, to)
	}()
}

// prepare converts the chunks and asks the kernel to read the source bytes
// of [from, to). Errors are left for the read that needs the bytes.
func (r *Reader) prepare(from, to int64) {
	for i := r.plan.Find(from); i >= 0 && i < len(r.plan.Runs) && r.plan.Runs[i].Off < to; i++ {
		run := &r.plan.Runs[i]
		a := max(from, run.Off) - run.Off + run.TensorOff
		b := min(to, run.Off+run.Len) - run.Off + run.TensorOff
		t := r.plan.Tensors[run.Tensor]
		switch run.Kind {
		case Converted:
			rowBytes, rowsPerChunk := r.chunking(t)
			chunkBytes := rowBytes * rowsPerChunk
			for c := a / chunkBytes; c*chunkBytes < b; c++ {
				if _, err := r.chunk(t, c); err != nil {
					return
				}
			}
		case Source:
			r.sources.willNeed(t.Src, a, b)
		}
	}
}

// chunk returns converted chunk c of tensor t, from the cache or converted
// once however many readers ask.
func (r *Reader) chunk(t *tensor.Tensor, c int64) ([]byte, error) {
	_, rowsPerChunk := r.chunking(t)
	if c < 0 || c*rowsPerChunk >= outputRows(t) {
		return nil, fmt.Errorf("tensor %s: chunk %d out of range", t.Name, c)
	}
	key := r.id + "\x00" + t.Name + "\x00" + strconv.FormatInt(c, 10)
	return r.chunks.Get(key, func() ([]byte, error) {
		return r.convert(t, c*rowsPerChunk, min((c+1)*rowsPerChunk, outputRows(t)))
	})
}

// willNeed tells the kernel that bytes [a, b) of the source tensor will be
// read soon, so it reads them from disk in the background.
func (s *Sources) willNeed(src *tensor.Source, a, b int64) {
	for _, e := range src.Extents {
		if a >= e.Length {
			a -= e.Length
			b -= e.Length
			continue
		}
		if b <= 0 {
			return
		}
		f, err := s.file(e.Path)
		if err != nil {
			return
		}
		end := min(b, e.Length)
		unix.Fadvise(int(f.Fd()), e.Offset+a, end-a, unix.FADV_WILLNEED)
		a, b = 0, b-e.Length
	}
}
