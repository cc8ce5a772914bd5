package sqltext_test

import (
	"context"
	"testing"

	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// Each string, written as a literal, reads back from PostgreSQL (standard_conforming_strings on) as itself.
func TestLiteralRoundTrips(t *testing.T) {
	db := pgtest.Empty(t)
	var scs string
	if err := db.QueryRow(context.Background(), "SHOW standard_conforming_strings").Scan(&scs); err != nil || scs != "on" {
		t.Fatalf("standard_conforming_strings is %q (%v), want on: Literal leaves backslashes as they are", scs, err)
	}
	for _, s := range []string{
		"", "plain", "'", "''", "it's", "'quoted'", `\`, `\'`, `'\`, `C:\path\n\t\x00 \\server`, "a\nb\r\nc\td",
		"é ü 日本語 🦷", "'); DROP TABLE audit_log; --", "$$ $ar$ E'\\x' /* */ U&'\\0041'", "\"ident\"",
	} {
		var got string
		if err := db.QueryRow(context.Background(), "SELECT "+sqltext.Literal(s)).Scan(&got); err != nil {
			t.Errorf("SELECT %s: %v", sqltext.Literal(s), err)
			continue
		}
		if got != s {
			t.Errorf("SELECT %s reads back as %q, want %q", sqltext.Literal(s), got, s)
		}
	}
}

// PostgreSQL text holds no NUL: a literal with one is refused, not cut short at it.
func TestLiteralNUL(t *testing.T) {
	var got string
	err := pgtest.Empty(t).QueryRow(context.Background(), "SELECT "+sqltext.Literal("a\x00b")+" || 'c'").Scan(&got)
	if err == nil {
		t.Errorf("a literal with NUL read back as %q, want an error", got)
	}
	t.Log(err)
}

func TestBodyName(t *testing.T) {
	for name, want := range map[string]bool{
		"auditrepo_reviewer": true, "Clinic Trail": true, "o'brien": true, "ärzte": true, "$a$": true,
		"": false, "rv$ar$ || x": false, "a\nb": false, "a\tb": false, "a\x00b": false, "a\u0085b": false,
	} {
		if got := sqltext.BodyName(name); got != want {
			t.Errorf("BodyName(%q) = %v, want %v", name, got, want)
		}
	}
}
