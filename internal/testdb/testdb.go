// Package testdb gives each test its own migrated PostgreSQL database, cloned from a template with
// pgtestdb, so tests run in parallel against a real server.
//
// The server is found through the standard libpq variables PGHOST, PGPORT, PGUSER and PGPASSWORD
// (defaults 127.0.0.1, 5432, postgres, no password). That user creates the role auditrepo_migrator
// (a superuser, as whoever installs the audit schema with its DDL event trigger is), which creates and
// migrates the databases; migrations.Up creates the roles of the audit schema.
//
// Tests connect as the role whose powers they exercise: mostly auditrepo_app, the application's role, so
// they can do exactly what the application can. The server must let these roles log in from PGHOST without a
// password (trust authentication for 127.0.0.1, as scripts/with-postgres.sh and .ci configure it).
package testdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/migrations"
)

// DB is one test's database, reached as each role.
type DB struct {
	// App connects as auditrepo_app: what the application may do, the tests may do.
	App *pgxpool.Pool
	// Owner connects as a login member of auditrepo_owner that is not a superuser: what whoever runs the
	// migrations may do.
	Owner *pgxpool.Pool
	// Reviewer connects as auditrepo_reviewer, which reads the trail.
	Reviewer *pgxpool.Pool
	// Sealer connects as auditrepo_sealer, which reads the trail and appends seals.
	Sealer *pgxpool.Pool
	// Super connects as the migrating role, a superuser: for tests that break things on purpose (a failing
	// audit table, a revoked privilege, tampering).
	Super *pgxpool.Pool
}

// OwnerLogin is the login role of DB.Owner: a member of auditrepo_owner, as a deployment's migrating user is.
const OwnerLogin = "auditrepo_deployer"

// New creates a fresh migrated database for t and opens a pool on it for each role; the pools are
// closed when t ends, and the database is dropped when t passes.
func New(t testing.TB) *DB {
	t.Helper()
	conf := pgtestdb.Custom(t, pgtest.Config(), migrator{})
	d := &DB{
		App:      pgtest.Pool(t, pgtest.URL(*conf, migrations.Audit.App)),
		Owner:    pgtest.Pool(t, pgtest.URL(*conf, OwnerLogin)),
		Reviewer: pgtest.Pool(t, pgtest.URL(*conf, migrations.Audit.Reviewer)),
		Sealer:   pgtest.Pool(t, pgtest.URL(*conf, migrations.Audit.Sealer)),
		Super:    pgtest.Pool(t, conf.URL()),
	}
	// A clone of the template lacks the template's database privileges.
	if err := auditschema.Secure(context.Background(), d.Super, migrations.Audit); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return d
}

// Pool returns a pool connected as auditrepo_app on a fresh migrated database, closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return New(t).App
}

// migrator installs the audit schema, the migrations and the audit triggers (migrations.Up); its hash changes
// whenever any of them does, so pgtestdb builds a new template.
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
	h.Write([]byte(repo.AuditModels.SQL))
	for _, render := range []func() (string, error){migrations.Audit.SQL, migrations.Audit.DDLSQL} {
		sql, err := render()
		if err != nil {
			return "", err
		}
		h.Write([]byte(sql))
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	if _, err := migrations.Up(ctx, db); err != nil {
		return err
	}
	// Roles are the server's: created once, by whichever template comes first.
	_, err := db.ExecContext(ctx, `DO $$
	BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+OwnerLogin+`') THEN
			CREATE ROLE `+OwnerLogin+` LOGIN;
		END IF;
		GRANT auditrepo_owner TO `+OwnerLogin+`;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN
		NULL;
	END $$`)
	return err
}
