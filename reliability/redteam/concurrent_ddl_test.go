package redteam_test

import (
	"context"
	"testing"

	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// Two migrations changing the columns of two different audited tables at once (dental_records in one, documents in
// the other): each command's record_ddl_as grants the writer role CREATE on the audit schema, stales the table's
// trigger function and revokes the grant, updating the audit schema's pg_namespace row twice. Unserialized, the
// second waited for the first's transaction and then failed with "tuple concurrently updated" (XX000), though the
// two commands touch nothing in common: a DoS on concurrent migrations (and on InstallModels, which grants and
// revokes the same privilege), by the owner or anyone holding such a transaction open. The second command waits
// for the first to commit, then succeeds, and the writer role keeps no CREATE.
func TestRedTeamConcurrentStaleGrants(t *testing.T) {
	c := clinictest.New(t)
	a := dedicated(t, c.Owner, nil)
	b := dedicated(t, c.Owner, nil)
	must(t, a, "BEGIN")
	must(t, a, "ALTER TABLE dental_records ADD COLUMN concurrent_a integer")
	done := make(chan error, 1)
	go func() {
		_, err := b.Exec(context.Background(), "ALTER TABLE documents ADD COLUMN concurrent_b integer")
		done <- err
	}()
	if !pgtest.WaitLockWaits(t, c.Super, b.PgConn().PID(), 1, func() bool { return len(done) > 0 }) {
		t.Logf("ALTER TABLE documents did not wait for the concurrent ALTER TABLE dental_records")
	}
	must(t, a, "COMMIT")
	if err := <-done; err != nil {
		t.Errorf("FINDING: ALTER TABLE documents, concurrent with ALTER TABLE dental_records in another transaction: %v; want it to succeed once that commits (both tables made stale)", err)
	}
	var creates bool
	if err := c.Super.QueryRow(c.Ctx, "SELECT has_schema_privilege('auditrepo_writer', 'auditrepo', 'CREATE')").Scan(&creates); err != nil {
		t.Fatal(err)
	}
	if creates {
		t.Errorf("the writer role may still create in the audit schema after the two commands")
	}
}
