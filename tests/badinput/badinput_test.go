package badinput

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckptfs/ckptfs/lazyconv/bert"
	"github.com/ckptfs/ckptfs/lazyconv/index"
	"github.com/ckptfs/ckptfs/lazyconv/model"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/bundlewrite"
	"github.com/ckptfs/ckptfs/lazyconv/tfbundle/pb"
	"github.com/ckptfs/ckptfs/lazyconv/verify"
)

// Fixture folders the rows damage copies of.
const (
	bertFixture   = "google/uncased_L-2_H-32_A-4"
	gptFixture    = "openai-gpt/finetune-transformer-lm-tiny"
	xlmFixture    = "xlm/mlm_en-tiny"
	v1Fixture     = "../../lazyconv/tfbundle/testdata/tf/v1"
	bertIndex     = "bert_model.ckpt.index"
	bertShard     = "bert_model.ckpt.data-00000-of-00001"
	bertConfig    = "bert_config.json"
	wordEmbedding = "bert/embeddings/word_embeddings"
)

// row is one bad input: a fixture folder, the damage done to a copy of it,
// and what the log line (and ckptfs verify) must name.
type row struct {
	name    string
	fixture string
	damage  func(t *testing.T, dir string)
	// file and tensor must appear in one log line; tensor may be empty
	// when the damage is not about one tensor.
	file, tensor string
	// says is a further part of that line: the reason.
	says string
	// tensorOnly: only reads touching the tensor fail (a bad checksum is
	// found on read); otherwise the model cannot be loaded and every
	// generated file gives EIO.
	tensorOnly bool
}

func editEntry(name string, edit func(*pb.BundleEntryProto)) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := bundlewrite.EditEntry(filepath.Join(dir, bertIndex), name, edit); err != nil {
			t.Fatal(err)
		}
	}
}

// editRecords rewrites the index's records in a new order.
func editRecords(edit func([]bundlewrite.Record) []bundlewrite.Record) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		path := filepath.Join(dir, bertIndex)
		records, err := bundlewrite.ReadIndex(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := bundlewrite.WriteIndex(path, edit(records), bundlewrite.Layout{BlockEntries: 8}); err != nil {
			t.Fatal(err)
		}
	}
}

