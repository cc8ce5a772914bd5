package redteam_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// TestRedTeamDropConstraintInPrivateSchema: at sql_drop record_ddl_as resolved every dropped table constraint's
// table with to_regclass('schema.table'), as auditrepo_audit (SECURITY DEFINER); to_regclass checks USAGE on the
// schema and raises rather than return NULL. So in any schema the audit role may not use, every DROP CONSTRAINT,
// and every DROP TABLE of a table with a constraint, failed with "permission denied for schema", for every role,
// a superuser included: a denial of service on migrations that touch nothing audited.
// It must not: the superuser's ALTER TABLE ... DROP CONSTRAINT and DROP TABLE in its private schema succeed.
func TestRedTeamDropConstraintInPrivateSchema(t *testing.T) {
	c := clinictest.New(t).AddRecords(t)
	ctx := context.Background()
	s := fmt.Sprintf("rt_private_%d", rand.New(rand.NewSource(time.Now().UnixNano())).Int63())
	t.Cleanup(func() { c.Super.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+s+" CASCADE") })
	for _, sql := range []string{
		"CREATE SCHEMA " + s,
		"REVOKE ALL ON SCHEMA " + s + " FROM PUBLIC",
		"CREATE TABLE " + s + ".t (a integer CONSTRAINT c CHECK (a > 0), b integer CONSTRAINT u UNIQUE)",
	} {
		must(t, c.Super, sql)
	}
	for _, sql := range []string{
		"ALTER TABLE " + s + ".t DROP CONSTRAINT c",
		"DROP TABLE " + s + ".t",
	} {
		if _, err := c.Super.Exec(ctx, sql); err != nil {
			t.Errorf("the superuser's %q, in a schema auditrepo_audit may not use, failed in the DDL event trigger: %v", sql, err)
		}
	}
}

// TestRedTeamAnyRoleHoldsWriterGrantLock: the lock serializing the writer's CREATE grants (WriterGrantLock) was an
// advisory lock, a key every login can compute and take: the application's role held it on an idle connection, and
// the owner's next DDL that made an audited table stale (ADD COLUMN) waited for it for ever, as would every install
// of the models. It is now a row lock on schema_version, which only the audit role may update. The application
// takes what it still can, the old key, and tries, in an open transaction, the table lock a PREPARE of a SELECT ...
// FOR UPDATE takes before privileges are checked (refused now for the schema: the application may not look the audit
// schema up); the owner's ALTER TABLE must still complete.
func TestRedTeamAnyRoleHoldsWriterGrantLock(t *testing.T) {
	c := clinictest.New(t).AddRecords(t)
	ctx := context.Background()
	app := dedicated(t, c.App, nil)
	must(t, app, "SELECT pg_advisory_lock(hashtext('auditrepo writer grant'))")
	must(t, app, "BEGIN")
	try(t, app, "42501 permission denied for schema", "PREPARE hold AS SELECT FROM auditrepo.schema_version FOR UPDATE")
	owner := dedicated(t, c.Owner, nil)
	must(t, owner, "SET lock_timeout = '3s'")
	if _, err := owner.Exec(ctx, "ALTER TABLE public.dental_records ADD COLUMN rt_note text"); err != nil {
		t.Errorf("the owner's ALTER TABLE ... ADD COLUMN on an audited table, with the application holding what locks it can: %v", err)
	}
}
