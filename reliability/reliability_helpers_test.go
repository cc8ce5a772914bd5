package reliability_test

// Shared helpers of the reliability tests: a per-test database with a sized pool and fixture rows, a
// superuser connection to the same database for fault injection, and readers and checkers of the audit trail.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// asyncCommit makes the pool's sessions commit without waiting for the WAL flush (synchronous_commit=off, a
// per-session setting). It changes durability across a server crash only, not atomicity, visibility or lock
// order, and lets tests that serialise thousands of commits on one row lock run at CPU speed instead of
// at fsync speed.
func asyncCommit(cfg *pgxpool.Config) {
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
}

// apptUpdate is the full update of a that changes only its type.
func apptUpdate(a db.Appointment, typ string) db.UpdateAppointmentParams {
	return db.UpdateAppointmentParams{
		ID: a.ID, PatientID: a.PatientID, DentistID: a.DentistID, ClinicID: a.ClinicID, Date: a.Date, Time: a.Time,
		Type: typ, Status: a.Status, Notes: a.Notes,
	}
}

// superConn is a connection of its own to the clinic's database as the superuser that migrated it (the Super
// pool), held until t ends. The tests use it only to inject faults, to observe and end backends and, as a
// negative control, to make a change that bypasses the audit trail on purpose.
func superConn(t testing.TB, g *clinictest.Clinic) *pgx.Conn {
	t.Helper()
	c, err := g.Super.Acquire(context.Background())
	if err != nil {
		t.Fatalf("superuser connection: %v", err)
	}
	t.Cleanup(c.Release)
	return c.Conn()
}

// appConn opens a connection outside the pool with the pool's own settings (role, database, parameters).
func appConn(ctx context.Context, pool *pgxpool.Pool, tweak func(*pgx.ConnConfig)) (*pgx.Conn, error) {
	cfg := pool.Config().ConnConfig.Copy()
	if tweak != nil {
		tweak(cfg)
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// str is a decoded JSON string, "" for anything else.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// pgErr returns the server error in err, if any.
func asPgError(err error) *pgconn.PgError {
	e, _ := errors.AsType[*pgconn.PgError](err)
	return e
}

// errSummary is a compact description of err for logs and tallies.
func errSummary(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, audit.ErrNotFound):
		return "not-found"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "context"
	}
	if e := asPgError(err); e != nil {
		return e.Severity + " " + e.Code
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 60 {
		s = s[i+2:]
	}
	return s
}
