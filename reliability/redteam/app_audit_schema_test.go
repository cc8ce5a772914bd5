package redteam_test

import (
	"context"
	"testing"
	"time"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/migrations"
)

// TestRedTeamAppCannotNameAuditTables: the application role had USAGE on the audit schema, only to call the claim
// functions, so it could name the audit tables: a PREPARE of a SELECT from audit_log, in a transaction left open,
// locked the table (parse analysis locks before privileges are checked), and a CREATE RULE on it from another
// session then queued an ACCESS EXCLUSIVE request PostgreSQL takes before it checks ownership, stalling every
// audited write, reviewer read, DDL recording and seal behind it. The claim functions are now in a schema of their
// own, the only one of the audit role's the application may look up: each attack is refused for the audit schema
// itself (42501, permission denied for schema), leaving no lock on any of its tables, and a repository write
// made meanwhile completes with its true actor.
func TestRedTeamAppCannotNameAuditTables(t *testing.T) {
	c := clinictest.New(t)
	ctx := context.Background()
	schema := migrations.Audit.Schema
	noSchema := denied + " permission denied for schema " + schema
	app := dedicated(t, c.App, nil)
	var pid int32
	if err := app.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	// held is how many locks the application's backend holds on relations of the audit schema.
	held := func(t *testing.T) int {
		t.Helper()
		var n int
		if err := c.Super.QueryRow(ctx, `SELECT count(*) FROM pg_locks l WHERE l.pid = $1 AND l.relation IN
			(SELECT k.oid FROM pg_class k WHERE k.relnamespace = $2::regnamespace)`, pid, schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for name, sql := range map[string]string{
		"prepare_select":      "PREPARE rt_hold AS SELECT FROM " + migrations.Audit.QualifiedTable(),
		"prepare_for_update":  "PREPARE rt_hold AS SELECT FROM " + schema + ".schema_version FOR UPDATE",
		"lock":                "LOCK TABLE " + migrations.Audit.QualifiedTable() + " IN ACCESS SHARE MODE",
		"create_rule":         "CREATE RULE rt_rule AS ON INSERT TO " + migrations.Audit.QualifiedTable() + " DO INSTEAD NOTHING",
		"read_schema_version": "SELECT * FROM " + schema + ".schema_version",
		"ddl_log":             "SELECT FROM " + schema + ".ddl_log",
	} {
		t.Run(name, func(t *testing.T) {
			// In a transaction, which keeps the locks its statements took: counted while it is still open.
			must(t, app, "BEGIN")
			defer app.Exec(ctx, "DEALLOCATE ALL")
			defer app.Exec(ctx, "ROLLBACK")
			try(t, app, noSchema, sql)
			if n := held(t); n != 0 {
				t.Errorf("%s: the application holds %d locks on tables of %s", sql, n, schema)
			}
		})
	}

	// The whole attack: one session holds what it can in an open transaction, another asks for ACCESS EXCLUSIVE;
	// an audited write must not wait behind them.
	holder := dedicated(t, c.App, nil)
	must(t, holder, "BEGIN")
	if _, err := holder.Exec(ctx, "PREPARE rt_hold AS SELECT FROM "+migrations.Audit.QualifiedTable()); err == nil {
		t.Error("the application's PREPARE naming the audit table was accepted")
	}
	defer holder.Exec(ctx, "ROLLBACK")
	queuer := dedicated(t, c.App, nil)
	must(t, queuer, "SET lock_timeout = '5s'")
	try(t, queuer, noSchema, "CREATE RULE rt_rule AS ON INSERT TO "+migrations.Audit.QualifiedTable()+" DO INSTEAD NOTHING")
	wctx, cancel := context.WithTimeout(c.Ctx, 10*time.Second)
	defer cancel()
	before := clinictest.MaxID(t, c.Reviewer)
	if _, err := c.R.Appointment.UpdateStatus(wctx, db.UpdateAppointmentStatusParams{ID: c.Appt1, Status: "confirmed"}); err != nil {
		t.Fatalf("a repository write after the attack: %v", err)
	}
	rows := clinictest.Since(t, c.Reviewer, before)
	if len(rows) != 1 || rows[0].ActorKind != "user" || rows[0].ActorID == nil || *rows[0].ActorID != c.Dentist {
		t.Errorf("the repository write's audit rows: %v, want one by user %d", rows, c.Dentist)
	}
	var waiting int
	if err := c.Super.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 0 {
		t.Errorf("%d lock requests wait in the database", waiting)
	}
}
