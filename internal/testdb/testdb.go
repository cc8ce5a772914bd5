// Package testdb gives each test its own migrated PostgreSQL database, cloned from a template with
// pgtestdb, so tests run in parallel against a real server.
//
// The server is found through the standard libpq variables PGHOST, PGPORT, PGUSER and PGPASSWORD
// (defaults 127.0.0.1, 5432, postgres, no password); the user must be able to create databases.
package testdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"os"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/auditrepo/auditrepo/migrations"
)

// URL creates a fresh migrated database for t and returns its connection string. The database is
// dropped when t passes.
func URL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, config(), migrator{}).URL()
}

// Pool returns a pool on a fresh migrated database, closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func config() pgtestdb.Config {
	return pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      env("PGHOST", "127.0.0.1"),
		Port:                      env("PGPORT", "5432"),
		User:                      env("PGUSER", "postgres"),
		Password:                  os.Getenv("PGPASSWORD"),
		Database:                  "postgres",
		Options:                   "sslmode=disable",
		ForceTerminateConnections: true,
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// migrator applies the embedded goose migrations; its hash changes whenever a migration does.
type migrator struct{}

func (migrator) Hash() (string, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", err
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return migrations.Up(ctx, db)
}
