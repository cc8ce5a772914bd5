// Package migrations holds the clinic's schema as goose migrations. sqlc reads the same files as its
// schema, so the generated code and the database cannot drift apart. After the migrations, Up installs the
// backstop triggers that gen/repo generates from the same models as the repositories.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/auditrepo/auditrepo/gen/repo"
)

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS

// OwnerRole owns every table and function; migration 00003 creates it and makes the migrating user a member.
const OwnerRole = "auditrepo_owner"

// AppRole is the application's role: it reads and writes the clinic's tables and appends to audit_log.
const AppRole = "auditrepo_app"

// Up applies every pending migration to db, then (re)installs the backstop triggers (repo.BackstopSQL).
// The connecting user needs CREATEROLE the first time the roles are created on the server, must own the
// schema (or be a superuser) and must be allowed to become auditrepo_owner.
func Up(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := installBackstop(ctx, db); err != nil {
		return fmt.Errorf("migrations: installing the backstop: %w", err)
	}
	return nil
}

// installBackstop runs the generated backstop SQL as auditrepo_owner, so the owner role owns its functions
// like every other object. It replaces what a previous run installed, so the triggers always match the
// generated repositories.
func installBackstop(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, "SET LOCAL ROLE "+OwnerRole); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, repo.BackstopSQL); err != nil {
		return err
	}
	return tx.Commit()
}
