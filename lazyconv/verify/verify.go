// Package verify is the health check behind `ckptfs verify`: it produces
// every byte of every generated file of every model under a path through
// the same plans and readers the mount serves them with, so every tensor's
// checksum is checked, and checks each plan's mapping for consistency.
package verify

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/ckptfs/ckptfs/cache"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/model"
	"github.com/ckptfs/ckptfs/lazyconv/plancheck"
	"github.com/ckptfs/ckptfs/lazyconv/tensor"
)

// Problem is one thing wrong with a file (or a model folder, when the model
// cannot be converted at all). Err names the source file and tensor.
type Problem struct {
	File string
	Err  error
}

func (p Problem) String() string { return p.File + ": " + p.Err.Error() }

// Report is the outcome of a check.
type Report struct {
	Models   int // model folders found
	Files    int // generated files produced
	Tensors  int // distinct source tensors read (and checksummed)
	Problems []Problem
}

// readPiece bounds the memory one read takes.
const readPiece = 4 << 20

// cacheBytes bounds converted chunks held while checking one model.
const cacheBytes = 64 << 20

// Path checks the model folder or store at path: every folder under it
// (path included) that holds a supported model.
func Path(path string) *Report {
	r := &Report{}
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			r.Problems = append(r.Problems, Problem{File: p, Err: err})
			return nil
		}
		if d.IsDir() {
			r.checkDir(p)
		}
		return nil
	})
	if err != nil {
		r.Problems = append(r.Problems, Problem{File: path, Err: err})
	}
	return r
}

// checkDir checks dir if it holds a model.
func (r *Report) checkDir(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.Problems = append(r.Problems, Problem{File: dir, Err: err})
		return
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	family, ok := model.Detect(names)
	if !ok {
		return
	}
	r.Models++
	m, err := model.Load(dir, family)
	if err != nil {
		r.Problems = append(r.Problems, Problem{File: dir, Err: err})
		return
	}
	chunks, err := cache.New(cacheBytes)
	if err != nil {
		r.Problems = append(r.Problems, Problem{File: dir, Err: err})
		return
	}
	defer chunks.Close()
	sources := index.NewSources()
	defer sources.Close()
	seen := map[string]bool{} // problems already reported for this model
	read := map[*tensor.Source]bool{}
	files := make([]string, 0, len(m.Files))
	for name := range m.Files {
		files = append(files, name)
	}
	slices.Sort(files)
	for _, name := range files {
		r.Files++
		f := m.Files[name]
		if f.Plan == nil {
			continue
		}
		path := filepath.Join(dir, name)
		report := func(err error) {
			if !seen[err.Error()] {
				seen[err.Error()] = true
				r.Problems = append(r.Problems, Problem{File: path, Err: err})
			}
		}
		if err := plancheck.Check(f.Plan); err != nil {
			report(err)
			continue
		}
		reader := index.NewReader(m.Identity, f.Plan, chunks, sources)
		for _, run := range f.Plan.Runs {
			if run.Kind == index.Literal {
				continue
			}
			if err := readRun(reader, run); err != nil {
				report(err)
			}
			src := f.Plan.Tensors[run.Tensor].Src
			for src.Parent != nil {
				src = src.Parent
			}
			read[src] = true
		}
	}
	r.Tensors += len(read)
}

// readRun produces a run's bytes in bounded pieces.
func readRun(reader *index.Reader, run index.Run) error {
	buf := make([]byte, min(readPiece, run.Len))
	for off := run.Off; off < run.Off+run.Len; {
		n := min(int64(len(buf)), run.Off+run.Len-off)
		got, err := reader.ReadAt(buf[:n], off)
		if err != nil {
			return err
		}
		if int64(got) != n {
			return fmt.Errorf("short read at %d: %d of %d bytes: %w", off, got, n, io.ErrUnexpectedEOF)
		}
		off += n
	}
	return nil
}

// ErrProblems is returned by the command when a check found problems.
var ErrProblems = errors.New("problems found")

// Print writes one "PROBLEM <file>: <error>" line per problem, then a
// summary line.
func (r *Report) Print(w io.Writer) {
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM %s\n", p)
	}
	fmt.Fprintf(w, "%d models, %d files, %d tensors checked, %d problems\n", r.Models, r.Files, r.Tensors, len(r.Problems))
}
