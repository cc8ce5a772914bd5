// Package pgtest gives a test its own PostgreSQL database, cloned with pgtestdb from a template that a
// migration (SQL text, or any pgtestdb.Migrator) builds once, so tests run in parallel against a real server.
// It knows nothing of the clinic, so the generator's tests can use it while gen/repo does not compile.
//
// The server is found through the standard libpq variables PGHOST, PGPORT, PGUSER and PGPASSWORD (defaults
// 127.0.0.1, 5432, postgres, no password). That user creates the role auditrepo_migrator, a superuser (as
// whoever installs the audit schema with its DDL event trigger is), which creates and migrates the databases.
package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"
)

// migratorRole is the role that creates and migrates the test databases (pgtestdb's test role), a superuser.
const migratorRole = "auditrepo_migrator"

// Schema creates a fresh database for t from schema (SQL statements, run once per schema into a template) and
// returns a pool on it as the migrating role, which owns everything in it; the clinic's migrations are not
// applied. It is for tests of generated SQL on other schemas, such as the generator's golden cases.
func Schema(t testing.TB, schema string) *pgxpool.Pool {
	t.Helper()
	conf := pgtestdb.Custom(t, Config(), sqlMigrator(schema))
	return Pool(t, conf.URL())
}

// Empty creates a fresh empty database for t and returns a pool on it as the migrating role, a superuser.
func Empty(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return Schema(t, "SELECT 1")
}

// sqlMigrator runs its SQL text as the migration.
type sqlMigrator string

func (m sqlMigrator) Hash() (string, error) {
	h := sha256.Sum256([]byte(m))
	return "sql-" + hex.EncodeToString(h[:])[:16], nil
}

func (m sqlMigrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	_, err := db.ExecContext(ctx, string(m))
	return err
}

// Pool opens a pool on url, closed when t ends.
func Pool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// URL is c's database as user, without a password.
func URL(c pgtestdb.Config, user string) string {
	u := url.URL{Scheme: "postgres", User: url.User(user), Host: net.JoinHostPort(c.Host, c.Port), Path: "/" + c.Database, RawQuery: c.Options}
	return u.String()
}

// Config is pgtestdb's configuration for the server of the libpq variables.
func Config() pgtestdb.Config {
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       env("PGHOST", "127.0.0.1"),
		Port:       env("PGPORT", "5432"),
		User:       env("PGUSER", "postgres"),
		Password:   os.Getenv("PGPASSWORD"),
		Database:   "postgres",
		Options:    "sslmode=disable",
		// The audit schema's event trigger needs a superuser.
		TestRole: &pgtestdb.Role{
			Username:     migratorRole,
			Password:     migratorRole,
			Capabilities: "SUPERUSER NOCREATEDB",
		},
		ForceTerminateConnections: true,
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// SQLState is the SQLSTATE of the server error err carries, or "" when it carries none.
func SQLState(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code
	}
	return ""
}

// Strings runs a query of one text column on q and returns its values, failing t on an error.
func Strings(t testing.TB, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) []string {
	t.Helper()
	rows, err := q.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// WaitLockWaits returns true once n backends wait for a lock, as q sees pg_stat_activity: backend pid alone when
// pid is not 0, else any of q's database. It returns false as soon as ended (when not nil) reports that the
// awaited write has ended, having waited for nothing or given up. It polls every 200 us at first, since a test
// may wait for hundreds of writes in turn, and fails t after a minute (a loaded machine may take seconds), or a
// little before the test binary's deadline (go test -timeout) if that comes first.
func WaitLockWaits(t testing.TB, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, pid uint32, n int, ended func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := d.Deadline(); ok && d.Add(-5*time.Second).Before(deadline) {
			deadline = d.Add(-5 * time.Second)
		}
	}
	for pause := 200 * time.Microsecond; time.Now().Before(deadline); pause = min(2*pause, 5*time.Millisecond) {
		if ended != nil && ended() {
			return false
		}
		var waiting int
		if err := q.QueryRow(context.Background(), `SELECT count(*) FROM pg_catalog.pg_stat_activity
			WHERE wait_event_type = 'Lock' AND CASE WHEN $1 = 0 THEN datname = current_database() ELSE pid = $1 END`,
			int32(pid)).Scan(&waiting); err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if waiting >= n {
			return true
		}
		time.Sleep(pause)
	}
	t.Fatalf("fewer than %d backends wait for a lock and the write has not ended", n)
	return false
}

// Quiesce returns once no other client backend of q's database is busy (running a statement, or idle in a
// transaction), as q sees pg_stat_activity: the outcome of writes whose clients gave up is then settled. It
// fails t after 10 s, naming the busy backends.
func Quiesce(t testing.TB, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		busy := Strings(t, q, `SELECT pid || ' ' || coalesce(state, '') || ' ' || left(query, 60)
			FROM pg_catalog.pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
			AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'`)
		if len(busy) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backends still busy: %q", busy)
		}
		time.Sleep(time.Millisecond)
	}
}
