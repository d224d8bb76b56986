package npy

import (
	"fmt"
	"math/big"
	"strings"
)

// NumPy reads a .npy header with Python's ast.literal_eval and then checks
// the result (numpy.lib.format._read_array_header). npyio instead scans the
// text for the keys, which accepts headers NumPy refuses and misreads some
// it accepts (a shape tuple closed without a trailing comma). So the header
// is also parsed here, as literal_eval would, and checked as NumPy checks
// it; a header the two readers do not agree on is refused.

// pyHeader is the dictionary as NumPy sees it.
type pyHeader struct {
	descr   any // a string, or a list for a structured dtype
	fortran bool
	shape   []int64
}

// pyTuple and pyList distinguish Python's two sequence literals.
type (
	pyTuple []any
	pyList  []any
)

// parsePyHeader parses the header dictionary text (after the preamble) and
// applies NumPy's checks: a dict with exactly the keys descr, fortran_order
// and shape; fortran_order a bool; shape a tuple of ints.
func parsePyHeader(text string) (*pyHeader, error) {
	p := &pyParser{s: strings.TrimLeft(text, " \t")}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the header dictionary", p.rest())
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the header is not a dictionary")
	}
	descr, ok1 := d["descr"]
	fortran, ok2 := d["fortran_order"].(bool)
	shape, ok3 := d["shape"].(pyTuple)
	if len(d) != 3 || !ok1 {
		return nil, fmt.Errorf("the header does not hold exactly the keys descr, fortran_order and shape")
	}
	if !ok2 {
		return nil, fmt.Errorf("fortran_order is not True or False")
	}
	if !ok3 {
		return nil, fmt.Errorf("shape is not a tuple")
	}
	h := &pyHeader{descr: descr, fortran: fortran, shape: make([]int64, len(shape))}
	for i, x := range shape {
		n, ok := x.(*big.Int)
		if !ok {
			return nil, fmt.Errorf("shape is not a tuple of integers")
		}
		if !n.IsInt64() {
			return nil, fmt.Errorf("shape dimension %s is out of range", n)
		}
		h.shape[i] = n.Int64()
	}
	return h, nil
}

// maxDepth bounds nesting, so a hostile header cannot exhaust the stack.
const maxDepth = 32

// pyParser reads the Python literals a header can hold: dicts, tuples,
// lists, strings, integers, True, False and None.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

// space skips whitespace and comments, as Python's tokenizer does inside
// brackets.
func (p *pyParser) space() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			p.i++
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *pyParser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("header literal nested too deeply")
	}
	switch c := p.peek(); {
	case c == '{':
		return p.dict(depth)
	case c == '(':
		items, single, err := p.sequence(depth, '(', ')')
		if err != nil {
			return nil, err
		}
		if single {
			// (x) is x, not a tuple.
			return items[0], nil
		}
		return pyTuple(items), nil
	case c == '[':
		items, _, err := p.sequence(depth, '[', ']')
		return pyList(items), err
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.integer()
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_':
		start := p.i
		for p.i < len(p.s) && (isIdent(p.s[p.i])) {
			p.i++
		}
		switch p.s[start:p.i] {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		}
		return nil, fmt.Errorf("%q is not a literal", p.s[start:p.i])
	case c == 0:
		return nil, fmt.Errorf("the header ends inside its dictionary")
	}
	return nil, fmt.Errorf("unexpected %q in the header", p.rest())
}

func isIdent(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

func (p *pyParser) dict(depth int) (any, error) {
	p.i++ // {
	d := map[string]any{}
	for {
		if p.peek() == '}' {
			p.i++
			return d, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("a header key is not a string")
		}
		if p.peek() != ':' {
			return nil, fmt.Errorf("expected ':' after key %q, found %q", key, p.rest())
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d[key] = v // a repeated key keeps the last value, as in Python
		switch p.peek() {
		case ',':
			p.i++
		case '}':
		default:
			return nil, fmt.Errorf("expected ',' or '}' in the header dictionary, found %q", p.rest())
		}
	}
}

// sequence reads a tuple or list; single reports a parenthesised lone
// value without a comma.
func (p *pyParser) sequence(depth int, open, close byte) (items []any, single bool, err error) {
	p.i++ // open
	comma := false
	for {
		if p.peek() == close {
			p.i++
			return items, open == '(' && len(items) == 1 && !comma, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, false, err
		}
		items = append(items, v)
		comma = false
		switch p.peek() {
		case ',':
			p.i++
			comma = true
		case close:
		default:
			return nil, false, fmt.Errorf("expected ',' or '%c', found %q", close, p.rest())
		}
	}
}

// str reads a single- or double-quoted string; adjacent literals are
// concatenated as Python does. Escapes other than \\ and the quotes are
// refused: NumPy never writes them.
func (p *pyParser) str() (any, error) {
	var b strings.Builder
	for {
		q := p.s[p.i]
		if strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3)) {
			return nil, fmt.Errorf("triple-quoted strings are not read in a header")
		}
		p.i++
		for {
			if p.i >= len(p.s) || p.s[p.i] == '\n' {
				return nil, fmt.Errorf("unterminated string in the header")
			}
			c := p.s[p.i]
			p.i++
			if c == q {
				break
			}
			if c == '\\' {
				if p.i >= len(p.s) {
					return nil, fmt.Errorf("unterminated string in the header")
				}
				e := p.s[p.i]
				p.i++
				if e != '\\' && e != '\'' && e != '"' {
					return nil, fmt.Errorf("string escape \\%c in the header", e)
				}
				c = e
			}
			b.WriteByte(c)
		}
		if c := p.peek(); c != '\'' && c != '"' {
			return b.String(), nil
		}
	}
}

// integer reads a decimal integer with an optional sign. Python allows
// spaces after the sign and single underscores between digits.
func (p *pyParser) integer() (any, error) {
	// literal_eval takes one sign: "--1" is refused.
	neg := false
	if c := p.peek(); c == '-' || c == '+' {
		neg = c == '-'
		p.i++
	}
	p.space()
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '_') {
		p.i++
	}
	digits := p.s[start:p.i]
	if p.i < len(p.s) && (isIdent(p.s[p.i]) || p.s[p.i] == '.') {
		return nil, fmt.Errorf("unexpected %q in the header: only decimal integers are read", p.rest())
	}
	if digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") ||
		(len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0_") != "") {
		return nil, fmt.Errorf("invalid integer %q in the header", digits)
	}
	if len(digits) > 40 {
		return nil, fmt.Errorf("integer of %d digits in the header", len(digits))
	}
	n, ok := new(big.Int).SetString(strings.ReplaceAll(digits, "_", ""), 10)
	if !ok {
		return nil, fmt.Errorf("invalid integer %q in the header", digits)
	}
	if neg {
		n.Neg(n)
	}
	return n, nil
}
