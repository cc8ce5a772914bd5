package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
)

// rowDomain starts the encoding of a row, leafDomain that of a leaf, so that neither can be read as the other or
// as another format's. Version 2: a leaf commits to its row's key and time beside the row's hash, so that they
// can be checked without the row. Version 1 (a leaf was the row's encoding itself) was never released, and
// nothing reads it.
const (
	rowDomain  = "auditrepo audit row v2\n"
	leafDomain = "auditrepo audit leaf v2\n"
)

// Field is one column of an audit row as a leaf encodes it: Value is its canonical text, nil for NULL.
type Field struct {
	Name  string
	Value []byte
}

// EncodeRow is the canonical encoding of an audit row, whose SHA-256 (RowHash) a leaf holds: the domain, the
// number of fields, then each field's name and value, each prefixed by its length (a value's length is 0 for
// NULL and 1 + its byte length otherwise, so NULL and the empty string differ). Length prefixes make it
// injective: distinct rows never encode equal.
func EncodeRow(fields []Field) []byte { return encode(rowDomain, fields) }

// RowHash is the SHA-256 of a row's encoding.
func RowHash(fields []Field) []byte {
	h := sha256.Sum256(EncodeRow(fields))
	return h[:]
}

// EncodeLeaf is the data of a row's Merkle leaf, encoded as EncodeRow encodes a row but under the leaf domain:
// the fields transaction_id and id (decimal), occurred_at (FormatTime) and row (the row's RowHash, 32 bytes).
// seal_leaf keeps all four, so a leaf whose row is gone (retention) can still be recomputed, and its key and
// time are as authentic as its leaf hash.
func EncodeLeaf(k Key, occurredAt time.Time, rowHash []byte) []byte {
	return encode(leafDomain, []Field{
		{Name: "transaction_id", Value: strconv.AppendUint(nil, k.XID, 10)},
		{Name: "id", Value: strconv.AppendInt(nil, k.ID, 10)},
		{Name: "occurred_at", Value: []byte(FormatTime(occurredAt))},
		{Name: "row", Value: rowHash},
	})
}

// LeafHash is the RFC 6962 leaf hash of EncodeLeaf.
func LeafHash(k Key, occurredAt time.Time, rowHash []byte) []byte {
	return rfc6962.DefaultHasher.HashLeaf(EncodeLeaf(k, occurredAt, rowHash))
}

// FormatTime writes a time as a leaf does (and as readTable reads a timestamptz): UTC, always six fractional
// digits, and a year before 1 AD as its year BC followed by " BC" (Go's year 0 is 1 BC).
func FormatTime(t time.Time) string {
	t = t.UTC()
	if t.Year() >= 1 {
		return t.Format(timeLayout)
	}
	return fmt.Sprintf("%04d", 1-t.Year()) + t.Format(timeLayout[len("2006"):]) + " BC"
}

func encode(domain string, fields []Field) []byte {
	n := len(domain) + binary.MaxVarintLen64
	for _, f := range fields {
		n += 2*binary.MaxVarintLen64 + len(f.Name) + len(f.Value)
	}
	b := make([]byte, 0, n)
	b = append(b, domain...)
	b = binary.AppendUvarint(b, uint64(len(fields)))
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = append(b, f.Name...)
		if f.Value == nil {
			b = binary.AppendUvarint(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(f.Value))+1)
		b = append(b, f.Value...)
	}
	return b
}

// CanonicalJSON re-encodes a JSON text so that any two serializations of the same value give the same bytes:
// no insignificant whitespace, object keys sorted, strings escaped one way, numbers in one decimal form.
// PostgreSQL's jsonb reformats what it stores (key order, spacing, 1e2 as 100), and a json column's text may be
// rewritten by a dump and restore; neither may change a leaf. A text with a key twice in one object, at any
// depth, is refused (ErrDuplicateKey): jsonb never holds one, and readers differ on what it means (jsonb keeps
// the last, a Go decoder into a struct merges two objects).
func CanonicalJSON(text []byte) ([]byte, error) {
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
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	// The decoder kept the last of a key given twice: then the text has more keys than the value.
	if countKeys(v) != textKeys(text) {
		return nil, duplicateKey(text)
	}
	return b.Bytes(), nil
}

// ErrDuplicateKey is matched by the error of CanonicalJSON for a text that gives a key twice in one object.
var ErrDuplicateKey = errors.New("seal: canonical JSON: a key given twice in one object (a jsonb value never holds one)")

// countKeys counts the object keys of a decoded value, at every depth.
func countKeys(v any) int {
	n := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			n += countKeys(e)
		}
	case map[string]any:
		n = len(v)
		for _, e := range v {
			n += countKeys(e)
		}
	}
	return n
}

// textKeys counts the object keys of a valid JSON text: its colons outside strings.
func textKeys(text []byte) int {
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
func duplicateKey(text []byte) error {
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

func writeCanonical(b *bytes.Buffer, v any) error {
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
		writeString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
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
			writeString(b, k)
			b.WriteByte(':')
			if err := writeCanonical(b, v[k]); err != nil {
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
func writeString(b *bytes.Buffer, s string) {
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

// canonicalNumber writes a JSON number as its value in one form: 0, or [-]D[.DDD]e<exp> with no leading or
// trailing zeros in the digits, so 100, 1e2, 1.00E+2 and 100.0 are all "1e2". The exponent is a big integer:
// a JSON text may hold any.
func canonicalNumber(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := new(big.Int)
	if hasExp {
		if _, ok := exp.SetString(strings.TrimPrefix(expText, "+"), 10); !ok {
			return "", fmt.Errorf("seal: canonical JSON: bad number %q", s)
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	// The value is 0.digits × 10^(exp + the position of the point).
	exp.Add(exp, big.NewInt(int64(len(intPart)-(len(intPart+frac)-len(digits)))))
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return "0", nil
	}
	if strings.Trim(digits, "0123456789") != "" {
		return "", fmt.Errorf("seal: canonical JSON: bad number %q", s)
	}
	// Normalize to D.DDD × 10^(exp-1).
	exp.Sub(exp, big.NewInt(1))
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte(digits[0])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('e')
	b.WriteString(exp.String())
	return b.String(), nil
}
