package xlm

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/ckptfs/ckptfs/lazyconv/torchpickle"
)

// The reference conversion writes config.json and vocab.json with Python's
// json.dumps(obj, indent=2): keys in insertion order, ASCII only, Python's
// float repr. pyJSON renders unpickled values the same way, so the files
// match the reference's byte for byte.

// errNotJSON marks a value json.dumps cannot render (a set, bytes, a tuple
// as a dict key, a tensor): the reference crashes on it.
type errNotJSON struct{ what string }

func (e errNotJSON) Error() string { return "not representable in JSON: " + e.what }

// pyJSON renders v as json.dumps(v, indent=2) does.
func pyJSON(v any) ([]byte, error) {
	var b strings.Builder
	if err := writeJSON(&b, v, 0); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func writeJSON(b *strings.Builder, v any, depth int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(pyFloat(x))
	case string:
		writeString(b, x)
	case torchpickle.List:
		return writeArray(b, x, depth)
	case torchpickle.Tuple:
		return writeArray(b, x, depth)
	case *torchpickle.Dict:
		return writeObject(b, x, depth)
	default:
		return errNotJSON{fmt.Sprintf("%T", v)}
	}
	return nil
}

func writeArray(b *strings.Builder, items []any, depth int) error {
	if len(items) == 0 {
		b.WriteString("[]")
		return nil
	}
	b.WriteString("[")
	for i, it := range items {
		if i > 0 {
			b.WriteString(",")
		}
		newline(b, depth+1)
		if err := writeJSON(b, it, depth+1); err != nil {
			return err
		}
	}
	newline(b, depth)
	b.WriteString("]")
	return nil
}

func writeObject(b *strings.Builder, d *torchpickle.Dict, depth int) error {
	if len(d.Items) == 0 {
		b.WriteString("{}")
		return nil
	}
	b.WriteString("{")
	for i, it := range d.Items {
		if i > 0 {
			b.WriteString(",")
		}
		newline(b, depth+1)
		key, err := jsonKey(it.Key)
		if err != nil {
			return err
		}
		writeString(b, key)
		b.WriteString(": ")
		if err := writeJSON(b, it.Value, depth+1); err != nil {
			return err
		}
	}
	newline(b, depth)
	b.WriteString("}")
	return nil
}

// jsonKey is how json.dumps turns a dict key into a string.
func jsonKey(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case *big.Int:
		return x.String(), nil
	case float64:
		return pyFloat(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "null", nil
	}
	return "", errNotJSON{fmt.Sprintf("a %T dict key", k)}
}

func newline(b *strings.Builder, depth int) {
	b.WriteString("\n")
	b.WriteString(strings.Repeat("  ", depth))
}

// writeString quotes s with ensure_ascii: everything outside printable
// ASCII becomes a lower-case \uXXXX escape (a surrogate pair beyond the BMP).
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	u4 := func(r rune) {
		b.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			b.WriteByte(hex[(r>>shift)&0xf])
		}
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			u4(hi)
			u4(lo)
		default:
			u4(r)
		}
	}
	b.WriteByte('"')
}

// pyFloat is Python's repr of a float: the shortest round-tripping digits,
// positional from 1e-4 up to 1e16 (with ".0" when integral), scientific
// with a two-digit exponent otherwise.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if f == 0 || (exp >= -4 && exp < 16) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	return sci
}
