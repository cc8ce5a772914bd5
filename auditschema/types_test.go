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
			Tables: []auditschema.Table{{Name: "public.typed", Columns: cols, Types: types}}}
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
