// Package gen runs the generator's stages in order: load, build the intermediate representation,
// emit, write. Nothing is written unless every stage before writing succeeded.
package gen

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditrepo/auditrepo/internal/diag"
	"github.com/auditrepo/auditrepo/internal/emit"
	"github.com/auditrepo/auditrepo/internal/ir"
	"github.com/auditrepo/auditrepo/internal/load"
	"github.com/auditrepo/auditrepo/internal/writeout"
)

// Options are one run's inputs, relative to the working directory given to Run, and the audit schema's names the
// generated SQL uses.
type Options struct {
	Config string // sqlc's configuration file; "" finds it in the working directory
	SQLC   string // which of its sql entries: the one generating Go into this directory ("" if it has one)
	Models string // the package with the PHI models
	Out    string // the output directory; its base name is the package name
	Audit  ir.Audit
}

// Render loads and validates the input and returns the files to write, without writing them.
func Render(dir string, o Options) (map[string][]byte, error) {
	prog, err := Program(dir, o)
	if err != nil {
		return nil, err
	}
	return emit.Files(prog, filepath.Base(o.Out))
}

// Program loads and validates the input and returns its intermediate representation.
func Program(dir string, o Options) (*ir.Program, error) {
	if err := o.Audit.Check(); err != nil {
		return nil, err
	}
	file := o.Config
	if file == "" {
		found, err := load.FindSQLC(dir)
		if err != nil {
			return nil, err
		}
		file = filepath.Base(found)
	}
	cfg, err := load.ReadSQLC(under(dir, file), o.SQLC)
	if err != nil {
		return nil, relative(dir, err)
	}
	// sqlc's paths are relative to its configuration file; load's to dir.
	base := filepath.Dir(file)
	queries, qerr := load.Paths(dir, base, cfg.Queries, cfg.QueriesAt)
	schema, serr := load.Paths(dir, base, cfg.Schema, cfg.SchemaAt)
	if qerr != nil || serr != nil {
		// Both keys' problems in one report.
		var all diag.List
		for _, err := range []error{qerr, serr} {
			var list diag.List
			if errors.As(err, &list) {
				all = append(all, list...)
			} else if err != nil {
				return nil, err
			}
		}
		return nil, relative(dir, all.Err())
	}
	in, err := load.Load(dir, o.Models, filepath.Join(base, cfg.Out), queries, schema)
	if err != nil {
		return nil, err
	}
	in.DBArgument = cfg.MethodsWithDBArgument
	in.ExportedQueries = cfg.ExportedQueries
	in.Naming = cfg.Naming
	prog, err := ir.Build(in, o.Audit)
	if err != nil {
		return nil, relative(dir, err)
	}
	return prog, nil
}

// Run renders and writes the output directory; it returns the names of the files it changed.
func Run(dir string, o Options) ([]string, error) {
	files, err := Render(dir, o)
	if err != nil {
		return nil, err
	}
	return writeout.Dir(under(dir, o.Out), emit.Header, files)
}

// under resolves p against dir unless it is absolute.
func under(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// relative shows positions relative to dir, so messages read like the compiler's.
func relative(dir string, err error) error {
	var list diag.List
	if !errors.As(err, &list) {
		return err
	}
	base, aerr := filepath.Abs(dir)
	if aerr != nil {
		return err
	}
	wd, _ := os.Getwd()
	out := make(diag.List, len(list))
	for i, e := range list {
		if filepath.IsAbs(e.Pos.Filename) {
			if rel, rerr := filepath.Rel(base, e.Pos.Filename); rerr == nil && !strings.HasPrefix(rel, "..") {
				e.Pos.Filename = rel
			} else if rel, rerr := filepath.Rel(wd, e.Pos.Filename); rerr == nil && !strings.HasPrefix(rel, "..") {
				e.Pos.Filename = rel
			}
		}
		out[i] = e
	}
	return out
}
