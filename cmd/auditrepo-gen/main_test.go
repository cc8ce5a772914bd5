package main

import (
	"os"
	"path/filepath"
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
