package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// generator times P7: the auditrepo-gen command line of models.go's go:generate directive, run as go generate
// runs it (a subprocess in the module root, so `go run` and the generator's package loading are included), with
// its -out redirected to a temporary directory so the working tree is never written. The first run fills the
// build cache and is not counted. (The program does not import the generator: a generator that fails to build
// fails P7, not the whole benchmark.)
func (b *bench) generator(ctx context.Context) error {
	if b.c.GenRuns < 1 {
		return nil
	}
	dir := b.c.ModuleDir
	if dir == "" {
		out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		if err != nil {
			return fmt.Errorf("go env GOMOD: %w", err)
		}
		mod := strings.TrimSpace(string(out))
		if mod == "" || mod == os.DevNull {
			return fmt.Errorf("not inside the module (go env GOMOD is empty); run from the module root or pass -dir")
		}
		dir = filepath.Dir(mod)
	}
	argv, outDir, err := generateLine(filepath.Join(dir, "models.go"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "auditbench-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tmpOut := filepath.Join(tmp, filepath.Base(outDir))
	run := slices.Clone(argv)
	for i := range run {
		if run[i] == "-out" && i+1 < len(run) {
			run[i+1] = tmpOut
		}
	}
	b.res.genCmd = strings.Join(argv, " ") + "   (-out redirected to a temporary directory)"
	for range b.c.GenRuns {
		cmd := exec.CommandContext(ctx, run[0], run[1:]...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		t := time.Now()
		err := cmd.Run()
		b.res.gen = append(b.res.gen, time.Since(t))
		if err != nil {
			// Reported (P7 not met) rather than aborting the other measurements.
			b.res.genErr = fmt.Sprintf("%v\n%s", err, strings.TrimSpace(stderr.String()))
			b.res.gen = nil
			return nil
		}
	}
	b.res.genMatches = compareDirs(tmpOut, filepath.Join(dir, outDir))
	b.sqlcStep(ctx, dir)

	return nil
}

// sqlcStep times the other go:generate step, sqlc, for reference: on a copy of its inputs in a temporary
// directory (sqlc.yaml and the schema and query paths it names), so its output lands there too.
func (b *bench) sqlcStep(ctx context.Context, dir string) {
	src, err := os.ReadFile(filepath.Join(dir, "models.go"))
	if err != nil {
		return
	}
	var argv []string
	for line := range strings.Lines(string(src)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "//go:generate ")
		if ok && argv == nil && strings.Contains(rest, "sqlc") && !strings.Contains(rest, "auditrepo-gen") {
			argv = strings.Fields(rest)
		}
	}
	if argv == nil {
		return
	}
	tmp, err := os.MkdirTemp("", "auditbench-sqlc-")
	if err != nil {
		return
	}
	defer os.RemoveAll(tmp)
	cfg, err := os.ReadFile(filepath.Join(dir, "sqlc.yaml"))
	if err != nil {
		return
	}
	for line := range strings.Lines(string(cfg)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "schema" && k != "queries") {
			continue
		}
		if err := os.CopyFS(filepath.Join(tmp, strings.TrimSpace(v)), os.DirFS(filepath.Join(dir, strings.TrimSpace(v)))); err != nil {
			// A single file rather than a directory.
			p := strings.TrimSpace(v)
			data, rerr := os.ReadFile(filepath.Join(dir, p))
			if rerr != nil {
				b.res.sqlcNote = fmt.Sprintf("not timed (copying %s: %v)", p, rerr)
				return
			}
			os.MkdirAll(filepath.Dir(filepath.Join(tmp, p)), 0o755)
			os.WriteFile(filepath.Join(tmp, p), data, 0o644)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "sqlc.yaml"), cfg, 0o644); err != nil {
		return
	}
	run := append(slices.Clone(argv), "-f", filepath.Join(tmp, "sqlc.yaml"))
	b.res.sqlcCmd = strings.Join(argv, " ")
	for range 2 {
		cmd := exec.CommandContext(ctx, run[0], run[1:]...)
		cmd.Dir = dir
		t := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.res.sqlcNote = fmt.Sprintf("not timed (%v: %s)", err, strings.TrimSpace(string(out)))
			b.res.sqlc = nil
			return
		}
		b.res.sqlc = append(b.res.sqlc, time.Since(t))
	}
}

// generateLine returns the arguments of the auditrepo-gen //go:generate directive in file and its -out value.
func generateLine(file string) (argv []string, out string, err error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, "", err
	}
	for line := range strings.Lines(string(src)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "//go:generate ")
		if !ok || !strings.Contains(rest, "auditrepo-gen") {
			continue
		}
		argv = strings.Fields(rest)
		for i := 0; i+1 < len(argv); i++ {
			if argv[i] == "-out" {
				return argv, argv[i+1], nil
			}
		}
	}
	return nil, "", fmt.Errorf("%s: no //go:generate line running auditrepo-gen with -out", file)
}

// compareDirs says whether the generated files equal the committed ones.
func compareDirs(got, want string) string {
	files, _ := filepath.Glob(filepath.Join(got, "*"))
	var diff []string
	for _, f := range files {
		a, _ := os.ReadFile(f)
		w, err := os.ReadFile(filepath.Join(want, filepath.Base(f)))
		if err != nil || !bytes.Equal(a, w) {
			diff = append(diff, filepath.Base(f))
		}
	}
	switch {
	case len(files) == 0:
		return "no files generated"
	case len(diff) > 0:
		return fmt.Sprintf("%d of %d files differ from %s (is it stale?): %s", len(diff), len(files), want, strings.Join(diff, " "))
	}
	return fmt.Sprintf("all %d files identical to the committed ones", len(files))
}
