package auditschema_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// The generated triggers compare and print each column by the type the schema files declare it (Table.Types):
// installing refuses a column whose database type is another, or a declared type the database does not have, naming
// the column, both types and the fix. It accepts columns of their declared types: a domain as itself, an array as
// its element type's array, an enum of a schema whose name needs quoting; an unqualified name as PostgreSQL resolves
// it, in pg_catalog first (whatever public has under the name), else in public; and leaves unchecked the columns the
// generator did not read (no entry in Types).
func TestInstallModelsChecksColumnTypes(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	var citext bool
	if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'citext')").Scan(&citext); err != nil {
		t.Fatal(err)
	}
	email := "text"
	if citext {
		email = "citext"
		if _, err := db.Exec(ctx, "CREATE EXTENSION citext"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `CREATE DOMAIN public.loose AS text; CREATE DOMAIN public.int8 AS text;
		CREATE SCHEMA "Odd"; GRANT USAGE ON SCHEMA "Odd" TO auditrepo_owner, auditrepo_app;
		CREATE TYPE "Odd"."Mood" AS ENUM ('calm');
		CREATE TABLE typed (id bigint PRIMARY KEY, temp double precision, email `+email+`, secret public.loose,
			tooth char(3), tags text[], mood "Odd"."Mood", note text, unread point, count int8, shadow public.int8, kind "char");
		ALTER TABLE typed OWNER TO auditrepo_owner; GRANT SELECT, INSERT, UPDATE, DELETE ON typed TO auditrepo_app`); err != nil {
		t.Fatal(err)
	}
	cols := []string{"id", "temp", "email", "secret", "tooth", "tags", "mood", "note", "unread", "count", "shadow", "kind"}
	right := map[string]string{"id": "pg_catalog.int8", "temp": "pg_catalog.float8", "email": email,
		"secret": "loose", "tooth": "pg_catalog.bpchar", "tags": "text[]", "mood": `"Odd"."Mood"`, "note": "text",
		"count": "int8", "shadow": "public.int8", "kind": `"char"`}
	wrong := map[string]string{"id": "pg_catalog.int8", "temp": "pg_catalog.int8", "email": "text",
		"secret": "pg_catalog.text", "tooth": "text", "tags": "text", "mood": `"Odd".mood`, "note": "nosuch",
		"count": "public.int8", "shadow": "int8", "kind": "bpchar"}
	models := func(types map[string]string) auditschema.Models {
		return auditschema.Models{Schema: "auditrepo", SQL: "SELECT 1",
			// The generator's verdicts for the right types: temp and unread may print floats; email (citext),
			// secret (a domain) and tags (an array) compare by their text too; tooth, a char, by its length too.
			Tables: []auditschema.Table{{Name: "public.typed", Columns: cols, Types: types, FloatDigits: true,
				ByText: []string{"email", "secret", "tags", "unread"}, Exact: []string{"tooth", "mood", "note", "kind"}, ByLength: []string{"tooth"}}}}
	}
	err := auditschema.InstallModels(ctx, db, auditschema.Config{}, models(wrong))
	var nr *auditschema.NotReadyError
	if !errors.As(err, &nr) {
		t.Fatalf("InstallModels with other types = %v, want a NotReadyError", err)
	}
	const declares = ", which the schema the models were generated from declares of type "
	want := []string{
		"table public.typed has column temp of type double precision" + declares + "bigint",
		"table public.typed has column secret of type public.loose" + declares + "text",
		"table public.typed has column tooth of type character" + declares + "text",
		"table public.typed has column tags of type text[]" + declares + "text",
		`table public.typed has column mood of type "Odd"."Mood"` + declares + `"Odd".mood, a type the database does not have`,
		"table public.typed has column note of type text" + declares + "nosuch, a type the database does not have",
		"table public.typed has column count of type bigint" + declares + "public.int8",
		"table public.typed has column shadow of type public.int8" + declares + "bigint",
		`table public.typed has column kind of type "char"` + declares + "character",
	}
	if citext {
		want = append(want, "table public.typed has column email of type public.citext"+declares+"text")
	}
	if len(nr.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(nr.Problems), len(want), err)
	}
	for _, w := range want {
		found := false
		for _, p := range nr.Problems {
			found = found || strings.HasPrefix(p.What, w) && p.Fix == "regenerate from the schema the database has: the generator compares and prints the column by its type"
		}
		if !found {
			t.Errorf("no problem %q with the fix to regenerate:\n%v", w, err)
		}
	}
	if err := auditschema.InstallModels(ctx, db, auditschema.Config{}, models(right)); err != nil {
		t.Fatalf("InstallModels with the columns' types: %v", err)
	}
}

