package seal

// The canonicalizer as it was before it parsed without recursion (encoding/json's decoder, limited to 10,000
// levels), kept to check that the new one writes the same bytes for every text the old one took: a leaf sealed
// then must still verify (FuzzCanonicalJSONMatchesBefore).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// canonicalJSONBefore is CanonicalJSON as it was.
func canonicalJSONBefore(text []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("seal: canonical JSON: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("seal: canonical JSON: text after the value")
	}
	var b bytes.Buffer
	if err := writeCanonicalBefore(&b, v); err != nil {
		return nil, err
	}
	// The decoder kept the last of a key given twice: then the text has more keys than the value.
	if countKeysBefore(v) != textKeysBefore(text) {
		return nil, duplicateKeyBefore(text)
	}
	return b.Bytes(), nil
}

// countKeys counts the object keys of a decoded value, at every depth.
func countKeysBefore(v any) int {
	n := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			n += countKeysBefore(e)
		}
	case map[string]any:
		n = len(v)
		for _, e := range v {
			n += countKeysBefore(e)
		}
	}
	return n
}

// textKeys counts the object keys of a valid JSON text: its colons outside strings.
func textKeysBefore(text []byte) int {
	n := 0
	in, esc := false, false
	for _, c := range text {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && c == ':':
			n++
		}
	}
	return n
}

// duplicateKey names the first key given twice in one object of a valid JSON text.
func duplicateKeyBefore(text []byte) error {
	d := json.NewDecoder(bytes.NewReader(text))
	type object struct {
		seen  map[string]bool
		isKey bool // the next token is a key
	}
	var stack []*object
	for {
		tok, err := d.Token()
		if err != nil {
			return ErrDuplicateKey
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, ok := tok.(string); ok && top != nil && top.isKey {
			if top.seen[k] {
				return fmt.Errorf("%w: %q", ErrDuplicateKey, k)
			}
			top.seen[k], top.isKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &object{seen: map[string]bool{}, isKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, nil) // an array: no keys
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: in an object, a key comes next.
		if len(stack) > 0 && stack[len(stack)-1] != nil {
			stack[len(stack)-1].isKey = true
		}
	}
}

func writeCanonicalBefore(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		n, err := canonicalNumber(string(v))
		if err != nil {
			return err
		}
		b.WriteString(n)
	case string:
		writeStringBefore(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonicalBefore(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeStringBefore(b, k)
			b.WriteByte(':')
			if err := writeCanonicalBefore(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("seal: canonical JSON: unexpected %T", v)
	}
	return nil
}

// writeString escapes only what JSON requires (", \ and control characters, as \u00XX), so every string has
// one encoding (the decoder has already replaced invalid UTF-8 with U+FFFD).
func writeStringBefore(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
