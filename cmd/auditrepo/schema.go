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
	registerNames(fs, &c, schemaName, tableName, auditName, writerName, ownerName, appName, reviewerName, sealerName)
	ddl := fs.Bool("event-trigger", false, "also print the DDL event trigger (needs a superuser)")
	if err := parse(fs, args); err != nil {
		return err
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
