package index

import (
	"fmt"
	"os"
	"strconv"
	"sync"

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

// sequentialSlack is how far before a stream's end a read may start and
// still continue it: the kernel's readahead requests arrive slightly out of
// order. Forward, a read continues a stream up to a prefetch window past its
// end: mmap loaders fault in the first pages of tensor after tensor,
// skipping the rest of each.
const sequentialSlack = 4 << 20

// maxStreams is how many sequential readers of one file are told apart
// (several processes, or a loader's threads each reading its own tensors).
const maxStreams = 8

// streamHits is how many reads in a row a stream needs before it is
// prepared ahead (one starting at the beginning of the file is trusted at
// once): a random reader's read lands near an earlier one now and then, but
// seldom twice in a row.
const streamHits = 2

// readAhead is a Reader's view of its readers' patterns: the streams of
// sequential reads it has seen, least recently used replaced first.
type readAhead struct {
	mu      sync.Mutex
	streams []stream
	clock   uint64
	running sync.WaitGroup
}

type stream struct {
	end  int64  // where its last read ended
	upTo int64  // end of what has been prepared for it
	hits int    // reads that continued it
	used uint64 // readAhead.clock at its last read
}

// afterRead notes a read of [off, end) and, when it continues a stream of
// reads (or starts one at the beginning of the file), starts preparing what
// comes next.
func (r *Reader) afterRead(off, end int64) {
	from, to, ok := r.ahead.next(off, end, r.sizes, r.plan.Size)
	if !ok {
		return
	}
	r.ahead.running.Add(1)
	go func() {
		defer r.ahead.running.Done()
		defer func() { <-prefetchSlots }()
		r.prepare(from, to)
	}()
}

// next records the read and says what to prepare; when ok, a prefetch slot
// has been taken for it.
func (a *readAhead) next(off, end int64, sz sizes, size int64) (from, to int64, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clock++
	var s *stream
	for i := range a.streams {
		e := a.streams[i].end
		if off < e-sz.slack || off > e+max(sz.slack, sz.window) {
			continue
		}
		if s == nil || abs(off-e) < abs(off-s.end) {
			s = &a.streams[i] // the stream the read is closest to
		}
	}
	if s == nil {
		if len(a.streams) < maxStreams {
			a.streams = append(a.streams, stream{})
			s = &a.streams[len(a.streams)-1]
		} else {
			s = &a.streams[0]
			for i := range a.streams {
				if a.streams[i].used < s.used {
					s = &a.streams[i]
				}
			}
		}
		*s = stream{end: end, upTo: end, used: a.clock}
		if off != 0 {
			return 0, 0, false // one read elsewhere is not yet a stream
		}
		s.hits = streamHits
	}
	s.used = a.clock
	s.end = max(s.end, end)
	if s.hits++; s.hits < streamHits {
		return 0, 0, false
	}
	from = max(s.end, s.upTo)
	to = min(s.end+sz.window, size)
	if to-from < sz.window/4 {
		return 0, 0, false // mostly prepared already; wait for a bigger step
	}
	select {
	case prefetchSlots <- struct{}{}:
	default:
		return 0, 0, false // busy: the readers' own requests come first
	}
	s.upTo = to
	return from, to, true
}

// prepare converts the chunks and asks the kernel to read the source bytes
// of [from, to). Errors are left for the read that needs the bytes.
func (r *Reader) prepare(from, to int64) {
	for i := r.plan.Find(from); i >= 0 && i < len(r.plan.Runs) && r.plan.Runs[i].Off < to; i++ {
		run := &r.plan.Runs[i]
		a := max(from, run.Off) - run.Off + run.TensorOff
		b := min(to, run.Off+run.Len) - run.Off + run.TensorOff
		if run.Kind == Literal {
			continue
		}
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
		sf, err := s.file(e.Path)
		if err != nil {
			return
		}
		end := min(b, e.Length)
		if f, ok := sf.f.(*os.File); ok {
			unix.Fadvise(int(f.Fd()), e.Offset+a, end-a, unix.FADV_WILLNEED)
		}
		a, b = 0, b-e.Length
	}
}

// streamCount is the number of streams being followed (for tests).
func (a *readAhead) streamCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.streams)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
