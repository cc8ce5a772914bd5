// Package jsontree parses a JSON text of any depth into a flat list of its values, without recursion.
//
// encoding/json refuses a text nested more than 10,000 levels deep (its fixed limit), but PostgreSQL's json and
// jsonb take deeper ones (their limit is the server's max_stack_depth), and an audit row wraps a client's value
// in two more levels. The readers of the trail (seal's canonicalizer, audit.Trail) must read every row the
// database wrote, so they parse with this package where depth matters: it accepts exactly the texts encoding/json
// accepts as one value (leading and trailing whitespace allowed, nothing after), at any depth.
package jsontree

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Kind is a value's JSON type.
type Kind uint8

// The kinds of value.
const (
	Null Kind = iota + 1
	False
	True
	Number
	String
	Array
	Object
)

// Node is one value of a parsed text. Offsets are into the text; children (an array's elements, an object's
// members' values) are linked in text order from First through Next, -1 ending the list.
type Node struct {
	Kind        Kind
	Plain       bool  // a String whose token has no escape and is valid UTF-8: its text between the quotes is its value
	PlainKey    bool  // the same of the member's key
	Start, End  int32 // the value's text, text[Start:End] (a container's from its bracket to the closing one)
	Key, KeyEnd int32 // a member's key token, quotes included, text[Key:KeyEnd]; -1 if not a member
	First, Next int32
	Len         int32 // the number of children
}

// SyntaxError is a text that is not one JSON value.
type SyntaxError struct {
	Msg    string
	Offset int
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s (offset %d)", e.Msg, e.Offset) }

// Parse parses text, which must be one JSON value with optional whitespace around it. nodes[0] is the value.
func Parse(text []byte) ([]Node, error) {
	if len(text) > 1<<31-2 {
		return nil, &SyntaxError{Msg: "text longer than 2 GiB", Offset: 0}
	}
	p := parser{text: text, nodes: make([]Node, 0, 16)}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.nodes, nil
}

type parser struct {
	text  []byte
	i     int
	nodes []Node
	open  []int32 // the containers not yet closed, innermost last
	last  []int32 // the last child of each open container, -1 for none
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: p.i}
}