// editFile changes a file's bytes in place.
func editFile(name string, edit func(t *testing.T, data []byte) []byte) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, edit(t, data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func replaceOnce(old, new string) func(*testing.T, []byte) []byte {
	return func(t *testing.T, data []byte) []byte {
		t.Helper()
		if bytes.Count(data, []byte(old)) != 1 {
			t.Fatalf("%q is not in the file exactly once", old)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
}

// shardOffset is where tensor name's bytes start in the BERT fixture's shard.
func shardOffset(t *testing.T, dir, name string) int64 {
	t.Helper()
	records, err := bundlewrite.ReadIndex(filepath.Join(dir, bertIndex))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if string(r.Key) == name {
			e, err := bundlewrite.Entry(r)
			if err != nil {
				t.Fatal(err)
			}
			return e.Offset
		}
	}
	t.Fatalf("no tensor %s", name)
	return 0
}

var rows = []row{
	{name: "truncated_index", fixture: bertFixture, file: bertIndex, says: "not a TensorFlow table",
		damage: editFile(bertIndex, func(_ *testing.T, d []byte) []byte { return d[:len(d)/2] })},
	{name: "wrong_table_magic", fixture: bertFixture, file: bertIndex, says: "magic",
		damage: editFile(bertIndex, func(_ *testing.T, d []byte) []byte {
			copy(d[len(d)-8:], "notatbl!")
			return d
		})},
	{name: "block_crc_mismatch", fixture: bertFixture, file: bertIndex, says: "checksum",
		damage: editFile(bertIndex, func(_ *testing.T, d []byte) []byte {
			d[12] ^= 0x40
			return d
		})},
	{name: "unsorted_keys", fixture: bertFixture, file: bertIndex, says: "order",
		damage: editRecords(func(r []bundlewrite.Record) []bundlewrite.Record {
			r[3], r[4] = r[4], r[3]
			return r
		})},
	{name: "duplicate_keys", fixture: bertFixture, file: bertIndex, says: "duplicate key",
		damage: editRecords(func(r []bundlewrite.Record) []bundlewrite.Record {
			return slices.Insert(r, 4, r[3])
		})},
	{name: "entry_past_shard_end", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "past the end",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) { e.Offset = 85052 - 4 })},
	{name: "missing_shard", fixture: bertFixture, file: bertShard, says: "no such file",
		damage: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, bertShard)); err != nil {
				t.Fatal(err)
			}
		}},
	{name: "short_shard", fixture: bertFixture, file: bertShard, says: "past the end",
		damage: editFile(bertShard, func(_ *testing.T, d []byte) []byte { return d[:len(d)/2] })},
	{name: "tensor_crc_mismatch", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "checksum mismatch", tensorOnly: true,
		damage: func(t *testing.T, dir string) {
			off := shardOffset(t, dir, wordEmbedding)
			editFile(bertShard, func(_ *testing.T, d []byte) []byte {
				d[off+100] ^= 0x01
				return d
			})(t, dir)
		}},
	{name: "size_disagrees_with_shape", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "does not match",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) { e.Size -= 4 })},
	{name: "negative_dim", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "dimension 0 is -1",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) { e.Shape = bundlewrite.Shape(-1, 32) })},
	{name: "huge_shape", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "past the end",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) {
			// 10^18 elements, with a size that agrees: nothing may allocate it.
			e.Shape = bundlewrite.Shape(1_000_000_000, 1_000_000_000)
			e.Size = 4_000_000_000_000_000_000
		})},
	{name: "overflowing_dims", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "more than 2^63-1 elements",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) { e.Shape = bundlewrite.Shape(1<<40, 1<<40) })},
	{name: "unknown_dtype", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "unsupported",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) { e.Dtype = 999 })},
	{name: "string_tensor", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "unsupported: tensor",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) { e.Dtype = 7 })},
	{name: "sliced_variable", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "unsupported: partitioned",
		damage: editEntry(wordEmbedding, func(e *pb.BundleEntryProto) {
			e.Slices = []*pb.TensorSliceProto{{Extent: []*pb.TensorSliceProto_Extent{{}, {}}}}
		})},
	{name: "v1_checkpoint", fixture: bertFixture, file: "model.ckpt", says: "unsupported: TensorFlow V1 checkpoint",
		damage: func(t *testing.T, dir string) {
			for _, name := range []string{bertIndex, bertShard, "bert_model.ckpt.meta"} {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			copyFile(t, filepath.Join(v1Fixture, "model.ckpt"), filepath.Join(dir, "model.ckpt"))
			copyFile(t, filepath.Join(v1Fixture, "checkpoint"), filepath.Join(dir, "checkpoint"))
		}},
	{name: "malformed_config_json", fixture: bertFixture, file: bertConfig, says: "JSON",
		damage: editFile(bertConfig, func(_ *testing.T, d []byte) []byte { return d[:len(d)/2] })},
	{name: "contradictory_config", fixture: bertFixture, file: bertIndex, tensor: wordEmbedding, says: "bert_config.json (want [99, 64])",
		damage: editFile(bertConfig, replaceOnce(`"hidden_size": 32`, `"hidden_size": 64`))},
	{name: "malformed_hparams_gpt2", fixture: "gpt2/124M-tiny", file: "hparams.json", says: "hparams.json",
		damage: editFile("hparams.json", replaceOnce(`"n_embd": 32,`, `"n_embd": "32",`))},
	{name: "contradictory_config_xlnet", fixture: "xlnet/xlnet_cased_L-2_H-32_A-4", file: "xlnet_config.json", says: "d_model",
		damage: editFile("xlnet_config.json", replaceOnce(`"d_model": 32,`, `"d_model": 48,`))},
	{name: "contradictory_gin_t5", fixture: "t5/small-tiny", file: "operative_config.gin", says: "model.ckpt-1000000.index gives d_model = 16",
		damage: editFile("operative_config.gin", replaceOnce("d_model = 16\n", "d_model = 24\n"))},
	{name: "contradictory_params_shapes", fixture: gptFixture, file: "params_shapes.json", says: "params_shapes.json",
		damage: editFile("params_shapes.json", replaceOnce("[[64, 32], [100, 32],", "[[64, 32], [100, 33],"))},
	{name: "unreadable_config", fixture: bertFixture, file: bertConfig, says: "is a directory",
		damage: func(t *testing.T, dir string) {
			path := filepath.Join(dir, bertConfig)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	{name: "bad_npy_header", fixture: gptFixture, file: "params_0.npy", says: "shape",
		// NumPy refuses a shape that is not a tuple: (920) is the int 920.
		damage: editFile("params_0.npy", replaceOnce("'shape': (920,), ", "'shape': (920) , "))},
	{name: "pickle_forbidden_global", fixture: xlmFixture, file: "mlm_en_16.pth", says: "refused global subprocess.run",
		damage: editFile("mlm_en_16.pth", replaceOnce("c_codecs\nencode\n", "csubprocess\nrun\n"))},
}

// goodModel is the undamaged model every row's store also holds.
const goodModel = "good"

// TestBadInputMatrix mounts one store holding a good model and one folder
// per row, each a damaged copy of a fixture, and checks every row: EIO on
// the affected reads only, a log line naming the file (and tensor), the
// original files listed and unchanged, bounded allocation, ckptfs verify
// reporting the same problem; then the good model's bytes and the store
// itself are checked to be unchanged.
func TestBadInputMatrix(t *testing.T) {
	store := t.TempDir()
	store, err := filepath.EvalSymlinks(store)
	if err != nil {
		t.Fatal(err)
	}
	copyDir(t, filepath.Join(fixtures, bertFixture), filepath.Join(store, goodModel))
	for _, r := range rows {
		dir := filepath.Join(store, r.name)
		copyDir(t, filepath.Join(fixtures, r.fixture), dir)
		r.damage(t, dir)
	}
	before := snapshot(t, store)
	// Cleanups run last first: unmount, then compare the store.
	t.Cleanup(func() { compareSnapshots(t, before, snapshot(t, store)) })
	logs := &logBuffer{}
	mnt := mountStore(t, store, logs)

	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			src, view := filepath.Join(store, r.name), filepath.Join(mnt, r.name)
			n := allocated(func() {
				checkOriginals(t, src, view)
				if r.tensorOnly {
					checkOnlyTensorReadsFail(t, store, mnt, r)
				} else {
					checkGeneratedFilesFail(t, view)
				}
			})
			if n > 256<<20 {
				t.Errorf("reading the broken model allocated %d MiB", n>>20)
			}
			if !slices.ContainsFunc(strings.Split(logs.String(), "\n"), r.names) {
				t.Errorf("no log line names %s and says %q", filepath.Join(src, r.file), r.says)
			}
			checkVerifyReports(t, src, r)
		})
	}
	t.Run("good_model_served", func(t *testing.T) {
		for _, name := range model.Generated(&bert.Family) {
			want := materialise(t, filepath.Join(store, goodModel), name)
			got, err := os.ReadFile(filepath.Join(mnt, goodModel, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: the good model's bytes through the mount differ from its plan", name)
			}
		}
		if rep := verify.Path(filepath.Join(store, goodModel)); len(rep.Problems) != 0 || rep.Models != 1 {
			t.Errorf("verify of the good model: %+v", rep)
		}
	})
}

