package main

import (
	"context"
	"fmt"

	"github.com/auditrepo/auditrepo/auditschema"
)

func init() {
	commands["schema"] = command{summary: "print the audit schema's SQL, as a migration for goose, golang-migrate or Atlas", run: schemaCmd}
}

func schemaCmd(_ context.Context, e *env, args []string) error {
	fs := e.flags("schema")
	var c auditschema.Config
	fs.StringVar(&c.Schema, "schema", auditschema.Defaults.Schema, "the audit schema")
	fs.StringVar(&c.Table, "audit-table", auditschema.Defaults.Table, "the audit table in the audit schema (with auditrepo-gen's -audit-table)")
	fs.StringVar(&c.App, "app-role", auditschema.Defaults.App, "the application's role")
	fs.StringVar(&c.Owner, "owner-role", auditschema.Defaults.Owner, "the role owning the application's tables")
	fs.StringVar(&c.Reviewer, "reviewer-role", auditschema.Defaults.Reviewer, "the reviewers' role")
	fs.StringVar(&c.Audit, "audit-role", auditschema.Defaults.Audit, "the role owning the audit schema (NOLOGIN)")
	ddl := fs.Bool("event-trigger", false, "also print the DDL event trigger (needs a superuser)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	sql, err := c.SQL()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "-- auditrepo audit schema version %d\n-- +goose Up\n%s", auditschema.Version, sql)
	if *ddl {
		d, err := c.DDLSQL()
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, d)
	}
	return nil
}
