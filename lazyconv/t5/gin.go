package t5

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Gin is a parsed operative_config.gin: the macros (`d_model = 512`) and
// bindings (`encoder/SelfAttention.num_heads = %num_heads`) that Mesh
// TensorFlow's training run recorded, with their values as written.
type Gin struct {
	Path     string
	macros   map[string]string
	bindings []binding
}

type binding struct {
	scope        string // "encoder" in encoder/SelfAttention.num_heads; "" if unscoped
	configurable string // last dotted part of the configurable's name
	param        string
	value        string
}

// ReadGin parses path. Gin's operative configs are Python-like: `#`
// comments, `import` lines, values continued with a trailing backslash or
// inside brackets.
func ReadGin(path string) (*Gin, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	statements, err := ginStatements(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	g := &Gin{Path: path, macros: map[string]string{}}
	for _, st := range statements {
		if strings.HasPrefix(st, "import ") || strings.HasPrefix(st, "include ") {
			continue
		}
		key, value, ok := strings.Cut(st, "=")
		if !ok {
			return nil, fmt.Errorf("%s: cannot read %q: not a binding", path, st)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		dot := strings.LastIndex(key, ".")
		if dot < 0 {
			g.macros[key] = value
			continue
		}
		b := binding{configurable: key[:dot], param: key[dot+1:], value: value}
		if slash := strings.LastIndex(b.configurable, "/"); slash >= 0 {
			b.scope, b.configurable = b.configurable[:slash], b.configurable[slash+1:]
		}
		if i := strings.LastIndex(b.configurable, "."); i >= 0 {
			b.configurable = b.configurable[i+1:] // module-qualified name
		}
		g.bindings = append(g.bindings, b)
	}
	return g, nil
}

// ginStatements joins continued lines into whole statements and drops
// comments and blank lines.
func ginStatements(text string) ([]string, error) {
	var out []string
	var cur strings.Builder
	depth := 0
	for _, line := range strings.Split(text, "\n") {
		code, d, err := stripComment(line)
		if err != nil {
			return nil, err
		}
		depth += d
		code = strings.TrimSpace(code)
		continued := strings.HasSuffix(code, "\\")
		code = strings.TrimSuffix(code, "\\")
		if cur.Len() > 0 && code != "" {
			cur.WriteByte(' ')
		}
		cur.WriteString(strings.TrimSpace(code))
		if continued || depth > 0 {
			continue
		}
		if depth < 0 {
			return nil, fmt.Errorf("unbalanced brackets in %q", cur.String())
		}
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	if depth != 0 || cur.Len() > 0 {
		return nil, fmt.Errorf("unterminated value %q", cur.String())
	}
	return out, nil
}

// stripComment removes a `#` comment outside string literals and returns
// the change in bracket depth over the line.
func stripComment(line string) (string, int, error) {
	depth := 0
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#':
			return line[:i], depth, nil
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		}
	}
	if quote != 0 {
		return "", 0, fmt.Errorf("unterminated string in %q", line)
	}
	return line, depth, nil
}

// Lookup returns the value bound to configurable.param in scope (a binding
// scoped there, else an unscoped one), with macro references resolved, and
// where it was found for messages.
func (g *Gin) Lookup(scope, configurable, param string) (value, where string, ok bool) {
	for _, want := range []string{scope, ""} {
		for _, b := range g.bindings {
			if b.scope == want && b.configurable == configurable && b.param == param {
				name := configurable + "." + param
				if want != "" {
					name = want + "/" + name
				}
				v, err := g.resolve(b.value)
				return v, name, err == nil
			}
		}
	}
	return "", "", false
}

// Macro returns a macro's value.
func (g *Gin) Macro(name string) (string, bool) {
	v, err := g.resolve("%" + name)
	return v, err == nil
}

// resolve follows %macro references.
func (g *Gin) resolve(v string) (string, error) {
	for range 16 {
		if !strings.HasPrefix(v, "%") {
			return v, nil
		}
		next, ok := g.macros[v[1:]]
		if !ok {
			return "", fmt.Errorf("undefined macro %s", v)
		}
		v = next
	}
	return "", fmt.Errorf("macro %s refers to itself", v)
}

// ginInt reads an integer literal.
func ginInt(lit string) (int64, error) {
	return strconv.ParseInt(lit, 10, 64)
}

// ginFloat reads a Python float or integer literal.
func ginFloat(lit string) (float64, error) {
	return strconv.ParseFloat(lit, 64)
}

// ginBool reads True or False.
func ginBool(lit string) (bool, error) {
	switch lit {
	case "True":
		return true, nil
	case "False":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %s", lit)
}

// ginStrings reads a string literal or a list (or tuple) of them.
func ginStrings(lit string) ([]string, error) {
	inner, isList := lit, false
	if n := len(lit); n >= 2 && (lit[0] == '[' && lit[n-1] == ']' || lit[0] == '(' && lit[n-1] == ')') {
		inner, isList = lit[1:n-1], true
	}
	var out []string
	for _, part := range strings.Split(inner, ",") {
		part = strings.TrimSpace(part)
		if part == "" && isList {
			continue // trailing comma
		}
		s, err := ginString(part)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no strings in %s", lit)
	}
	return out, nil
}

func ginString(lit string) (string, error) {
	if n := len(lit); n >= 2 && (lit[0] == '\'' || lit[0] == '"') && lit[n-1] == lit[0] {
		return lit[1 : n-1], nil
	}
	return "", fmt.Errorf("not a string: %s", lit)
}