// The generator decides from each column's declared type how the triggers compare and print it (Table.Exact,
// ByText, ByLength, FloatDigits). A schema file run otherwise than the generator read it (a schema renamed onto
// another's, a search_path) can give a column, under its declared type's name, a type those verdicts do not fit:
// installing refuses, seeing through domains (and arrays, but for char's padding), a column compared by equality
// alone whose type's equality may hold values that differ (a citext or numeric domain taken for an enum, citext
// outside ByText), an unbounded bpchar outside ByLength (a domain over it, whose changes of trailing spaces alone
// the triggers would miss), and a column that may print floats in a table whose trigger does not pin
// extra_float_digits (a float, a geometric type, an extension's base type, or a domain, array, composite, range or
// multirange holding one). It accepts what fits: an enum, text, varchar, char(n), name and "char" compared by
// equality alone, a domain over char(n) (padded on storage) or a bpchar array outside ByLength, and floats where
// the trigger pins extra_float_digits.
func TestInstallModelsChecksVerdicts(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	var citext bool
	if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'citext')").Scan(&citext); err != nil {
		t.Fatal(err)
	}
	ci := "text COLLATE \"C\"" // a stand-in string type whose equality is exact: citext's case is skipped without it
	if citext {
		if _, err := db.Exec(ctx, "CREATE EXTENSION citext"); err != nil {
			t.Fatal(err)
		}
		ci = "citext"
	}
	if _, err := db.Exec(ctx, `CREATE TYPE mood AS ENUM ('calm');
		CREATE DOMAIN ci_mood AS `+ci+`; CREATE DOMAIN num_mood AS numeric; CREATE DOMAIN float_mood AS float8;
		CREATE DOMAIN pad AS bpchar; CREATE DOMAIN pad2 AS pad; CREATE DOMAIN pad3 AS char(3);
		CREATE TYPE spot AS (label text, at point); CREATE TYPE labelled AS (label text, n int);
		CREATE TYPE floatrange AS RANGE (subtype = float8);
		CREATE TABLE v (id bigint PRIMARY KEY,
			e mood, t text, vc varchar(3), c char(3), n name, k "char", cim ci_mood, num num_mood, ci `+ci+`, cis `+ci+`[],
			p pad, p2 pad2, p3 pad3, pa bpchar[], b bpchar,
			f float_mood, fa float8[], pt point, sp spot, fr floatrange, fm floatmultirange,
			i int, lb labelled, ir int4range, j jsonb);
		ALTER TABLE v OWNER TO auditrepo_owner; GRANT SELECT, INSERT, UPDATE, DELETE ON v TO auditrepo_app`); err != nil {
		t.Fatal(err)
	}
	cols := []string{"id", "e", "t", "vc", "c", "n", "k", "cim", "num", "ci", "cis", "p", "p2", "p3", "pa", "b",
		"f", "fa", "pt", "sp", "fr", "fm", "i", "lb", "ir", "j"}
	problems := func(tbl auditschema.Table) []string {
		t.Helper()
		tbl.Name, tbl.Columns = "public.v", cols
		err := auditschema.InstallModels(ctx, db, auditschema.Config{}, auditschema.Models{Schema: "auditrepo", SQL: "SELECT 1", Tables: []auditschema.Table{tbl}})
		if err == nil {
			return nil
		}
		var nr *auditschema.NotReadyError
		if !errors.As(err, &nr) {
			t.Fatalf("InstallModels = %v, want a NotReadyError", err)
		}
		var out []string
		for _, p := range nr.Problems {
			out = append(out, p.What+"; fix: "+p.Fix)
		}
		return out
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d problems, want %d:\n%s", what, len(got), len(want), strings.Join(got, "\n"))
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || strings.HasPrefix(g, w)
			}
			if !found {
				t.Errorf("%s: no problem %q in:\n%s", what, w, strings.Join(got, "\n"))
			}
		}
	}
	const (
		alone  = ", which the audit triggers compare by equality alone, the generator having read its declared type as "
		exact  = "one whose equality is exact (text, varchar or char with no COLLATE clause, or an enum): the equality of "
		noStr  = "no string type: the equality of "
		pad    = ", a char (bpchar) with no length, whose equality and text drop trailing spaces that its values keep"
		floats = ", which may print floats (of type "
	)
	strs := []string{"t", "vc", "c", "n", "k", "cim", "num", "ci", "cis", "p", "p2", "p3", "pa", "b"}
	byLen := []string{"c", "b"}

	// Every string column compared by equality alone, as an enum or text: the citext and numeric domains refused.
	want := []string{"table public.v has column num of type public.num_mood (over numeric)" + alone + exact + "numeric",
		// An array of unbounded char: its equality drops its elements' trailing spaces.
		"table public.v has column pa of type character[] (over character)" + alone + exact + "character"}
	if citext {
		want = append(want, "table public.v has column cim of type public.ci_mood (over public.citext)"+alone+exact+"public.citext",
			"table public.v has column ci of type public.citext"+alone+exact+"public.citext",
			"table public.v has column cis of type public.citext[] (over public.citext)"+alone+exact+"public.citext")
	}
	check("exact", problems(auditschema.Table{Exact: append([]string{"e"}, strs...), ByLength: []string{"c", "b", "p", "p2"}, FloatDigits: true}), want...)

	// Compared by equality alone, taken for no string: citext (an array of it too) and the array of unbounded char
	// refused, the rest accepted.
	want = []string{"table public.v has column pa of type character[] (over character)" + alone + noStr + "character"}
	if citext {
		for _, c := range []string{"cim", "ci", "cis"} {
			typ := map[string]string{"cim": "public.ci_mood (over public.citext)", "ci": "public.citext", "cis": "public.citext[] (over public.citext)"}[c]
			want = append(want, "table public.v has column "+c+" of type "+typ+alone+noStr+"public.citext")
		}
	}
	check("no string", problems(auditschema.Table{ByLength: []string{"c", "b", "p", "p2"}, FloatDigits: true}), want...)

	// Compared by their text too, char(3) and bpchar by their length: the domains over bpchar refused, the domain
	// over char(3) and the array accepted.
	check("padded", problems(auditschema.Table{ByText: strs, ByLength: byLen, FloatDigits: true}),
		"table public.v has column p of type public.pad (over character)"+pad,
		"table public.v has column p2 of type public.pad2 (over character)"+pad)
	// bpchar itself, outside ByLength: refused with the fix.
	check("bpchar", problems(auditschema.Table{ByText: strs, ByLength: []string{"p", "p2"}, FloatDigits: true}),
		"table public.v has column b of type character"+pad+": the generator did not read its declared type as char, so the audit triggers do not compare its length, and a change of trailing spaces alone ('a' to 'a  ') would write no audit row; fix: declare the column of type bpchar or char in the schema files (not through a domain) and regenerate, or give its type a length (char(n) pads its values to it)")

	// No float pinned: each type that may print floats refused (a composite, a range and a multirange holding one
	// too; citext, an extension's base type, for all the catalog tells), the others (int, a composite of text and
	// int, int4range, jsonb, the strings) accepted.
	want = []string{
		"table public.v has column f of type public.float_mood (over double precision)" + floats + "double precision)",
		"table public.v has column fa of type double precision[] (over double precision)" + floats + "double precision)",
		"table public.v has column pt of type point" + floats + "point)",
		"table public.v has column sp of type public.spot" + floats + "point)",
		"table public.v has column fr of type public.floatrange" + floats + "double precision)",
		"table public.v has column fm of type public.floatmultirange" + floats + "double precision)",
	}
	if citext {
		want = append(want, "table public.v has column cim of type public.ci_mood (over public.citext)"+floats+"public.citext)",
			"table public.v has column ci of type public.citext"+floats+"public.citext)",
			"table public.v has column cis of type public.citext[] (over public.citext)"+floats+"public.citext)")
	}
	check("floats", problems(auditschema.Table{ByText: strs, ByLength: []string{"c", "b", "p", "p2"}}), want...)

	// The verdicts that fit install.
	check("fit", problems(auditschema.Table{Exact: []string{"e", "t", "vc", "c", "n", "k"}, ByText: []string{"cim", "num", "ci", "cis", "p", "p2", "p3", "pa", "b"},
		ByLength: []string{"c", "b", "p", "p2"}, FloatDigits: true}))
}
