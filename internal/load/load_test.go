package load

import (
	"os"
	"path/filepath"
	"testing"
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
