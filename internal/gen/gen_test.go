package gen

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/auditrepo/auditrepo/internal/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// cases lists the golden cases: each folder of testdata/golden holds its own schema, queries, models.go,
// sqlc.yaml and sqlc's output, and either want/ (the generated files) or stderr.golden (the exact errors).
func cases(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*", "sqlc.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	return names
}

// TestGolden runs the generator on each case and compares its output (or its error messages) with the case's
// golden files. Refresh them with go test ./internal/gen -update.
func TestGolden(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, "testdata", "golden", name)
			files, err := Render(root, caseOptions(name))
			wantErr := strings.HasPrefix(name, "err_")
			switch {
			case wantErr && err == nil:
				t.Fatalf("generation succeeded; want errors")
			case !wantErr && err != nil:
				t.Fatalf("generation failed:\n%v", err)
			case wantErr:
				golden(t, filepath.Join(dir, "stderr.golden"), []byte(err.Error()+"\n"))
				return
			}
			want := filepath.Join(dir, "want")
			if *update {
				os.RemoveAll(want)
			}
			names := make([]string, 0, len(files))
			for n, src := range files {
				names = append(names, n)
				golden(t, filepath.Join(want, n+".golden"), src)
			}
			sort.Strings(names)
			have, _ := filepath.Glob(filepath.Join(want, "*.golden"))
			if len(have) != len(names) {
				t.Errorf("golden files %v, generated %v", have, names)
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/gen -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the generated output:\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// TestGoldenOutputCompiles builds and vets what every "ok" case generates, as packages of this module: the golden
// files show the text, this shows it is valid Go against the runtime and the case's sqlc package.
func TestGoldenOutputCompiles(t *testing.T) {
	root := filepath.Join("..", "..")
	// Inside the module (testdata keeps it out of ./...), so imports resolve as the real output's do.
	tmp, err := os.MkdirTemp(filepath.Join(root, "testdata"), "compile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	var pkgs []string
	for _, name := range cases(t) {
		if strings.HasPrefix(name, "err_") {
			continue
		}
		files, err := Render(root, caseOptions(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dir := filepath.Join(tmp, name, "repo")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for n, src := range files {
			if err := os.WriteFile(filepath.Join(dir, n), src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(filepath.Join("testdata", filepath.Base(tmp), name, "repo")))
	}
	cmd := exec.Command("go", append([]string{"vet"}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go vet of the generated packages: %v\n%s", err, out)
	}
}

// TestGoldenStatementsRun executes every statement every "ok" case generates once, as the application role, on a
// database with the case's schema and its audit triggers: statements that only fail when run (a bulk INSERT
// whose splice broke the SQL, a name PostgreSQL resolves differently) fail here. Parameters are NULL, so an
// integrity or data error (SQLSTATE classes 23 and 22) is a run; any other error is not.
func TestGoldenStatementsRun(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, name := range cases(t) {
		if strings.HasPrefix(name, "err_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prog, err := Program(root, caseOptions(name))
			if err != nil {
				t.Fatal(err)
			}
			triggers, err := templates.Triggers(prog)
			if err != nil {
				t.Fatal(err)
			}
			_, app := caseDB(t, root, name, prog, triggers)
			ran := 0
			for _, m := range prog.Models {
				for _, w := range m.Writes {
					sql, err := templates.SQL(prog, w)
					if err != nil {
						t.Fatal(err)
					}
					if w.Many != nil {
						many, err := templates.ManySQL(prog, w)
						if err != nil {
							t.Fatal(err)
						}
						runNull(t, app, w.Many.Method, many, w.Many.ClaimAt-1)
						ran++
					}
					runNull(t, app, w.Query, sql, w.ClaimAt-1)
					ran++
				}
			}
			if ran == 0 {
				t.Fatal("the case generates no statement")
			}
		})
	}
}

// goldenActor is the claim's actor of the golden statements, a system job, as package audit formats it.
const goldenActor = `system,,,"golden",)`

// runNull runs sql with params NULL parameters and a system actor's claim, in a transaction it rolls back.
func runNull(t *testing.T, db *pgxpool.Pool, name, sql string, params int) {
	t.Helper()
	tx, err := db.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context()) //nolint:errcheck // always rolled back
	args := make([]any, params, params+1)
	args = append(args, goldenActor)
	rows, err := tx.Query(t.Context(), sql, args...)
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	var pe *pgconn.PgError
	if err != nil && !(errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "23") || strings.HasPrefix(pe.Code, "22"))) {
		t.Errorf("%s does not run: %v\n%s", name, err, sql)
	}
}

// TestGoldenStatementsVerbatim checks that every statement an "ok" case wraps is sqlc's statement byte for byte
// (comments, literals, ONLY, OVERRIDING, aliases and trailing comments kept): an UPDATE's or DELETE's pieces
// around its WHERE condition put back together, an INSERT's around its VALUES row, whose items are the SELECT's;
// any other INSERT with " RETURNING true" added after its last token when it has no RETURNING of its own.
func TestGoldenStatementsVerbatim(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, name := range cases(t) {
		if strings.HasPrefix(name, "err_") {
			continue
		}
		prog, err := Program(root, caseOptions(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, m := range prog.Models {
			for _, w := range m.Writes {
				_, want, _ := strings.Cut(w.SQLText, "\n") // after sqlc's "-- name:" line
				want = strings.TrimRight(strings.TrimSpace(want), ";")
				got := w.Body
				if w.Where != nil {
					got = w.Where.Head + w.Where.Cond + w.Where.Rest
				} else if sel := w.Select; sel != nil {
					// The items, put back in a VALUES row, must parse to sqlc's statement, and hold all of the row's
					// text but its parentheses, comments included (fingerprints ignore them), up to white space.
					v := w.Stmt.Insert.Values
					back := sel.Head + "VALUES (" + sel.Items + ")" + sel.Rest
					if f1, f2 := fingerprint(t, back), fingerprint(t, want); f1 != f2 {
						t.Errorf("%s: %s: SELECT %s is not the VALUES row of sqlc's statement", name, w.Query, sel.Items)
					}
					row := w.Stmt.Text[v.Start+len("VALUES"):v.Open] + " " + w.Stmt.Text[v.Open+1:v.End-1]
					if words := strings.Fields(sel.Items); !slices.Equal(words, strings.Fields(row)) {
						t.Errorf("%s: %s: SELECT %s is not the text of the VALUES row %s", name, w.Query, sel.Items, row)
					}
					got = sel.Head + w.Stmt.Text[v.Start:v.End] + sel.Rest
				} else if !w.Returns {
					at := w.Stmt.End - w.Stmt.Start
					if !strings.HasPrefix(got[at:], " RETURNING true") {
						t.Errorf("%s: %s: no RETURNING true after the last token:\n%s", name, w.Query, got)
						continue
					}
					got = got[:at] + got[at+len(" RETURNING true"):]
				}
				if got != want {
					t.Errorf("%s: %s wraps\n%s\nnot sqlc's statement\n%s", name, w.Query, got, want)
				}
			}
		}
	}
}

func fingerprint(t *testing.T, sql string) string {
	t.Helper()
	f, err := pg_query.Fingerprint(sql)
	if err != nil {
		t.Fatalf("%q: %v", sql, err)
	}
	return f
}
