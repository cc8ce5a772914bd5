// Command auditrepo-gen generates audited repositories from the PHI models of a package and the queries sqlc
// generated for them. It reads sqlc's configuration (sqlc.yaml, sqlc.yml or sqlc.json) for the queries and the
// generated package. Add it as a tool (go get -tool github.com/auditrepo/auditrepo/cmd/auditrepo-gen) and run it
// from go generate in the models package, after sqlc:
//
//	//go:generate go tool sqlc generate
//	//go:generate go tool auditrepo-gen -out gen/repo
//
// On any error it prints file:line:col: message lines and writes nothing.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/gen"
	"github.com/auditrepo/auditrepo/internal/ir"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(argv []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("auditrepo-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o gen.Options
	fs.StringVar(&o.Config, "f", "", "sqlc's configuration file (default: sqlc.yaml, sqlc.yml or sqlc.json here)")
	fs.StringVar(&o.SQLC, "sqlc", "", "with several sql entries in sqlc's configuration: the gen.go.out of the one to wrap")
	fs.StringVar(&o.Models, "models", ".", "directory of the package with the PHI models")
	fs.StringVar(&o.Out, "out", "", "output directory; its base name is the package name (required)")
	fs.StringVar(&o.Audit.Schema, "schema", auditschema.Defaults.Schema, "the audit schema (auditschema.Config.Schema); the statements call the claim functions in it with _claim appended")
	fs.StringVar(&o.Audit.Table, "audit-table", auditschema.Defaults.Table, "the audit table in it (auditschema.Config.Table)")
	fs.StringVar(&o.Audit.Role, "audit-role", auditschema.Defaults.Audit, "the role owning the audit schema (auditschema.Config.Audit)")
	fs.StringVar(&o.Audit.Writer, "writer-role", auditschema.Defaults.Writer, "the role owning the trigger functions (auditschema.Config.Writer)")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if o.Out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: auditrepo-gen -out DIR [-f sqlc.yaml] [-sqlc DIR] [-models DIR] [-schema NAME] [-audit-table NAME] [-audit-role NAME] [-writer-role NAME]")
		return 2
	}
	if _, err := gen.Run(".", o); err != nil {
		if _, usage := errors.AsType[*ir.AuditNameError](err); usage { // a flag's value
			fmt.Fprintln(stderr, "auditrepo-gen:", err)
			return 2
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
