package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/auditrepo/auditrepo/internal/jsontree"
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
//
// It takes a text of any depth, without recursion: PostgreSQL stores values deeper than encoding/json's limit of
// 10,000 levels (an audit row wraps a client's JSON in two more), and every row the database wrote must seal.
// Its output is what it was when it decoded with encoding/json (a leaf of an old seal must still verify):
// strings are decoded as encoding/json decodes them (invalid UTF-8 and lone surrogates as U+FFFD) and keys sorted
// by their decoded bytes.
func CanonicalJSON(text []byte) ([]byte, error) {
	nodes, err := jsontree.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("seal: canonical JSON: %w", err)
	}
	c := canonicalizer{text: text, nodes: nodes, out: make([]byte, 0, len(text))}
	if err := c.run(); err != nil {
		return nil, err
	}
	return c.out, nil
}

// ErrDuplicateKey is matched by the error of CanonicalJSON for a text that gives a key twice in one object.
var ErrDuplicateKey = errors.New("seal: canonical JSON: a key given twice in one object (a jsonb value never holds one)")

type canonicalizer struct {
	text  []byte
	nodes []jsontree.Node
	out   []byte
	// members holds the sorted members of every open object, innermost last (a stack: an object's are
	// dropped when it ends).
	members []member
	stack   []frame
}

// member is an object's member: its decoded key and its value's node.
type member struct {
	key  []byte
	node int32
}

// frame is an open container: an array's next element (-1 after the last), or an object's members
// members[lo:hi] with the next at next.
type frame struct {
	obj          bool
	next, lo, hi int32
	started      bool // an element or member was written
}

func (c *canonicalizer) run() error {
	if err := c.open(0); err != nil {
		return err
	}
	for len(c.stack) > 0 {
		f := &c.stack[len(c.stack)-1]
		var n int32
		if f.obj {
			if f.next == f.hi {
				c.out = append(c.out, '}')
				c.members = c.members[:f.lo]
				c.stack = c.stack[:len(c.stack)-1]
				continue
			}
			m := c.members[f.next]
			f.next++
			if f.started {
				c.out = append(c.out, ',')
			}
			k := c.nodes[m.node]
			if k.PlainKey {
				c.out = append(c.out, c.text[k.Key:k.KeyEnd]...)
			} else {
				c.out = appendString(c.out, m.key)
			}
			c.out = append(c.out, ':')
			n = m.node
		} else {
			if f.next < 0 {
				c.out = append(c.out, ']')
				c.stack = c.stack[:len(c.stack)-1]
				continue
			}
			n = f.next
			f.next = c.nodes[n].Next
			if f.started {
				c.out = append(c.out, ',')
			}
		}
		f.started = true
		if err := c.open(n); err != nil { // f may move: not used after
			return err
		}
	}
	return nil
}

// open writes a scalar whole, or a container's opening bracket, pushing its frame.
func (c *canonicalizer) open(i int32) error {
	n := &c.nodes[i]
	raw := c.text[n.Start:n.End]
	switch n.Kind {
	case jsontree.Null:
		c.out = append(c.out, "null"...)
	case jsontree.True:
		c.out = append(c.out, "true"...)
	case jsontree.False:
		c.out = append(c.out, "false"...)
	case jsontree.Number:
		s, err := canonicalNumber(string(raw))
		if err != nil {
			return err
		}
		c.out = append(c.out, s...)
	case jsontree.String:
		if n.Plain {
			c.out = append(c.out, raw...)
			break
		}
		s, err := jsontree.Unquote(raw)
		if err != nil {
			return fmt.Errorf("seal: canonical JSON: %w", err)
		}
		c.out = appendString(c.out, []byte(s))
	case jsontree.Array:
		c.out = append(c.out, '[')
		c.stack = append(c.stack, frame{next: n.First})
	case jsontree.Object:
		c.out = append(c.out, '{')
		lo := int32(len(c.members))
		for k := n.First; k >= 0; k = c.nodes[k].Next {
			m := &c.nodes[k]
			key := c.text[m.Key+1 : m.KeyEnd-1]
			if !m.PlainKey {
				s, err := jsontree.Unquote(c.text[m.Key:m.KeyEnd])
				if err != nil {
					return fmt.Errorf("seal: canonical JSON: %w", err)
				}
				key = []byte(s)
			}
			c.members = append(c.members, member{key: key, node: k})
		}
		ms := c.members[lo:]
		slices.SortFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) })
		for j := 1; j < len(ms); j++ {
			if bytes.Equal(ms[j-1].key, ms[j].key) {
				return fmt.Errorf("%w: %q", ErrDuplicateKey, ms[j].key)
			}
		}
		c.stack = append(c.stack, frame{obj: true, next: lo, lo: lo, hi: int32(len(c.members))})
	default:
		return fmt.Errorf("seal: canonical JSON: unexpected value kind %d", n.Kind)
	}
	return nil
}

// appendString writes a decoded string escaping only what JSON requires (", \ and control characters, as
// \u00XX), so every string has one encoding (decoding replaced invalid UTF-8 with U+FFFD).
func appendString(b []byte, s []byte) []byte {
	b = append(b, '"')
	for _, r := range string(s) {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = fmt.Appendf(b, "\\u%04x", r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
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
