package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ckptfs/ckptfs/lazyconv/verify"
)

func run(t *testing.T, cmd *cobra.Command, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

func TestLsListsEveryModelWithItsArchitecture(t *testing.T) {
	out := run(t, lsCommand(), "../../testdata/store")
	for _, want := range []string{
		"google/uncased_L-2_H-32_A-4", "BertForPreTraining",
		"finetuned/cased_L-2_H-32_A-4_sst2", "BertForSequenceClassification",
		"sharded/uncased_two_shards", "fp16/uncased_fp16", "steps/uncased_two_steps",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ls output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "notes") {
		t.Errorf("ls lists a folder that is not a model:\n%s", out)
	}
}

func TestInspectShowsNamesShapesTransformsAndLeftovers(t *testing.T) {
	out := run(t, inspectCommand(), "../../testdata/store/finetuned/cased_L-2_H-32_A-4_sst2")
	for _, want := range []string{
		"checkpoint:   model.ckpt-300",
		"bert/encoder/layer_1/intermediate/dense/kernel",
		"bert.encoder.layer.1.intermediate.dense.weight",
		"[32, 37] -> [37, 32]",
		"transpose",
		"classifier.weight",
		"skipped:      83 optimizer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	// ALBERT's LAMB slots (lamb_optimizer.py names them adam_m/adam_v) for
	// each of 80 weights, and the step counter.
	out = run(t, inspectCommand(), "../../testdata/store/albert/pretraining_run_2groups_2inner-tiny")
	if !strings.Contains(out, "skipped:      161 optimizer and bookkeeping variables: ") ||
		!strings.Contains(out, "adam_m 80") || !strings.Contains(out, "adam_v 80") || !strings.Contains(out, "global_step 1") {
		t.Errorf("inspect does not list the skipped LAMB slots:\n%s", out)
	}
	out = run(t, inspectCommand(), "../../testdata/store/google/uncased_L-2_H-32_A-4")
	if !strings.Contains(out, "tied:         cls.predictions.decoder.weight = bert.embeddings.word_embeddings.weight") {
		t.Errorf("inspect does not show the tied decoder:\n%s", out)
	}
	out = run(t, inspectCommand(), "../../testdata/store/transfo-xl/wt103-tiny/model")
	if !regexp.MustCompile(`\(computed\)\s+transformer\.pos_emb\.inv_freq\s+float32\s+\[8\]\s+computed`).MatchString(out) {
		t.Errorf("inspect does not show the computed buffer:\n%s", out)
	}
}

func TestMountRejectsABadCacheSize(t *testing.T) {
	cmd := mountCommand()
	cmd.SetArgs([]string{"--cache-size", "lots", t.TempDir(), t.TempDir()})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--cache-size") {
		t.Errorf("error %v, want one about --cache-size", err)
	}
}

func TestVerifySampleStoreHasNoProblems(t *testing.T) {
	out := run(t, verifyCommand(), "../../testdata/store")
	if strings.Contains(out, "PROBLEM") || !strings.Contains(out, ", 0 problems") {
		t.Errorf("verify of the sample store:\n%s", out)
	}
	var models, files, tensors int
	if _, err := fmt.Sscanf(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:], "%d models, %d files, %d tensors", &models, &files, &tensors); err != nil {
		t.Fatalf("no summary line in:\n%s", out)
	}
	if models < 13 || files < 4*models || tensors < 20*models {
		t.Errorf("verify checked %d models, %d files, %d tensors:\n%s", models, files, tensors, out)
	}
}

// A damaged copy of a model: PROBLEM lines naming the file and the cause,
// and the command fails (main exits with status 1 on any error).
func TestVerifyReportsAProblemAndFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uncased")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "../../testdata/store/google/uncased_L-2_H-32_A-4"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.Name(), ".data-") {
			data[len(data)-5] ^= 1 // inside the last tensor
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := verifyCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{dir})
	if err := cmd.Execute(); !errors.Is(err, verify.ErrProblems) {
		t.Fatalf("verify of a damaged model: %v, want %v\n%s", err, verify.ErrProblems, out.String())
	}
	text := out.String()
	if !strings.Contains(text, "PROBLEM "+dir+"/") || !strings.Contains(text, "checksum mismatch") ||
		!strings.Contains(text, "1 models, 4 files") || !strings.Contains(text, "1 problems") {
		t.Errorf("verify output:\n%s", text)
	}
}
