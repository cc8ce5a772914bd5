package templates

import (
	"context"
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
