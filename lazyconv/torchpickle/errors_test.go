package torchpickle

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// legacyHeader is the magic number, protocol and system-info pickles of the
// legacy fixture, which torch.save wrote.
func legacyHeader(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(fixtures[0].path)
	if err != nil {
		t.Fatal(err)
	}
	var end int64
	for range 3 {
		n, err := pickleLength(bufio.NewReader(bytes.NewReader(data[end:])), int64(len(data))-end)
		if err != nil {
			t.Fatal(err)
		}
		end += n
	}
	return data[:end]
}

// emptyKeyList is the pickled storage key list of a file without tensors.
const emptyKeyList = "\x80\x02]q\x00."

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.pth")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestRefusedGlobals(t *testing.T) {
	path := casePath("namespace.pth") // training flags saved as an argparse.Namespace
	_, err := Open(path)
	wantError(t, err, path, "refused global argparse.Namespace")

	for global, pickle := range map[string]string{
		"os.system":                    "\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.",
		"builtins.eval":                "\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.",
		"torch.load":                   "\x80\x02ctorch\nload\n.",
		"numpy.core.multiarray.scalar": "\x80\x02cnumpy.core.multiarray\nscalar\n.",
	} {
		path := writeTemp(t, append(legacyHeader(t), pickle+emptyKeyList...))
		_, err := Open(path)
		wantError(t, err, path, "refused global "+global)
	}
}

func TestMalformedPickles(t *testing.T) {
	for what, c := range map[string]struct{ pickle, want string }{
		"odd SETITEMS":        {"\x80\x02}(K\x01u.", "malformed pickle"},
		"list holding itself": {"\x80\x02]q\x00h\x00a.", "contains itself"},
		"unknown opcode":      {"\x80\x02\xff.", "unknown opcode 0xff"},
		"no STOP":             {"\x80\x02}", "truncated"},
		"length past the end": {"\x80\x02X\xff\xff\xff\x7f.", "truncated"},
		"deep nesting":        {"\x80\x02" + strings.Repeat("]", 300) + strings.Repeat("a", 299) + ".", "nested deeper"},
		"not a storage id":    {"\x80\x02X\x01\x00\x00\x00xQ.", "persistent id"},
		"module id":           {"\x80\x02X\x06\x00\x00\x00module\x85Q.", "nn.Module"},
		"tensor of a string":  {"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(X\x01\x00\x00\x00xK\x00)K\x00\x89NtR.", "want a storage"},
	} {
		t.Run(what, func(t *testing.T) {
			path := writeTemp(t, append(legacyHeader(t), c.pickle+emptyKeyList...))
			_, err := Open(path)
			wantError(t, err, path, c.want)
		})
	}
}

func TestNotTorchFiles(t *testing.T) {
	for what, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":                {nil, "not a torch.save file"},
		"text":                 {[]byte("hello, world"), "not a torch.save file"},
		"plain pickle":         {[]byte("\x80\x02K\x01."), "magic number"},
		"tar":                  {append(make([]byte, 257), "ustar\x0000"...), "tar format"},
		"zip without data.pkl": {[]byte("PK\x03\x04"), "zip"},
	} {
		t.Run(what, func(t *testing.T) {
			path := writeTemp(t, c.data)
			_, err := Open(path)
			wantError(t, err, path, c.want)
		})
	}
}

func TestTruncatedFiles(t *testing.T) {
	for _, fx := range fixtures {
		data, err := os.ReadFile(fx.path)
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(data); cut += 89 {
			path := writeTemp(t, data[:cut])
			if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("%s cut at %d of %d bytes: error %v should name the file", fx.format, cut, len(data), err)
			}
		}
		path := writeTemp(t, data[:len(data)-1])
		_, err = Open(path)
		wantError(t, err, path)
		if fx.format == Legacy && !strings.Contains(err.Error(), "truncated: storage") {
			t.Errorf("one byte short: %v", err)
		}
	}
}

func TestStorageNumelMustMatch(t *testing.T) {
	data, err := os.ReadFile(casePath("offset.pth"))
	if err != nil {
		t.Fatal(err)
	}
	// The single storage's element count sits 8 bytes before its 12 floats.
	data = append([]byte{}, data...)
	data[len(data)-48-8]++
	path := writeTemp(t, data)
	_, err = Open(path)
	wantError(t, err, path, "the file records 13 elements, the pickle 12")
}
