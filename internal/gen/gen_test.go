package gen

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden runs the generator on each case under testdata/golden and compares its output (or its
// error messages) with the case's golden files. Refresh them with go test ./internal/gen -update.
func TestGolden(t *testing.T) {
	root := filepath.Join("..", "..")
	cases, err := filepath.Glob(filepath.Join(root, "testdata", "golden", "*", "models.go"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, c := range cases {
		dir := filepath.Dir(c)
		name := filepath.Base(dir)
		if name == "db" {
			continue // sqlc's output, the cases' shared input
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := Render(root, Options{
				Models:  filepath.Join("testdata", "golden", name),
				SQLC:    filepath.Join("testdata", "golden", "db"),
				Queries: filepath.Join("testdata", "golden", "queries"),
				Out:     "repo",
			})
			wantErr := strings.HasPrefix(name, "err_")
			switch {
			case wantErr && err == nil:
				t.Fatalf("generation succeeded; want errors")
			case !wantErr && err != nil:
				t.Fatalf("generation failed:\n%v", err)
			case wantErr:
				golden(t, filepath.Join(dir, "errors.golden"), []byte(err.Error()+"\n"))
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

// TestGoldenOutputCompiles builds and vets what the "ok" cases generate, as a package of this module: the
// golden files show the text, this shows it is valid Go against the runtime and sqlc's package.
func TestGoldenOutputCompiles(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, name := range []string{"ok", "ok_self"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := Render(root, Options{
				Models:  filepath.Join("testdata", "golden", name),
				SQLC:    filepath.Join("testdata", "golden", "db"),
				Queries: filepath.Join("testdata", "golden", "queries"),
				Out:     "repo",
			})
			if err != nil {
				t.Fatal(err)
			}
			// Inside the module (testdata keeps it out of ./...), so its imports resolve as the real output's do.
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			dir, err := os.MkdirTemp("testdata", "compile-"+name+"-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				os.RemoveAll(dir)
				os.Remove("testdata") // only if no other case still uses it
			})
			for n, src := range files {
				if err := os.WriteFile(filepath.Join(dir, n), src, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, err := exec.Command("go", "vet", "./"+filepath.ToSlash(dir)).CombinedOutput()
			if err != nil {
				t.Errorf("go vet of the generated package: %v\n%s", err, out)
			}
		})
	}
}