func (p *parser) ws() {
	for p.i < len(p.text) {
		switch p.text[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// char describes the byte at the parser's position for an error.
func (p *parser) char() string {
	if p.i >= len(p.text) {
		return "end of text"
	}
	return fmt.Sprintf("character %q", p.text[p.i])
}

func (p *parser) parse() error {
	key, keyEnd, plainKey := int32(-1), int32(-1), false
	p.ws()
	for {
		// A value starts at p.i.
		if p.i >= len(p.text) {
			return p.errorf("unexpected end of text, looking for a value")
		}
		idx := int32(len(p.nodes))
		n := Node{Start: int32(p.i), Key: key, KeyEnd: keyEnd, PlainKey: plainKey, First: -1, Next: -1}
		key, keyEnd, plainKey = -1, -1, false
		if d := len(p.open); d > 0 {
			parent, prev := p.open[d-1], p.last[d-1]
			if prev < 0 {
				p.nodes[parent].First = idx
			} else {
				p.nodes[prev].Next = idx
			}
			p.last[d-1] = idx
			p.nodes[parent].Len++
		}
		container := false
		switch c := p.text[p.i]; {
		case c == '{' || c == '[':
			n.Kind = Array
			if c == '{' {
				n.Kind = Object
			}
			p.i++
			container = true
		case c == '"':
			n.Kind = String
			var err error
			if n.Plain, err = p.str(); err != nil {
				return err
			}
		case c == '-' || c >= '0' && c <= '9':
			n.Kind = Number
			if err := p.number(); err != nil {
				return err
			}
		case c == 't':
			n.Kind = True
			if err := p.literal("true"); err != nil {
				return err
			}
		case c == 'f':
			n.Kind = False
			if err := p.literal("false"); err != nil {
				return err
			}
		case c == 'n':
			n.Kind = Null
			if err := p.literal("null"); err != nil {
				return err
			}
		default:
			return p.errorf("invalid %s looking for the beginning of a value", p.char())
		}
		if !container {
			n.End = int32(p.i)
		}
		p.nodes = append(p.nodes, n)
		if container {
			p.open = append(p.open, idx)
			p.last = append(p.last, -1)
			p.ws()
			if p.i < len(p.text) && (p.text[p.i] == '}' && n.Kind == Object || p.text[p.i] == ']' && n.Kind == Array) {
				p.i++
				p.close()
			} else if n.Kind == Object {
				var err error
				if key, keyEnd, plainKey, err = p.key(); err != nil {
					return err
				}
				continue
			} else {
				continue
			}
		}
		// A value ended: a comma, or the end of its container (which ends a value in turn), or of the text.
		for {
			p.ws()
			d := len(p.open)
			if d == 0 {
				if p.i < len(p.text) {
					return p.errorf("invalid %s after the value", p.char())
				}
				return nil
			}
			obj := p.nodes[p.open[d-1]].Kind == Object
			if p.i >= len(p.text) {
				return p.errorf("unexpected end of text in an unclosed %s", map[bool]string{true: "object", false: "array"}[obj])
			}
			switch c := p.text[p.i]; {
			case c == ',':
				p.i++
				p.ws()
				if obj {
					var err error
					if key, keyEnd, plainKey, err = p.key(); err != nil {
						return err
					}
				}
			case c == '}' && obj, c == ']' && !obj:
				p.i++
				p.close()
				continue
			default:
				return p.errorf("invalid %s after an %s", p.char(), map[bool]string{true: "object member", false: "array element"}[obj])
			}
			break
		}
	}
}

// close ends the innermost open container at p.i.
func (p *parser) close() {
	d := len(p.open) - 1
	p.nodes[p.open[d]].End = int32(p.i)
	p.open, p.last = p.open[:d], p.last[:d]
}

// key reads a member's key and the colon after it, leaving p.i at its value.
func (p *parser) key() (start, end int32, plain bool, err error) {
	if p.i >= len(p.text) || p.text[p.i] != '"' {
		return 0, 0, false, p.errorf("invalid %s looking for the beginning of an object key", p.char())
	}
	start = int32(p.i)
	if plain, err = p.str(); err != nil {
		return 0, 0, false, err
	}
	end = int32(p.i)
	p.ws()
	if p.i >= len(p.text) || p.text[p.i] != ':' {
		return 0, 0, false, p.errorf("invalid %s after an object key", p.char())
	}
	p.i++
	p.ws()
	return start, end, plain, nil
}

// str reads a string token as encoding/json validates one: no control character, only its escapes. Other bytes,
// invalid UTF-8 included, are taken (a decoder replaces them with U+FFFD). plain: no escape and valid UTF-8.
func (p *parser) str() (plain bool, err error) {
	start := p.i
	p.i++
	escaped, high := false, false
	for p.i < len(p.text) {
		c := p.text[p.i]
		switch {
		case c == '"':
			p.i++
			return !escaped && (!high || utf8.Valid(p.text[start+1:p.i-1])), nil
		case c < 0x20:
			return false, p.errorf("invalid character %q in a string literal", c)
		case c == '\\':
			escaped = true
			p.i++
			if p.i >= len(p.text) {
				return false, p.errorf("unexpected end of text in a string escape")
			}
			switch p.text[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				p.i++
				for range 4 {
					if p.i >= len(p.text) || !isHex(p.text[p.i]) {
						return false, p.errorf("invalid %s in a \\u escape", p.char())
					}
					p.i++
				}
			default:
				return false, p.errorf("invalid %s in a string escape", p.char())
			}
		default:
			if c >= utf8.RuneSelf {
				high = true
			}
			p.i++
		}
	}
	return false, p.errorf("unexpected end of text in a string literal")
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() error {
	t := p.text
	if t[p.i] == '-' {
		p.i++
	}
	digits := func() error {
		if p.i >= len(t) || t[p.i] < '0' || t[p.i] > '9' {
			return p.errorf("invalid %s in a numeric literal", p.char())
		}
		for p.i < len(t) && t[p.i] >= '0' && t[p.i] <= '9' {
			p.i++
		}
		return nil
	}
	if p.i < len(t) && t[p.i] == '0' {
		p.i++
	} else if err := digits(); err != nil {
		return err
	}
	if p.i < len(t) && t[p.i] == '.' {
		p.i++
		if err := digits(); err != nil {
			return err
		}
	}
	if p.i < len(t) && (t[p.i] == 'e' || t[p.i] == 'E') {
		p.i++
		if p.i < len(t) && (t[p.i] == '+' || t[p.i] == '-') {
			p.i++
		}
		if err := digits(); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if p.i >= len(p.text) || p.text[p.i] != word[k] {
			return p.errorf("invalid %s in literal %s", p.char(), word)
		}
		p.i++
	}
	return nil
}

// Unquote is the value of a valid string token (quotes included), as encoding/json decodes it: an escape of a
// lone surrogate and each byte of invalid UTF-8 become U+FFFD.
func Unquote(token []byte) (string, error) {
	var s string
	err := json.Unmarshal(token, &s)
	return s, err
}

// Compact removes the whitespace outside strings of a valid JSON text: what encoding/json's Compact does, at any
// depth (json.Compact and a json.RawMessage's encoding refuse more than 10,000 levels).
func Compact(text []byte) []byte {
	out := make([]byte, 0, len(text))
	in, esc := false, false
	for _, c := range text {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		out = append(out, c)
	}
	return out
}
