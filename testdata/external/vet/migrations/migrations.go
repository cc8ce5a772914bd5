// Package migrations holds the practice's schema as plain SQL files, run in file-name order. sqlc reads the
// same files as its schema.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
)

//go:embed *.sql
var files embed.FS

// Up runs every migration in one transaction. The connecting user must be a superuser or a member of
// auditrepo_owner (it gives the tables to that role).
func Up(ctx context.Context, conn *pgx.Conn) error {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, n := range names {
			sql, err := files.ReadFile(n)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("migration %s: %w", n, err)
			}
		}
		return nil
	})
}
