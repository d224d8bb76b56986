package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const pythonTimeout = 5 * time.Minute

// loadScript times one way of loading a model folder, after the imports:
// "load" is torch.load(mmap=True, weights_only=True) of pytorch_model.bin
// reading every tensor's bytes, "pretrained" is from_pretrained.
const loadScript = `
import sys, time
op, folder = sys.argv[1], sys.argv[2]
import torch
from transformers import BertForPreTraining
began = time.perf_counter()
if op == "load":
    sd = torch.load(folder + "/pytorch_model.bin", mmap=True, weights_only=True)
    total = 0.0
    for t in sd.values():
        total += float(t.float().sum())  # reads every byte of every tensor
else:
    BertForPreTraining.from_pretrained(folder)
print(time.perf_counter() - began)
`

// convertScript is transformers 4.x's own TF conversion, as its
// convert_bert_original_tf_checkpoint_to_pytorch does it, saved with
// save_pretrained so from_pretrained can load the result.
const convertScript = `
import sys
from transformers import BertConfig, BertForPreTraining, load_tf_weights_in_bert
folder, out = sys.argv[1], sys.argv[2]
config = BertConfig.from_json_file(folder + "/bert_config.json")
model = BertForPreTraining(config)
load_tf_weights_in_bert(model, config, folder + "/bert_model.ckpt")
model.save_pretrained(out)
`

// python runs script with args in venv and returns its last output line.
func python(venv, script string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pythonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(venv, "bin", "python"), append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "TF_CPP_MIN_LOG_LEVEL=3", "TRANSFORMERS_VERBOSITY=error", "HF_HUB_OFFLINE=1")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
			if len(stderr) > 2000 {
				stderr = stderr[len(stderr)-2000:]
			}
		}
		return "", fmt.Errorf("python %s: %w\n%s", args, err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// timedLoad runs loadScript and returns the time it reports.
func timedLoad(venv, op, folder string) (time.Duration, error) {
	out, err := python(venv, loadScript, op, folder)
	if err != nil {
		return 0, err
	}
	s, err := strconv.ParseFloat(out, 64)
	if err != nil {
		return 0, fmt.Errorf("load script printed %q", out)
	}
	return time.Duration(s * float64(time.Second)), nil
}

func hasPython(venv string) bool {
	_, err := os.Stat(filepath.Join(venv, "bin", "python"))
	return err == nil
}
