package seal

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/auditrepo/auditrepo/internal/jsontree"
)

// fieldsFrom builds a row from fuzz input: each field is a length byte and a name, a length byte and a value;
// bit i of nulls makes field i NULL.
func fieldsFrom(data []byte, nulls uint8) []Field {
	var fs []Field
	take := func() []byte {
		if len(data) == 0 {
			return []byte{}
		}
		n := min(int(data[0])%8, len(data)-1)
		b := data[1 : 1+n]
		data = data[1+n:]
		return b
	}
	for i := 0; len(data) > 0 && i < 8; i++ {
		f := Field{Name: string(take()), Value: take()}
		if nulls&(1<<i) != 0 {
			f.Value = nil
		}
		fs = append(fs, f)
	}
	return fs
}

func sameFields(a, b []Field) bool {
	return slices.EqualFunc(a, b, func(x, y Field) bool {
		return x.Name == y.Name && (x.Value == nil) == (y.Value == nil) && bytes.Equal(x.Value, y.Value)
	})
}

// FuzzLeaf: two rows encode equal only if all their fields are equal, NULL distinct from empty (EncodeLeaf is the
// same encoding of its four fields).
func FuzzLeaf(f *testing.F) {
	f.Add([]byte("\x02id\x011"), []byte("\x02id\x011"), uint8(0), uint8(0))
	f.Add([]byte("\x01a\x00"), []byte("\x01a\x00"), uint8(1), uint8(0))
	f.Add([]byte("\x01a\x02bc\x01d\x00"), []byte("\x01a\x01b\x02cd\x00"), uint8(0), uint8(0))
	f.Add([]byte("\x01a\x00\x01b\x00"), []byte("\x01a\x00"), uint8(2), uint8(0))
	f.Fuzz(func(t *testing.T, a, b []byte, nullsA, nullsB uint8) {
		fa, fb := fieldsFrom(a, nullsA), fieldsFrom(b, nullsB)
		if got, want := bytes.Equal(EncodeRow(fa), EncodeRow(fb)), sameFields(fa, fb); got != want {
			t.Fatalf("rows %q and %q: equal encodings %v, equal rows %v", fa, fb, got, want)
		}
	})
}

