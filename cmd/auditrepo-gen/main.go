// Command auditrepo-gen generates audited repositories from the PHI models of a package and the
// queries sqlc generated for them. Run it from go generate in the models package:
//
//	//go:generate go run ./cmd/auditrepo-gen -sqlc ./gen/db -queries queries -out gen/repo
//
// On any error it prints file:line:col: message lines and writes nothing.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/gen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(argv []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("auditrepo-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o gen.Options
	fs.StringVar(&o.Models, "models", ".", "directory of the package with the PHI models")
	fs.StringVar(&o.SQLC, "sqlc", "", "directory of the Go package sqlc generated (required)")
	fs.StringVar(&o.Queries, "queries", "queries", "directory of sqlc's query files, for error positions")
	fs.StringVar(&o.Out, "out", "", "output directory; its base name is the package name (required)")
	fs.StringVar(&o.Audit.Schema, "schema", auditschema.Defaults.Schema, "the audit schema (auditschema.Config.Schema)")
	fs.StringVar(&o.Audit.Table, "audit-table", auditschema.Defaults.Table, "the audit table in it (auditschema.Config.Table)")
	fs.StringVar(&o.Audit.Role, "audit-role", auditschema.Defaults.Audit, "the role owning the audit schema (auditschema.Config.Audit)")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if o.SQLC == "" || o.Out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: auditrepo-gen -sqlc DIR -out DIR [-models DIR] [-queries DIR]")
		return 2
	}
	if _, err := gen.Run(".", o); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
