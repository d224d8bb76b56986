package fusefs

import (
	"fmt"
	"log"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// models keeps, for each model folder, the version of it that new lookups
// and opens are served: loaded on first use, and loaded again when a
// recheck (at most every recheck interval) finds the folder's state
// changed.
type models struct {
	chunks  *cache.Chunks
	logger  *log.Logger
	opener  index.Opener
	recheck time.Duration
	// precheck, if set, vets a folder before it is loaded; its error is
	// the model's.
	precheck func(dir string) error
	// contain, if set, vets the files a loaded model reads (a checkpoint
	// state file may name a prefix anywhere); its error is the model's.
	contain func(paths []string) error

	mu    sync.Mutex
	byDir map[string]*folder
}

// folder is one model folder's current version and when it was checked.
type folder struct {
	mu      sync.Mutex // one check or load at a time
	current *loadedModel
	checked time.Time
}

// loadedModel is one version of a model folder as served: its plans and
// readers, or the error that makes its virtual files unreadable. Open files
// keep their version alive after a newer one replaced it.
type loadedModel struct {
	family  *conversion.Family
	model   *model.Model
	readers map[string]*index.Reader
	sources *index.Sources
	paths   []string // the source files, pinned on open
	err     error
	state   folderState
	gen     uint64    // reloads of the same state before this one
	owner   ownership // of the generated files, derived from state
	outside []string  // source files outside the folder, part of its state

	logMu  sync.Mutex
	logged map[string]bool

	refMu    sync.Mutex
	opens    int
	outdated bool
}

func newModels(chunks *cache.Chunks, logger *log.Logger, opener index.Opener, recheck time.Duration) *models {
	return &models{chunks: chunks, logger: logger, opener: opener, recheck: recheck, byDir: map[string]*folder{}}
}

// get returns the current version of the model folder dir, checking the
// folder's state if the last check is older than the recheck interval.
func (ms *models) get(dir string, family *conversion.Family) *loadedModel {
	ms.mu.Lock()
	f, ok := ms.byDir[dir]
	if !ok {
		f = &folder{}
		ms.byDir[dir] = f
	}
	ms.mu.Unlock()

	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	cur := f.current
	if cur != nil && cur.family == family {
		if now.Sub(f.checked) < ms.recheck {
			return cur
		}
		// A load that failed on a transient fault (the file server timed
		// out) is tried again even if no file changed.
		retry := cur.err != nil && index.Transient(cur.err)
		if st, err := readFolderState(dir, cur.outside); err == nil && st.hash == cur.state.hash && !retry {
			f.checked = now
			return cur
		}
	}
	lm := ms.load(dir, family)
	f.current, f.checked = lm, time.Now()
	if cur != nil {
		if lm.state.hash == cur.state.hash {
			// Reloaded without a change (a retry after a transient
			// fault): the new version still needs inode numbers of its
			// own, or the kernel would keep the retired one's nodes.
			lm.gen = cur.gen + 1
		} else {
			ms.logger.Printf("%s changed: serving a new version to new opens", dir)
		}
		cur.retire()
	}
	return lm
}

// recheckSoon makes the next get of dir check its state whatever the
// interval: an open found a source file changed.
func (ms *models) recheckSoon(dir string) {
	ms.mu.Lock()
	f := ms.byDir[dir]
	ms.mu.Unlock()
	if f != nil {
		f.mu.Lock()
		f.checked = time.Time{}
		f.mu.Unlock()
	}
}

// load reads one version of the folder. If the folder changed while it was
// being read (a checkpoint half written), it is read again, a few times.
func (ms *models) load(dir string, family *conversion.Family) *loadedModel {
	var lm *loadedModel
	for attempt := 0; attempt < 3; attempt++ {
		before, _ := readFolderState(dir, nil)
		lm = &loadedModel{family: family, logged: map[string]bool{}}
		if ms.precheck != nil {
			lm.err = ms.precheck(dir)
		}
		if lm.err == nil {
			lm.model, lm.err = model.Load(dir, family)
		}
		if lm.err == nil {
			lm.paths, lm.outside = sourcePaths(dir, lm.model)
			if ms.contain != nil {
				lm.err = ms.contain(lm.outside)
			}
		}
		lm.state, _ = readFolderState(dir, lm.outside)
		if sameInside(dir, before, lm.state) {
			break
		}
	}
	lm.owner = lm.state.ownership()
	if lm.err != nil {
		lm.logOnce(ms.logger, lm.err)
		return lm
	}
	if unused := lm.model.Conv.Unused; len(unused) > 0 {
		names := make([]string, len(unused))
		for i, u := range unused {
			names[i] = u.Name
		}
		ms.logger.Printf("%s: %d variables not used by the model (see ckptfs inspect): %s", dir, len(unused), strings.Join(names, ", "))
	}
	// Chunks are cached under the version, so no chunk converted from an
	// older version of the sources is ever served for this one.
	id := fmt.Sprintf("%s@%016x", dir, lm.state.hash)
	lm.sources = index.NewSourcesFrom(ms.opener, lm.state.subset(lm.paths))
	lm.readers = map[string]*index.Reader{}
	for name, f := range lm.model.Files {
		if f.Plan != nil {
			lm.readers[name] = index.NewReader(id, f.Plan, ms.chunks, lm.sources)
		}
	}
	return lm
}

// sourcePaths lists the files the model's tensors are read from, and those
// of them outside dir.
func sourcePaths(dir string, m *model.Model) (all, outside []string) {
	for _, p := range m.SourceFiles {
		if filepath.Dir(p) != dir {
			outside = append(outside, p)
		}
	}
	return m.SourceFiles, outside
}

// acquire counts an open file of this version; it fails once the version
// is outdated, since new opens must see the newer one.
func (lm *loadedModel) acquire() bool {
	lm.refMu.Lock()
	defer lm.refMu.Unlock()
	if lm.outdated {
		return false
	}
	lm.opens++
	return true
}

// release ends an open file; the last one of an outdated version closes
// its source files.
func (lm *loadedModel) release() {
	lm.refMu.Lock()
	defer lm.refMu.Unlock()
	lm.opens--
	if lm.outdated && lm.opens == 0 {
		lm.closeSources()
	}
}

// retire marks the version outdated; its sources stay open while files
// opened on it are.
func (lm *loadedModel) retire() {
	lm.refMu.Lock()
	defer lm.refMu.Unlock()
	lm.outdated = true
	if lm.opens == 0 {
		lm.closeSources()
	}
}

func (lm *loadedModel) closeSources() {
	if lm.sources != nil {
		lm.sources.Close()
	}
}

// logOnce logs each distinct error of a model once, so a loader retrying a
// bad tensor does not flood the log.
func (lm *loadedModel) logOnce(logger *log.Logger, err error) {
	msg := err.Error()
	lm.logMu.Lock()
	defer lm.logMu.Unlock()
	if lm.logged[msg] {
		return
	}
	lm.logged[msg] = true
	logger.Print(msg)
}

func (ms *models) close() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, f := range ms.byDir {
		f.mu.Lock()
		if f.current != nil {
			f.current.closeSources()
		}
		f.mu.Unlock()
	}
}
