package externaltest

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// TestExternalModule copies testdata/external/vet (a veterinary practice: clients are patients, pets belong to a
// client, visits to a pet) into a temporary directory as module example.com/vet, with this module replacing
// github.com/auditrepo/auditrepo, and there: adds auditrepo-gen and sqlc as tools, runs go generate, go vet and
// the module's own test (vet_test.go), which installs the audit schema, its migrations and its models into a
// fresh database, writes through the generated repositories and raw, and reads the trail as the reviewer.
//
// go.sum is seeded from this module's, so nothing is downloaded that this module does not already use (except
// through GOPROXY, when the module cache is empty).
func TestExternalModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a separate module (about 10 s with a warm build cache, longer with a cold one); skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	dir := t.TempDir()
	if err := copyTree(filepath.Join(root, "testdata", "external", "vet"), dir); err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/vet\n\ngo 1.26.0\n\nreplace github.com/auditrepo/auditrepo => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}

	cfg := pgtest.Config()
	admin := pgtest.URL(cfg, cfg.User)
	env := append(os.Environ(),
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"),
		"GOWORK=off",
		"VET_ADMIN_URL="+admin,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(extraEnv []string, args ...string) string {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Env = append(env, extraEnv...)
		out, err := cmd.CombinedOutput()
		t.Logf("go %s (%s)", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// auditrepo resolves through the replace directive. GOPROXY=off: no proxy lookup of the candidate module
	// paths (github.com/auditrepo/auditrepo/cmd/...), which a proxy that answers 403 instead of 404 would fail.
	// Without the proxy, every go.mod of auditrepo's module graph must be in the module cache: listing the graph
	// of a copy of auditrepo's go.mod and go.sum, with the proxy, puts them there (a fresh machine has only what
	// builds needed) and leaves the repository's go.sum as it is.
	graph := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(graph, f), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	list := exec.CommandContext(ctx, "go", "list", "-m", "all")
	list.Dir, list.Env = graph, env
	if out, err := list.CombinedOutput(); err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	run([]string{"GOPROXY=off"}, "get", "-tool", "github.com/auditrepo/auditrepo/cmd/auditrepo-gen")
	run(nil, "get", "-tool", "github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1")
	run(nil, "generate", "./...")
	for _, f := range []string{"gen/db/models.go", "gen/repo/install.go", "gen/repo/client.go", "gen/repo/pet.go", "gen/repo/visit.go"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("go generate did not write %s: %v", f, err)
		}
	}
	install, _ := os.ReadFile(filepath.Join(dir, "gen/repo/install.go"))
	for _, tbl := range []string{"clients", "pets", "visits"} {
		if want := `{Name: "public.` + tbl + `", Columns: []string{"id", `; !strings.Contains(string(install), want) {
			t.Errorf("gen/repo/install.go does not declare %s", want)
		}
	}
	run(nil, "vet", "./...")
	out := run(nil, "test", "-count=1", "-v", "./...")
	t.Logf("the module's own test:\n%s", out)
	if !strings.Contains(out, "--- PASS: TestVet") {
		t.Errorf("TestVet did not pass:\n%s", out)
	}
}

// copyTree copies the regular files under src to dst, leaving out anything generated (gen/) by a previous
// run in place.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == "gen" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || rel == "go.mod" || rel == "go.sum" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