// checkOriginals: the broken model's original files are all listed and
// read back byte for byte.
func checkOriginals(t *testing.T, src, view string) {
	t.Helper()
	listed := names(t, view)
	for _, name := range names(t, src) {
		if _, ok := slices.BinarySearch(listed, name); !ok {
			t.Errorf("original %s is not listed in the view: %v", name, listed)
			continue
		}
		fi, err := os.Stat(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			vi, err := os.Stat(filepath.Join(view, name))
			if err != nil || vi.IsDir() != fi.IsDir() {
				t.Errorf("%s: view shows %v, %v", name, vi, err)
			}
			continue
		}
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(view, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("original %s through the view: %d bytes, %v; want its %d bytes", name, len(got), err, len(want))
		}
	}
}

// checkGeneratedFilesFail: a model that cannot be loaded still lists its
// generated files (so the user finds the error), and each gives EIO.
func checkGeneratedFilesFail(t *testing.T, view string) {
	t.Helper()
	listed := names(t, view)
	for _, name := range []string{"config.json", model.TorchWeights, model.Safetensors} {
		if _, ok := slices.BinarySearch(listed, name); !ok {
			t.Errorf("%s is not listed: %v (the folder is not shown as a model)", name, listed)
			continue
		}
		if _, err := os.ReadFile(filepath.Join(view, name)); !isEIO(err) {
			t.Errorf("reading %s: %v, want EIO", name, err)
		}
	}
}

