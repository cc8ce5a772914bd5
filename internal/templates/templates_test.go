package templates

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/auditrepo/auditrepo/internal/ir"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// Quoted column names may hold what the array syntax means something by; PostgreSQL must read each back whole.
func TestArrayLitRoundTrips(t *testing.T) {
	items := []string{"id", "a,b", `q"x`, `b\s`, " sp", "NULL", "null", "{x}", "two words", "é"}
	var got []string
	if err := pgtest.Empty(t).QueryRow(context.Background(), "SELECT "+arrayLit(items)).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, items) {
		t.Errorf("%s reads back as %q, want %q", arrayLit(items), got, items)
	}
}

// The generator refuses names containing ir.BodyQuote because the templates quote bodies with it: they must
// use no other dollar quote.
func TestBodyQuote(t *testing.T) {
	for _, f := range []string{"triggers.sql.tmpl", "audited.sql.tmpl"} {
		b, err := files.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range dollarTag.FindAllString(string(b), -1) {
			if tag != ir.BodyQuote {
				t.Errorf("%s quotes with %s, not ir.BodyQuote %s", f, tag, ir.BodyQuote)
			}
		}
	}
}

var dollarTag = regexp.MustCompile(`\$([A-Za-z_][A-Za-z_0-9]*)?\$`)

// A name printed in an SQL line comment stays on that line, whatever it holds.
func TestCommentKeepsTheLine(t *testing.T) {
	for _, name := range []string{"plain", `"odd table"`, "a\nDROP TABLE x; --", "a\rb", "tab\there"} {
		got := comment(name)
		if strings.ContainsFunc(got, unicode.IsControl) {
			t.Errorf("comment(%q) = %q holds a control character", name, got)
		}
		if !strings.ContainsFunc(name, unicode.IsControl) && got != name {
			t.Errorf("comment(%q) = %q, want it unchanged", name, got)
		}
	}
}

// An image is to_jsonb of the row without the excluded columns and with the redacted ones masked, and it names
// the columns in the order jsonb keeps its keys (so building it sorts nothing).
func TestImageIsTheRowsJSON(t *testing.T) {
	m := &ir.Model{Columns: []*ir.Column{{Name: "id"}, {Name: "secret", Exclude: true}, {Name: "note", Redact: true},
		{Name: "b"}, {Name: "a"}, {Name: "é"}, {Name: "Z"}, {Name: `q"x`}, {Name: "two words"}}}
	types := map[string]string{"id": "bigint", "secret": "text", "note": "text", "b": "text", "a": "numeric", "é": "timestamptz",
		"Z": "date", `q"x`: "jsonb", "two words": "boolean"}
	for i := range 100 {
		name := fmt.Sprintf("c%d", i)
		m.Columns = append(m.Columns, &ir.Column{Name: name})
		types[name] = [...]string{"int[]", "bigint", "text", "numeric"}[i%4]
	}
	var defs []string
	for _, c := range m.Columns {
		defs = append(defs, ident(c.Name)+" "+types[c.Name])
	}
	db := pgtest.Schema(t, "CREATE TABLE t ("+strings.Join(defs, ", ")+")")
	ctx := context.Background()
	// Every column gets a value of its type: its text form, from a jsonb of its own.
	if _, err := db.Exec(ctx, `INSERT INTO t SELECT * FROM jsonb_populate_record(NULL::t, jsonb_build_object(
		'id', 7, 'secret', 's3', 'note', 'n', 'b', 'x', 'a', 1.5, 'é', now(), 'Z', current_date, 'q"x', '{"k": [1]}'::jsonb,
		'two words', true, 'c0', '{1,2}', 'c1', 2, 'c2', 'y', 'c3', 2.5))`); err != nil {
		t.Fatal(err)
	}
	d := &data{m: m}
	img := "LATERAL (SELECT " + d.Image("x") + ") i"
	var same bool
	var keys []string
	if err := db.QueryRow(ctx, `SELECT to_jsonb(i) = to_jsonb(x) - 'secret' || '{"note": "[REDACTED]"}',
		array(SELECT jsonb_object_keys(to_jsonb(i))) FROM t x, `+img).Scan(&same, &keys); err != nil {
		t.Fatal(err)
	}
	if !same {
		t.Errorf("the image is not to_jsonb of the row, excluded and masked: %s", d.Image("x"))
	}
	rows, err := db.Query(ctx, "SELECT i.* FROM t x, "+img)
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	for _, f := range rows.FieldDescriptions() {
		named = append(named, f.Name)
	}
	rows.Close()
	if !slices.Equal(named, keys) {
		t.Errorf("the image names the columns in the order\n%q\njsonb keeps its keys in\n%q", named, keys)
	}
}
