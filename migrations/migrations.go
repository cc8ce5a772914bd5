// Package migrations holds the clinic's schema as goose migrations. sqlc reads the same files as its schema, so
// the generated code and the database cannot drift apart. Up installs the audit schema first (the library's
// auditschema), then runs these migrations, then installs the audit triggers gen/repo generates for the models.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
)

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS

// Audit is the clinic's audit schema: the library's default names.
var Audit = auditschema.Config{}.WithDefaults()

// Result says what Up did.
type Result struct {
	Applied int                 // clinic migrations applied
	Schema  *auditschema.Report // what installing the audit schema did
}

// Up installs the audit schema and roles (auditschema.Install), applies every pending migration, then (re)installs
// the models' audit triggers (repo.Install). The connecting user must be a superuser for the DDL event trigger;
// with CREATEROLE and CREATE on the database everything else installs.
func Up(ctx context.Context, db *sql.DB) (*Result, error) {
	res := &Result{}
	err := withConn(ctx, db, func(c *pgx.Conn) error {
		var err error
		res.Schema, err = auditschema.Install(ctx, c, Audit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	applied, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	res.Applied = len(applied)
	if err := withConn(ctx, db, func(c *pgx.Conn) error { return repo.Install(ctx, c, Audit) }); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return res, nil
}

// withConn runs f on one pgx connection of db's pool.
func withConn(ctx context.Context, db *sql.DB, f func(*pgx.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("migrations: need the pgx database/sql driver, got %T", dc)
		}
		return f(sc.Conn())
	})
}