// checkOnlyTensorReadsFail: with readahead off, every page of a weight file
// that holds a byte of the bad tensor gives EIO, every other page (header
// included) is served and equals the good model's page, and config.json is
// served.
func checkOnlyTensorReadsFail(t *testing.T, store, mnt string, r row) {
	t.Helper()
	if _, err := os.ReadFile(filepath.Join(mnt, r.name, "config.json")); err != nil {
		t.Errorf("config.json of a model with one bad tensor: %v", err)
	}
	for _, name := range []string{model.TorchWeights, model.Safetensors} {
		p := plan(t, filepath.Join(store, r.name), name)
		var badFrom, badTo int64 = -1, -1
		for _, run := range p.Runs {
			if run.Kind != index.Literal && p.Tensors[run.Tensor].Src.Name == r.tensor {
				badFrom, badTo = run.Off, run.Off+run.Len
			}
		}
		if badFrom < pageSize {
			t.Fatalf("%s: tensor %s at [%d, %d) is in the first page; pick another", name, r.tensor, badFrom, badTo)
		}
		bad, err := openRandom(filepath.Join(mnt, r.name, name))
		if err != nil {
			t.Fatal(err)
		}
		good, err := openRandom(filepath.Join(mnt, goodModel, name))
		if err != nil {
			bad.Close()
			t.Fatal(err)
		}
		var served, failed int
		for i := int64(0); i*pageSize < p.Size; i++ {
			got, err := bad.page(i)
			touches := i*pageSize < badTo && (i+1)*pageSize > badFrom
			switch {
			case touches && !isEIO(err):
				t.Errorf("%s page %d holds bytes of %s: read gave %v, want EIO", name, i, r.tensor, err)
			case touches:
				failed++
			case err != nil:
				t.Errorf("%s page %d (not touching %s): %v", name, i, r.tensor, err)
			default:
				want, err := good.page(i)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s page %d differs from the good model's (%v)", name, i, err)
				}
				served++
			}
		}
		bad.Close()
		good.Close()
		if served == 0 || failed == 0 {
			t.Errorf("%s: %d pages served, %d failed; want both", name, served, failed)
		}
	}
}

// names reports whether a log or report line is this row's problem: it
// names the damaged file (and tensor) and says why. The row's folder name
// is cut out first so it cannot match the reason by accident.
func (r row) names(line string) bool {
	dir := string(filepath.Separator) + r.name + string(filepath.Separator)
	rest := strings.ReplaceAll(line, dir, "/ROW/")
	return strings.Contains(line, dir+r.file) && strings.Contains(rest, r.says) && strings.Contains(rest, r.tensor)
}

// checkVerifyReports: ckptfs verify finds the same problem.
func checkVerifyReports(t *testing.T, dir string, r row) {
	t.Helper()
	rep := verify.Path(dir)
	if rep.Models != 1 {
		t.Errorf("verify %s: %d models, want 1", dir, rep.Models)
	}
	for _, p := range rep.Problems {
		if r.names(p.String()) {
			return
		}
	}
	t.Errorf("verify %s: no problem names %s and says %q: %+v", dir, r.file, r.says, rep.Problems)
}
