// Command migrate brings the database at $DATABASE_URL up to date with migrations.Up: the audit schema, the
// clinic's migrations and the audit triggers of its models (an old public.audit_log carried over).
//
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable go run ./cmd/migrate
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is not set (for example postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable, " +
			"or run under scripts/with-postgres.sh for a throwaway server)")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	res, err := migrations.Up(ctx, db)
	if err != nil {
		return err
	}
	if res.Schema.Installed {
		fmt.Printf("migrate: installed audit schema %s (version %d)\n", migrations.Audit.Schema, auditschema.Version)
	}
	if u := res.Upgrade; u != nil && !u.Already {
		fmt.Printf("migrate: carried over %d audit rows from %s into %s; the old table is kept, read-only, as %s\n",
			u.Rows, u.Source, migrations.Audit.QualifiedTable(), u.RenamedTo)
	}
	if res.NotImported != "" {
		fmt.Printf("migrate: %s exists, but the audit schema was installed before this run: not imported (if it is a version 0 trail, check it and import it with auditschema.Upgrade)\n", res.NotImported)
	}
	if len(res.Retired) > 0 {
		fmt.Printf("migrate: dropped the old backstop triggers: %s\n", strings.Join(res.Retired, ", "))
	}
	if !res.Schema.EventTrigger {
		fmt.Println("migrate: not a superuser: the DDL event trigger is not installed, so DDL on audited tables is not recorded")
	}
	switch res.Applied {
	case 0:
		fmt.Println("migrate: no pending migrations; audit triggers reinstalled")
	default:
		fmt.Printf("migrate: applied %d migrations; audit triggers installed\n", res.Applied)
	}
	return nil
}
