package load

import (
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestScanFile reads headers as sqlc does: "-- name:" and "/* name: */" lines, each query's text its own
// statement from its header line on.
func TestScanFile(t *testing.T) {
	src := "-- name: A :copyfrom\nINSERT INTO t (a) VALUES ($1);\n" +
		"/* name: B :exec */\nDELETE FROM t;\n" +
		"SELECT 1; -- name: NotAHeader :exec\n" +
		"  -- name: Indented :exec\nSELECT 2;\n" +
		"-- a comment\n-- name: C :one\nSELECT 3 -- no semicolon"
	path := filepath.Join(t.TempDir(), "q.sql")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	qs := map[string]Query{}
	if err := scanFile(path, "q.sql", qs); err != nil {
		t.Fatal(err)
	}
	want := map[string]Query{
		"A": {Cmd: ":copyfrom", Text: "-- name: A :copyfrom\nINSERT INTO t (a) VALUES ($1)"},
		"B": {Cmd: ":exec", Text: "/* name: B :exec */\nDELETE FROM t"},
		"C": {Cmd: ":one", Text: "-- name: C :one\nSELECT 3 -- no semicolon"},
	}
	lines := map[string]int{"A": 1, "B": 3, "C": 9}
	if len(qs) != len(want) {
		t.Errorf("queries %v, want A, B and C", qs)
	}
	for name, w := range want {
		q := qs[name]
		if q.Cmd != w.Cmd || q.Text != w.Text || q.Pos.Line != lines[name] || q.Pos.Column != 1 || q.Pos.Filename != "q.sql" {
			t.Errorf("%s: %+v, want %+v at line %d", name, q, w, lines[name])
		}
	}
}

// TestPaths expands glob patterns as sqlc does and points at a path that does not exist.
func TestPaths(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cfg/q/a.sql", "cfg/q/b.sql", "cfg/q/.hidden.sql", "cfg/q/c.down.sql", "cfg/q/notes.txt"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := []token.Position{{Filename: "cfg/sqlc.yaml", Line: 5, Column: 14}, {Filename: "cfg/sqlc.yaml", Line: 6, Column: 14}}
	got, err := Paths(dir, "cfg", []string{"q/*", "q"}, at)
	if want := []string{"cfg/q/a.sql", "cfg/q/b.sql", "cfg/q"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Paths: %q, %v; want %q", got, err, want)
	}
	_, err = Paths(dir, "cfg", []string{"q/[", "missing"}, at)
	want := "cfg/sqlc.yaml:5:14: sqlc path q/[: syntax error in pattern\ncfg/sqlc.yaml:6:14: sqlc path missing: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("Paths: %v; want\n%s", err, want)
	}
}

// TestScanSchemas reads the schema's files in order: an enum one file creates types a column of another, whose
// equality is then exact, until a later file retypes it; a later file's renames of the table and of a column keep
// the columns' declarations, under the names they are left with.
func TestScanSchemas(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"1_types.sql":  "CREATE TYPE mood AS ENUM ('calm'); CREATE DOMAIN short AS text;",
		"2_tables.sql": "CREATE TABLE people (id bigint, kind mood, s short, name text, email text, tone mood, tooth char(3));",
		"3_later.sql":  "ALTER TABLE people ALTER COLUMN email TYPE text COLLATE \"C\", ALTER COLUMN tone TYPE short;",
		"4_rename.sql": "ALTER TABLE people RENAME TO persons; ALTER TABLE persons RENAME COLUMN name TO full_name;",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := &Input{}
	if err := scanSchemas(dir, []string{"."}, in); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"public.persons.id": false, "public.persons.kind": true, "public.persons.s": false,
		"public.persons.full_name": true, "public.persons.email": false, "public.persons.tone": false, "public.persons.tooth": true}
	if !maps.Equal(in.ExactText, want) {
		t.Errorf("ExactText = %v, want %v", in.ExactText, want)
	}
	if padded := maps.Collect(func(yield func(string, bool) bool) {
		for k, v := range in.Padded {
			if v && !yield(k, v) {
				return
			}
		}
	}); !maps.Equal(padded, map[string]bool{"public.persons.tooth": true}) {
		t.Errorf("Padded = %v, want public.persons.tooth and no other", in.Padded)
	}
	types := map[string]string{"public.persons.id": "pg_catalog.int8", "public.persons.kind": "public.mood", "public.persons.s": "public.short",
		"public.persons.full_name": "text", "public.persons.email": "text", "public.persons.tone": "public.short",
		"public.persons.tooth": "pg_catalog.bpchar"}
	if !maps.Equal(in.Types, types) {
		t.Errorf("Types = %v, want %v", in.Types, types)
	}
}

