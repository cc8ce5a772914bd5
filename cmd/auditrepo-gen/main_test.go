package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"auditrepo-gen": func() { os.Exit(run(os.Args[1:], os.Stderr)) },
	})
}

// TestScript runs the CLI end to end on the golden inputs under the repository's testdata/golden;
// scripts cd to $REPO so that messages carry the same relative positions a developer sees.
func TestScript(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			// go/packages runs the go command, which needs its usual caches.
			for _, k := range []string{"HOME", "GOPATH", "GOMODCACHE", "GOCACHE", "GOFLAGS", "GOPROXY"} {
				if v, ok := os.LookupEnv(k); ok {
					env.Setenv(k, v)
				}
			}
			return nil
		},
	})
}

// An audit name that cannot be written into the trigger SQL is a usage error (exit 2), found before anything is
// read or written: a line break in a role's name would end an SQL comment of the generated install SQL.
func TestAuditNameIsUsageError(t *testing.T) {
	for _, args := range [][]string{{"-audit-role", "a\nb"}, {"-writer-role", "w$ar$"}, {"-schema", "x$ar$y"}, {"-audit-table", ""},
		// Longer than PostgreSQL keeps of the claim functions' schema's name (the audit schema's and _claim).
		{"-schema", strings.Repeat("s", 58)},
		// One role for both: the trigger functions would run as the trail's owner.
		{"-audit-role", "same_role", "-writer-role", "same_role"}} {
		out := filepath.Join(t.TempDir(), "repo")
		var stderr strings.Builder
		if code := run(append([]string{"-out", out}, args...), &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, stderr.String())
		}
		if !strings.HasPrefix(stderr.String(), "auditrepo-gen: audit ") {
			t.Errorf("%q: %q, want the audit name named", args, stderr.String())
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%q: the output directory exists (%v)", args, err)
		}
	}
}