// reserialize writes the value of a JSON text another way, as a server or a dump might: keys in reverse order,
// whitespace, every non-ASCII character and / escaped, numbers scaled (1.5 as 0.150E+1).
func reserialize(t *testing.T, text []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var write func(v any)
	str := func(s string) {
		b.WriteByte('"')
		for _, r := range s {
			switch {
			case r == '"' || r == '\\' || r == '/':
				b.WriteString(`\` + string(r))
			case r < 0x20 || r > 0x7e:
				for _, u := range utf16.Encode([]rune{r}) {
					fmt.Fprintf(&b, `\u%04X`, u)
				}
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	}
	write = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			slices.Reverse(keys)
			b.WriteString("{\n")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(" ,\n")
				}
				str(k)
				b.WriteString(" : ")
				write(v[k])
			}
			b.WriteString("\n}")
		case []any:
			b.WriteString("[ ")
			for i, e := range v {
				if i > 0 {
					b.WriteString(" , ")
				}
				write(e)
			}
			b.WriteString(" ]")
		case json.Number:
			c, err := canonicalNumber(string(v))
			if err != nil {
				t.Fatal(err)
			}
			mant, exp, ok := strings.Cut(c, "e")
			if !ok {
				b.WriteString("-0.0e7")
				return
			}
			neg := strings.HasPrefix(mant, "-")
			digits := strings.ReplaceAll(strings.TrimPrefix(mant, "-"), ".", "")
			e, _ := new(big.Int).SetString(exp, 10)
			if neg {
				b.WriteByte('-')
			}
			sign := "+"
			if e.Add(e, big.NewInt(1)).Sign() < 0 {
				sign = ""
			}
			fmt.Fprintf(&b, "0.%s0E%s%s", digits, sign, e)
		case string:
			str(v)
		default:
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(out)
		}
	}
	write(v)
	return []byte(b.String())
}

// FuzzCanonicalJSON: canonical(x) == canonical(reserialize(x)), and canonical is a fixed point.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b": 1, "a": [1.50, -0, 1e2, "é\u00e9"]}`, `"\ud83d\ude00/"`, `[1E-7, 0.000, 12.3400e+3]`,
		`{"a": 1, "a": 2}`, `{"x": {"z": null, "y": true}}`, `123456789012345678901234567890e-999999999999999999999`,
		deepJSON(10001, `{"a": `, `}`), deepJSON(12000, `[`, `]`), deepJSON(10500, `{"b": 1, "a": [`, `]}`)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, x []byte) {
		if _, err := jsontree.Parse(x); err != nil { // json.Valid, at any depth (FuzzCanonicalJSONMatchesBefore)
			return
		}
		c, err := CanonicalJSON(x)
		if errors.Is(err, ErrDuplicateKey) {
			return // refused: TestCanonicalJSONRefusesDuplicateKeys
		}
		if err != nil {
			t.Fatalf("canonical(%.200q): %v", x, err)
		}
		// A value in an array or an object canonicalizes as it does alone, at any depth.
		for _, w := range []struct{ open, close, before, after string }{{"[", "]", "[", "]"}, {` [ 1 , `, "]", "[1e0,", "]"},
			{`{"k": `, "}", `{"k":`, "}"}, {`{"z": 0, "a": `, `, "b": []}`, `{"a":`, `,"b":[],"z":0}`}} {
			got, err := CanonicalJSON([]byte(w.open + string(x) + w.close))
			if want := w.before + string(c) + w.after; err != nil || string(got) != want {
				t.Fatalf("canonical(%s%.200q%s) = %.200q, %v; want %.200q", w.open, x, w.close, got, err, want)
			}
		}
		if cc, err := CanonicalJSON(c); err != nil || !bytes.Equal(cc, c) {
			t.Fatalf("canonical(%.200q) = %.200q, canonical again %.200q, %v", x, c, cc, err)
		}
		if !json.Valid(x) {
			return // too deep for reserialize's encoding/json
		}
		r := reserialize(t, x)
		cr, err := CanonicalJSON(r)
		if err != nil {
			t.Fatalf("canonical(%q): %v", r, err)
		}
		if !bytes.Equal(c, cr) {
			t.Fatalf("canonical(%q) = %q, but canonical of its reserialization %q is %q", x, c, r, cr)
		}
		if cc, err := CanonicalJSON(c); err != nil || !bytes.Equal(cc, c) {
			t.Fatalf("canonical(%q) = %q, canonical again %q, %v", x, c, cc, err)
		}
	})
}

// deepJSON is null inside n levels: open n times, null, close n times.
func deepJSON(n int, open, close string) string {
	return strings.Repeat(open, n) + "null" + strings.Repeat(close, n)
}

// FuzzCanonicalJSONMatchesBefore: CanonicalJSON writes what it wrote when it decoded with encoding/json, for every
// text that one took, and refuses what it refused (but for depth: it takes texts of any depth).
func FuzzCanonicalJSONMatchesBefore(f *testing.F) {
	for _, s := range []string{`{"b": 1, "a": [1.50, -0, 1e2, "é\u00e9"]}`, `"\ud83d\ude00/"`, `"\ud83d x \udc00 \ud83d\u0041"`,
		`{"\u00e9": 1, "é\u0000": 2, "e": "\"\\\/\b\f\n\r\t"}`, "\"\xff\xed\xa0\x80 ok\"", `{"a": 1, "a": 2}`, ` [ 1 , { } ] `,
		`01`, `1.`, `-`, `.5`, `1e`, `tru`, `nul`, `[1,]`, `{"a" 1}`, `{"a":1,}`, `"a` + "\x01" + `"`, `"\x"`, `"\u12g4"`, `[] []`,
		`{"x": {"y": [{"b": 2, "a": {"d": [], "c": {}}}]}}`, `{"a\"": 1, "a": 2, "a\\": 3, "a ": 4, "A": 5}`, "\ufeff1", ``, ` `,
		deepJSON(9000, `{"k": [`, `]}`)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, x []byte) {
		want, wantErr := canonicalJSONBefore(x)
		got, err := CanonicalJSON(x)
		switch {
		case wantErr == nil && (err != nil || !bytes.Equal(got, want)):
			t.Fatalf("canonical(%.200q) = %.200q, %v; was %.200q", x, got, err, want)
		case wantErr != nil && strings.Contains(wantErr.Error(), "exceeded max depth"):
			// The old one stopped at depth 10,000, before the rest: TestCanonicalJSONDeep.
		case wantErr != nil && err == nil:
			t.Fatalf("canonical(%.200q) = %.200q, was refused: %v", x, got, wantErr)
		case wantErr != nil && errors.Is(wantErr, ErrDuplicateKey) != errors.Is(err, ErrDuplicateKey):
			t.Fatalf("canonical(%.200q) = %.200v, was %.200v", x, err, wantErr)
		}
	})
}

// TestCanonicalJSONDeep: a text nested deeper than encoding/json decodes (10,000 levels), as PostgreSQL stores
// and an audit row wraps a client's value, is canonicalized as a shallow one is, level by level; a key twice at
// the bottom is still refused.
func TestCanonicalJSONDeep(t *testing.T) {
	const n = 100000
	for _, c := range []struct{ text, want string }{
		{deepJSON(n, "[ ", " ]"), deepJSON(n, "[", "]")},
		{deepJSON(n, `{"k": `, `}`), deepJSON(n, `{"k":`, `}`)},
		{deepJSON(n, `{"z": 1.0, "a": [ `, ` ] }`), deepJSON(n, `{"a":[`, `],"z":1e0}`)},
	} {
		got, err := CanonicalJSON([]byte(c.text))
		if err != nil || string(got) != c.want {
			t.Errorf("canonical of a %d-deep text: %.40q..., %v; want %.40q...", n, got, err, c.want)
		}
	}
	dup := strings.Repeat(`[`, n) + `{"a": 1, "a": 2}` + strings.Repeat(`]`, n)
	if _, err := CanonicalJSON([]byte(dup)); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("a key twice at depth %d: %v, want ErrDuplicateKey", n, err)
	}
	for _, bad := range []string{strings.Repeat(`[`, n) + strings.Repeat(`]`, n-1), strings.Repeat(`[`, n-1) + strings.Repeat(`]`, n),
		strings.Repeat(`{"a":`, n) + "1" + strings.Repeat(`]`, n)} {
		if _, err := CanonicalJSON([]byte(bad)); err == nil {
			t.Errorf("an unbalanced %d-deep text was taken", n)
		}
	}
}

