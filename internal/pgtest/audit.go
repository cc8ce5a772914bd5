package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
)

// Audited creates a fresh database for t with the audit schema installed by auditschema.Install with c (its
// roles created on the server if missing) and returns a pool on it as the migrating role, a superuser, so the
// event trigger is installed too. It is for tests of the audit schema and its readers, which need no clinic.
func Audited(t testing.TB, c auditschema.Config) *pgxpool.Pool {
	t.Helper()
	db := Empty(t)
	if _, err := auditschema.Install(context.Background(), db, c); err != nil {
		t.Fatalf("install the audit schema: %v", err)
	}
	return db
}

// WaitFinal waits until transaction xid is final, below the snapshot xmin, as sealing only takes rows of
// final transactions. Other tests' sessions on the server may hold the xmin back for a while, so it polls
// every 20ms, and fails t if xid is still not final after a minute.
func WaitFinal(t testing.TB, db *pgxpool.Pool, xid uint64) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var final bool
		if err := db.QueryRow(context.Background(), "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8", xid).Scan(&final); err != nil {
			t.Fatal(err)
		}
		if final {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction %d is not final after a minute", xid)
		}
	}
}
