package tfbundle

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
)

// stateFile is the text file in which TensorFlow's savers name the latest
// checkpoint of a directory.
const stateFile = "checkpoint"

// FindPrefix picks the checkpoint to serve from dir: the one the
// `checkpoint` state file names if its index is present, else the newest of
// the `*.index` files present (see ListPrefixes).
func FindPrefix(dir string) (string, error) {
	if p := prefixFromState(dir); p != "" {
		return p, nil
	}
	prefixes, err := ListPrefixes(dir)
	if err != nil {
		return "", err
	}
	if len(prefixes) > 0 {
		return prefixes[len(prefixes)-1], nil
	}
	if v1 := findV1InDir(dir); v1 != "" {
		return "", v1Error(v1)
	}
	return "", fmt.Errorf("no TensorFlow checkpoint in %s: no *.index file", dir)
}

// prefixFromState returns the prefix the state file names if its index
// exists, and "" otherwise. The file is only a hint (released checkpoints
// often carry paths from the publisher's machine), so any problem with it
// just means falling back to the indexes present.
func prefixFromState(dir string) string {
	text, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return ""
	}
	var state pb.CheckpointState
	// Newer TensorFlow versions may add fields.
	if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(text, &state); err != nil {
		return ""
	}
	named := state.ModelCheckpointPath
	if named == "" {
		return ""
	}
	candidates := []string{named}
	if !filepath.IsAbs(named) {
		candidates[0] = filepath.Join(dir, named)
	}
	// The name may be a foreign path (another machine, gs://, Windows).
	if base := named[strings.LastIndexAny(named, `/\`)+1:]; base != "" && base != "." && base != ".." {
		candidates = append(candidates, filepath.Join(dir, base))
	}
	for _, p := range candidates {
		if isRegularFile(p + ".index") {
			return p
		}
	}
	return ""
}

// ListPrefixes returns the prefixes (dir joined with the name before
// ".index") of the checkpoints in dir, oldest first: ordered by the training
// step in a trailing "-N" (no step before any step), then by name. A missing
// directory is an error; a directory without checkpoints is not.
func ListPrefixes(dir string) ([]string, error) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var prefixes []string
	for _, n := range names {
		base, ok := strings.CutSuffix(n.Name(), ".index")
		if ok && base != "" && isRegularFile(filepath.Join(dir, n.Name())) {
			prefixes = append(prefixes, base)
		}
	}
	slices.SortFunc(prefixes, compareCheckpointNames)
	for i, p := range prefixes {
		prefixes[i] = filepath.Join(dir, p)
	}
	return prefixes, nil
}

var trailingStep = regexp.MustCompile(`-([0-9]+)$`)

// compareCheckpointNames orders "model.ckpt" < "model.ckpt-2" <
// "model.ckpt-10" < "a.ckpt-11": by step (compared as an arbitrarily large
// number), then by name.
func compareCheckpointNames(a, b string) int {
	sa, sb := stepOf(a), stepOf(b)
	switch {
	case sa == "" && sb != "":
		return -1
	case sa != "" && sb == "":
		return 1
	}
	if len(sa) != len(sb) {
		return len(sa) - len(sb)
	}
	if c := strings.Compare(sa, sb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// stepOf returns the digits of a trailing "-N" without leading zeros ("0"
// for a zero step), or "" if there is none.
func stepOf(name string) string {
	m := trailingStep.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	if s := strings.TrimLeft(m[1], "0"); s != "" {
		return s
	}
	return "0"
}

func isRegularFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// OpenDir opens the checkpoint a folder holds: the one its `checkpoint`
// file names, else the latest step present (see FindPrefix).
func OpenDir(dir string) (*Checkpoint, error) {
	prefix, err := FindPrefix(dir)
	if err != nil {
		return nil, err
	}
	return Open(prefix)
}

// v1Name matches the file names TF1's V1 saver wrote: PREFIX.ckpt,
// PREFIX.ckpt-STEP, and their -NNNNN-of-NNNNN shards.
var v1Name = regexp.MustCompile(`\.ckpt(-[0-9]+)?(-[0-9]{5}-of-[0-9]{5})?$`)

// BesideConfig reports whether a folder's file names show a release made
// of the named config file next to a TensorFlow checkpoint: how the
// families whose releases are such folders recognise them, by name only.
// A V1 checkpoint counts, so that the folder is shown as a model whose
// files fail with the clear "unsupported: TensorFlow V1" error instead of
// as a plain folder.
func BesideConfig(names []string, config string) bool {
	var hasConfig, hasCheckpoint bool
	for _, n := range names {
		hasConfig = hasConfig || n == config
		hasCheckpoint = hasCheckpoint || strings.HasSuffix(n, ".index") || v1Name.MatchString(n)
	}
	return hasConfig && hasCheckpoint
}