// TestLoadErrors: an error without a position is shown at its package unless it repeats positioned ones, and a
// sqlc package that does not compile gets what to do.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	sqlc := &packages.Package{PkgPath: "example.com/m/gen/db", GoFiles: []string{filepath.Join(dir, "gen/db/copyfrom.go")},
		Errors: []packages.Error{{Pos: "-", Msg: "# example.com/m/gen/db\ngen/db/copyfrom.go:12:5: undefined: ImportNotesParams"}}}
	// go list's error repeats the type checker's, which has a position: only that one is shown.
	models := &packages.Package{PkgPath: "example.com/m", GoFiles: []string{filepath.Join(dir, "models.go")},
		Errors: []packages.Error{{Pos: "-", Msg: "# example.com/m\nmodels.go:3:1: expected declaration"}, {Pos: "models.go:3:1", Msg: "expected declaration"}}}
	got := loadErrors([]*packages.Package{sqlc, models}, "gen/db", filepath.Join(dir, "gen/db"))
	want := []string{
		"example.com/m/gen/db: gen/db/copyfrom.go:12:5: undefined: ImportNotesParams",
		"gen/db: sqlc's package does not compile: run sqlc generate again, and delete the files in it that sqlc no longer writes (NAME.sql.go once queries file NAME.sql is renamed or removed, copyfrom.go once no query is :copyfrom, batch.go once none is :batch*)",
		"models.go:3:1: expected declaration",
	}
	if !slices.Equal(got, want) {
		t.Errorf("loadErrors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestScanSchemaReadsUpSections: a migration's rollback section, from its marker line on, is not schema (sqlc and
// the migration tools read the Up section alone): a column its Up section makes a float stays one for the
// generator, whatever the rollback section retypes it to. Each tool's marker is matched in any case, at a line's
// start only.
func TestScanSchemaReadsUpSections(t *testing.T) {
	up := "CREATE TABLE p (id bigint, temp numeric);\nALTER TABLE p ALTER COLUMN temp TYPE float8;\n"
	down := "ALTER TABLE p ALTER COLUMN temp TYPE numeric;\nCREATE TABLE rolled_back (id bigint);\n"
	for _, c := range []struct {
		name, text string
		floatFree  bool
	}{
		{"goose", "-- +goose Up\n" + up + "-- +goose Down\n" + down, false},
		{"goose lower case", "-- +goose up\n" + up + "-- +goose down\n" + down, false},
		{"goose CRLF", strings.ReplaceAll("-- +goose Up\n"+up+"-- +goose Down\n"+down, "\n", "\r\n"), false},
		{"sql-migrate", "-- +migrate Up\n" + up + "-- +migrate Down\n" + down, false},
		{"dbmate", "-- migrate:up\n" + up + "-- migrate:down\n" + down, false},
		{"tern", up + "---- create above / drop below ----\n" + down, false},
		// Not a marker where sqlc sees none: indented, or inside a line. The statements after it are schema.
		{"indented marker", up + "  -- +goose Down\n" + down, true},
		{"marker after SQL", up + "SELECT 1; -- +goose Down\n" + down, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "00001_p.sql"), []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			in := &Input{}
			if err := scanSchemas(dir, []string{"."}, in); err != nil {
				t.Fatal(err)
			}
			if got := in.FloatFree["public.p.temp"]; got != c.floatFree {
				t.Errorf("FloatFree[public.p.temp] = %v, want %v", got, c.floatFree)
			}
			if got := in.Tables["public.rolled_back"]; got != c.floatFree {
				t.Errorf("Tables[public.rolled_back] = %v, want %v", got, c.floatFree)
			}
		})
	}
}

// TestScanSchemaSkipsPsqlMetaCommands: psql's meta-commands (pg_dump writes \restrict and \connect lines) are no
// SQL, and sqlc drops them; the lines after them keep their numbers in an error's position.
func TestScanSchemaSkipsPsqlMetaCommands(t *testing.T) {
	dir := t.TempDir()
	text := "\\restrict abc123\n\\connect clinic\nCREATE TABLE p (id bigint, temp float8);\n\\unrestrict abc123\n"
	if err := os.WriteFile(filepath.Join(dir, "dump.sql"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	in := &Input{}
	if err := scanSchemas(dir, []string{"."}, in); err != nil {
		t.Fatal(err)
	}
	if !in.Tables["public.p"] || in.FloatFree["public.p.temp"] {
		t.Errorf("Tables %v, FloatFree %v: want table public.p, its temp not float-free", in.Tables, in.FloatFree)
	}
	if err := os.WriteFile(filepath.Join(dir, "dump.sql"), []byte(text+"\\connect other\nCREATE TABLE (;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := scanSchemas(dir, []string{"."}, &Input{})
	if err == nil || !strings.HasPrefix(err.Error(), "dump.sql:6:14: ") {
		t.Errorf("scanSchemas: %v; want an error at dump.sql:6:14", err)
	}
}
