package fusefs

import (
	"log"
	"strings"
	"sync"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/conversion"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/model"
)

// models loads each model folder once, on first use, and keeps what its
// virtual files are served from.
type models struct {
	chunks *cache.Chunks
	logger *log.Logger
	// precheck, if set, vets a folder before it is loaded; its error is
	// the model's.
	precheck func(dir string) error

	mu    sync.Mutex
	byDir map[string]*loadedModel
}

// loadedModel is a model folder as served: its plans and readers, or the
// error that makes its virtual files unreadable.
type loadedModel struct {
	once    sync.Once
	model   *model.Model
	readers map[string]*index.Reader
	sources *index.Sources
	err     error

	logMu  sync.Mutex
	logged map[string]bool
}

func newModels(chunks *cache.Chunks, logger *log.Logger) *models {
	return &models{chunks: chunks, logger: logger, byDir: map[string]*loadedModel{}}
}

// get returns the model folder dir, loading it the first time.
func (ms *models) get(dir string, family *conversion.Family) *loadedModel {
	ms.mu.Lock()
	lm, ok := ms.byDir[dir]
	if !ok {
		lm = &loadedModel{logged: map[string]bool{}}
		ms.byDir[dir] = lm
	}
	ms.mu.Unlock()
	lm.once.Do(func() {
		if ms.precheck != nil {
			lm.err = ms.precheck(dir)
		}
		if lm.err == nil {
			lm.model, lm.err = model.Load(dir, family)
		}
		if lm.err != nil {
			lm.logOnce(ms.logger, lm.err)
			return
		}
		if unused := lm.model.Conv.Unused; len(unused) > 0 {
			names := make([]string, len(unused))
			for i, u := range unused {
				names[i] = u.Name
			}
			ms.logger.Printf("%s: %d variables not used by the model (see ckptfs inspect): %s", dir, len(unused), strings.Join(names, ", "))
		}
		lm.sources = index.NewSources()
		lm.readers = map[string]*index.Reader{}
		for name, f := range lm.model.Files {
			if f.Plan != nil {
				lm.readers[name] = index.NewReader(lm.model.Identity, f.Plan, ms.chunks, lm.sources)
			}
		}
	})
	return lm
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
	for _, lm := range ms.byDir {
		if lm.sources != nil {
			lm.sources.Close()
		}
	}
}
