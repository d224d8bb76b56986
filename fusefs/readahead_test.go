package fusefs

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestTheMountReadsAheadAFullRequest(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root may set a mount's readahead; ckptfs then keeps the kernel default")
	}
	mnt := mountStore(t, sampleStore, 1<<20)
	dev, err := mountDevice(mnt)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/sys/class/bdi/" + dev + "/read_ahead_kb")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := strconv.Atoi(strings.TrimSpace(string(data))); got != ReadaheadKB {
		t.Errorf("read_ahead_kb %d, want %d", got, ReadaheadKB)
	}
	if _, err := mountDevice(t.TempDir()); err == nil {
		t.Error("a plain folder was taken for a mount")
	}
}