// TestCanonicalJSONMatchesJSONB: what jsonb stores of a text, and what json keeps, canonicalize as the text does.
// (A text with a key twice is refused; jsonb keeps the last: {"a": 1, "a": 2} is stored as {"a": 2}.)
func TestCanonicalJSONMatchesJSONB(t *testing.T) {
	tr := newTrail(t)
	for _, x := range []string{
		`{"b": 1, "a": [1.50, -0, 1e2, 1E+2, 100.0, -1.5e-3, 123456789012345678901234567890.5]}`,
		`{"name": "\u00e9t\u00e9 \ud83d\ude00 \/ \" \\ \n", "z": {"y": null, "x": [true, false, {}]}}`,
		`{"a": 2}`, `[]`, `"text"`, `0.000001`, `1e-10`,
	} {
		want, err := CanonicalJSON([]byte(x))
		if err != nil {
			t.Fatal(err)
		}
		var jsonb, js string
		if err := tr.db.QueryRow(context.Background(), "SELECT $1::jsonb::text, $1::json::text", x).Scan(&jsonb, &js); err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{jsonb, js} {
			if got, err := CanonicalJSON([]byte(text)); err != nil || !bytes.Equal(got, want) {
				t.Errorf("canonical(%s) = %s, %v; canonical(%s) = %s", text, got, err, x, want)
			}
		}
	}
}

// TestLeafVectors pins the row and leaf encodings and hashes: a change to either is a new format (and domain).
func TestLeafVectors(t *testing.T) {
	row := []Field{{Name: "id", Value: []byte("7")}, {Name: "user_agent", Value: nil}, {Name: "ip", Value: []byte{}}}
	wantRow := "auditrepo audit row v2\n\x03\x02id\x027\x0auser_agent\x00\x02ip\x01"
	if got := string(EncodeRow(row)); got != wantRow {
		t.Fatalf("EncodeRow = %q, want %q", got, wantRow)
	}
	rh := RowHash(row)
	k := Key{XID: 750, ID: 7}
	at := time.Date(2024, 3, 5, 6, 7, 8, 9000, time.FixedZone("", 3600))
	wantLeaf := "auditrepo audit leaf v2\n\x04\x0etransaction_id\x04750\x02id\x027\x0boccurred_at\x1c2024-03-05T05:07:08.000009Z" +
		"\x03row\x21" + string(rh)
	if got := string(EncodeLeaf(k, at, rh)); got != wantLeaf {
		t.Fatalf("EncodeLeaf = %q, want %q", got, wantLeaf)
	}
	for _, c := range []struct {
		got  []byte
		want string
	}{
		{rh, "456403778fad08c4c941c6e7848ff524a85031fa3292e1dac22e91424286d54f"},
		{LeafHash(k, at, rh), "2e2b16b44f474edd93066064d2c94ea88de4c9196ea5946169283c3dac392973"},
	} {
		if hex.EncodeToString(c.got) != c.want {
			t.Errorf("hash %x, want %s", c.got, c.want)
		}
	}
}

// TestFormatTime: FormatTime writes what parseTime reads, as readTable reads a timestamptz, BC years included.
func TestFormatTime(t *testing.T) {
	for _, s := range []string{"2024-03-05T05:07:08.000009Z", "0001-01-01T00:00:00.000000Z", "0001-02-29T12:00:00.250000Z BC",
		"0044-03-15T11:00:00.000000Z BC", "4713-01-01T00:00:00.000000Z BC", "9999-12-31T23:59:59.999999Z"} {
		at, err := parseTime(s)
		if err != nil {
			t.Fatalf("parseTime(%q): %v", s, err)
		}
		if got := FormatTime(at); got != s {
			t.Errorf("FormatTime(parseTime(%q)) = %q", s, got)
		}
	}
}

// tooYoung allows the database's clock a day ahead of the verifier's, and no more.
func TestTooYoung(t *testing.T) {
	now := time.Date(2032, 3, 1, 0, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		end  time.Time
		want bool
	}{
		{time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), false},  // a month that ended six years and a month ago
		{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), false},  // six years ago, by the verifier's clock
		{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), false}, // the database's clock half a day ahead
		{time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), true},   // two days under six years
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		if got := tooYoung(c.end, now); got != c.want {
			t.Errorf("tooYoung(%s, %s) = %v, want %v", c.end, now, got, c.want)
		}
	}
}
