package auditschema_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// legacyDB is a database as the clinic's migrations left it before the audit schema was a library (schema
// version 0): public.audit_log created by the Up sections of testdata/legacy-*.sql (copies of the old
// migrations 00002 and 00004), owned by the owner role, the application role allowed SELECT and INSERT.
func legacyDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	db := pgtest.Empty(t)
	// The roles exist on a server the old migrations ran on (00003_roles created them).
	if _, err := db.Exec(ctx, `DO $$
		BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditrepo_owner') THEN
				CREATE ROLE auditrepo_owner NOLOGIN;
			END IF;
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditrepo_app') THEN
				CREATE ROLE auditrepo_app LOGIN;
			END IF;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN
			NULL;
		END $$`); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"testdata/legacy-00002_audit_log.sql", "testdata/legacy-00004_unattributed.sql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		up, _, ok := strings.Cut(string(b), "-- +goose Down")
		if !ok || !strings.Contains(up, "-- +goose Up") {
			t.Fatalf("%s: no Up section", f)
		}
		if _, err := db.Exec(ctx, up); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := db.Exec(ctx, `
		ALTER TABLE audit_log OWNER TO auditrepo_owner;
		ALTER FUNCTION audit_log_refuse() OWNER TO auditrepo_owner;
		GRANT SELECT, INSERT ON audit_log TO auditrepo_app`); err != nil {
		t.Fatal(err)
	}
	return db
}

// installedLegacyDB is legacyDB holding legacyRows, with the audit schema installed beside it.
func installedLegacyDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	db := legacyDB(t)
	if _, err := db.Exec(context.Background(), legacyRows); err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.Install(context.Background(), db, auditschema.Config{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// legacyRows are the version 0 rows the tests import: every actor kind, NULLs, a large id, months of 2021 and
// 2024 (one starting exactly at a month's first instant), this month (the default occurred_at), a prior patient.
const legacyRows = `
INSERT INTO audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes, occurred_at)
VALUES (7, 'user', '203.0.113.7', 'Mozilla/5.0 (X11)', 'req-1', 'CREATE', 'appointments', 1, 10,
        '{"after": {"id": 1, "notes": "Zahnschmerz ü", "fee": 1.50, "tags": ["a", null]}}', '2021-03-15 10:00:00.123456+00');
INSERT INTO audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, prior_patient_id, changes, occurred_at)
VALUES (NULL, 'system', '10.1.0.0/16', NULL, 'job-42', 'UPDATE', 'appointments', 1, 12, 11,
        '{"before": {"patient_id": 11}, "after": {"patient_id": 12}}', '2024-02-29 23:59:59.999999+00');
INSERT INTO audit_log (actor_kind, action, target_table, target_id, changes)
VALUES ('unknown', 'DELETE', 'documents', 3, '{}');
INSERT INTO audit_log (actor_kind, ip, user_agent, action, target_table, target_id, patient_id, changes, occurred_at)
VALUES ('unattributed', '::1', 'db role x, application y', 'UPDATE', 'users', 10, 10, '{"after": {"email": null}}', '2024-02-01 00:00:00+00');
INSERT INTO audit_log (actor_kind, ip, user_agent, action, target_table, target_id, patient_id, changes, occurred_at)
VALUES ('unattributed', NULL, 'db role clinic_admin', 'CREATE', 'invoices', 5, NULL, '{"after": {"total": "12.00"}}', '2021-03-01 00:00:00+00');
INSERT INTO audit_log (id, transaction_id, actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id, patient_id, changes, occurred_at)
OVERRIDING SYSTEM VALUE
VALUES (9000000000, 5000000000, 8, 'user', '2001:db8::1', 'curl/8', '', 'DELETE', 'billings', 9000000001, 12, '{"before": {"amount": 100}}', '2024-07-01 00:00:00+00')`

// trail returns each row of table as text (every version 0 column, exactly), by id.
func trail(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, table string) []string {
	t.Helper()
	return pgtest.Strings(t, q, `SELECT jsonb_build_array(id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
			transaction_id::text, actor_id, actor_kind, ip::text, user_agent, request_id, action, target_table, target_id,
			patient_id, prior_patient_id, changes)::text
		FROM `+table+` ORDER BY id`)
}

func TestUpgradeFromVersion0KeepsEveryRow(t *testing.T) {
	ctx := context.Background()
	db := legacyDB(t)
	if _, err := db.Exec(ctx, legacyRows); err != nil {
		t.Fatal(err)
	}
	before := trail(t, db, "public.audit_log")
	if len(before) != 6 {
		t.Fatalf("%d legacy rows, want 6", len(before))
	}
	if _, err := auditschema.Install(ctx, db, auditschema.Config{}); err != nil {
		t.Fatal(err)
	}
	rep, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Already || rep.Rows != 6 || rep.Source != "public.audit_log" || rep.RenamedTo != "public.audit_log_v0" ||
		rep.MaxID == nil || *rep.MaxID != 9000000000 || rep.MinID == nil || *rep.MinID != 1 || rep.InDefault != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, p := range []string{"audit_log_202103", "audit_log_202402", "audit_log_202407"} {
		if !slices.Contains(rep.Partitions, p) || !exists(t, db, p) {
			t.Errorf("partition %s not created (report: %v)", p, rep.Partitions)
		}
	}

	// Every row, every column, exactly; the kept table unchanged.
	if after := trail(t, db, "auditrepo.audit_log"); !slices.Equal(after, before) {
		t.Errorf("imported trail differs:\nlegacy   %s\nimported %s", strings.Join(before, "\n         "), strings.Join(after, "\n         "))
	}
	if kept := trail(t, db, "public.audit_log_v0"); !slices.Equal(kept, before) {
		t.Errorf("kept table differs:\n%s", strings.Join(kept, "\n"))
	}
	// Where the rows came from.
	rows, err := db.Query(ctx, `SELECT id, db_role, application, method IS NULL AND client_addr IS NULL FROM auditrepo.audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type origin struct {
		ID           int64
		Role, App    string
		NoMethodAddr bool
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[origin])
	if err != nil {
		t.Fatal(err)
	}
	const app = "imported from public.audit_log"
	want := []origin{{1, "imported", app, true}, {2, "imported", app, true}, {3, "imported", app, true},
		{4, "x", app, true}, {5, "clinic_admin", app, true}, {9000000000, "imported", app, true}}
	if !slices.Equal(got, want) {
		t.Errorf("origins %v, want %v", got, want)
	}
	// Every imported row is in a monthly partition, none in the default one: retention sees them.
	var inDefault int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log_default").Scan(&inDefault); err != nil || inDefault != 0 {
		t.Errorf("%d rows in the default partition (err %v)", inDefault, err)
	}
	ret, err := auditschema.Retain(ctx, db, auditschema.Config{}, auditschema.MinRetentionYears, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ret.Partitions {
		if p.Action == "default" {
			t.Errorf("retention reports rows in the default partition: %+v", p)
		}
	}

	// The next row gets a larger id.
	var next int64
	if err := db.QueryRow(ctx, `INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, changes)
		VALUES ('system', 'CREATE', 'visits', 1, '{}') RETURNING id`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	if next <= 9000000000 {
		t.Errorf("next id %d, not past the imported ones", next)
	}

	// The version 0 table is gone from its name, kept, and not writable by the application (nor by anyone); the
	// reviewer, whom code its owner adds to it would run as, reads its rows in the audit table only.
	var legacyGone, appInsert, appSelect, reviewerSelect bool
	if err := db.QueryRow(ctx, `SELECT to_regclass('public.audit_log') IS NULL,
			has_table_privilege('auditrepo_app', 'public.audit_log_v0', 'INSERT'),
			has_table_privilege('auditrepo_app', 'public.audit_log_v0', 'SELECT'),
			has_table_privilege('auditrepo_reviewer', 'public.audit_log_v0', 'SELECT')`).
		Scan(&legacyGone, &appInsert, &appSelect, &reviewerSelect); err != nil {
		t.Fatal(err)
	}
	if !legacyGone || appInsert || appSelect || reviewerSelect {
		t.Errorf("public.audit_log gone %v; app INSERT %v, SELECT %v on the kept table; reviewer SELECT %v", legacyGone, appInsert, appSelect, reviewerSelect)
	}
	const insertV0 = `INSERT INTO public.audit_log_v0 (actor_kind, action, target_table, target_id, changes) VALUES ('system', 'CREATE', 'x', 1, '{}')`
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE auditrepo_app"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, insertV0)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("the app role's INSERT into the kept table: %v, want permission denied", err)
	}
	// The record of the import is the audit schema's: the application can neither read nor write it.
	for _, q := range []string{"SELECT * FROM auditrepo.upgrades", "DELETE FROM auditrepo.upgrades"} {
		err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL ROLE auditrepo_app"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, q)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("the app role's %s: %v, want permission denied", q, err)
		}
	}
	if _, err := db.Exec(ctx, insertV0); err == nil || !strings.Contains(err.Error(), "INSERT refused") {
		t.Errorf("a superuser's INSERT into the kept table: %v, want refused", err)
	}

	// Its table and partitions are no other role's to build on, as the installed ones are not.
	if got := buildable(t, db, "auditrepo_owner"); len(got) > 0 {
		t.Errorf("after the upgrade auditrepo_owner may use the row types of %v", got)
	}

	// Again: nothing changes.
	cat, n := catalog(t, db), trail(t, db, "auditrepo.audit_log")
	rep2, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, "public.audit_log")
	if err != nil {
		t.Fatal(err)
	}
	if !rep2.Already || rep2.Rows != 6 || rep2.RenamedTo != "public.audit_log_v0" || len(rep2.Partitions) != 0 {
		t.Errorf("second upgrade: %+v", rep2)
	}
	if catalog(t, db) != cat || !slices.Equal(trail(t, db, "auditrepo.audit_log"), n) {
		t.Error("second upgrade changed the audit schema or the trail")
	}
	var upgrades int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM auditrepo.upgrades").Scan(&upgrades); err != nil || upgrades != 1 {
		t.Errorf("%d rows in auditrepo.upgrades (err %v), want 1", upgrades, err)
	}
	// Install again changes nothing either.
	if rep, err := auditschema.Install(ctx, db, auditschema.Config{}); err != nil || rep.Installed {
		t.Errorf("install after the upgrade: %+v, %v", rep, err)
	}
	if catalog(t, db) != cat {
		t.Error("install after the upgrade changed the audit schema")
	}
}

func TestUpgradeRefusesAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	db := legacyDB(t)
	if _, err := db.Exec(ctx, legacyRows); err != nil {
		t.Fatal(err)
	}
	// Before Install.
	if _, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, ""); !errors.Is(err, auditschema.ErrUpgradeRefused) {
		t.Fatalf("upgrade before install = %v, want ErrUpgradeRefused", err)
	}
	if _, err := auditschema.Install(ctx, db, auditschema.Config{}); err != nil {
		t.Fatal(err)
	}
	// No such table.
	if _, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, "public.no_such_log"); !errors.Is(err, auditschema.ErrUpgradeRefused) {
		t.Errorf("upgrade of a missing table = %v, want ErrUpgradeRefused", err)
	}
	// An id already taken in the new trail.
	if _, err := db.Exec(ctx, `INSERT INTO auditrepo.audit_log (id, actor_kind, action, target_table, target_id, changes)
		OVERRIDING SYSTEM VALUE VALUES (4, 'system', 'CREATE', 'visits', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	before := trail(t, db, "public.audit_log")
	_, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, "")
	if !errors.Is(err, auditschema.ErrUpgradeRefused) || !strings.Contains(err.Error(), "id") {
		t.Fatalf("upgrade with a colliding id = %v, want ErrUpgradeRefused", err)
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d rows in the audit table after a refused upgrade (err %v), want 1", n, err)
	}
	if !slices.Equal(trail(t, db, "public.audit_log"), before) {
		t.Error("a refused upgrade changed the legacy table")
	}
	if exists(t, db, "upgrades") {
		t.Error("a refused upgrade left auditrepo.upgrades")
	}
}

// The owner role owns the version 0 table and may make one where there was none: Upgrade, run as a superuser,
// reads nothing that would run code of its own (a view's, a policy's, a type's, an index's) and refuses it, naming
// why.
func TestUpgradeReadsOnlyAPlainTable(t *testing.T) {
	ctx := context.Background()
	db := installedLegacyDB(t)
	// ran fails the statement that runs it, as the owner's code would have done its work.
	if _, err := db.Exec(ctx, `GRANT CREATE ON SCHEMA public TO auditrepo_owner;
		SET ROLE auditrepo_owner;
		CREATE FUNCTION public.ran(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$$;
		CREATE FUNCTION public.ran_policy() RETURNS boolean LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$$;
		CREATE FUNCTION public.mine(bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1';
		CREATE DOMAIN public.kind AS text;
		RESET ROLE`); err != nil {
		t.Fatal(err)
	}
	before := trail(t, db, "public.audit_log")
	for _, tc := range []struct{ setup, undo, want string }{
		{`ALTER TABLE audit_log RENAME TO audit_log_real; CREATE VIEW audit_log AS SELECT * FROM audit_log_real WHERE public.ran(id) = id`,
			`DROP VIEW audit_log; ALTER TABLE audit_log_real RENAME TO audit_log`, "is no plain table (relkind v)"},
		{`ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY; CREATE POLICY p ON audit_log USING (public.ran_policy())`,
			`DROP POLICY p ON audit_log; ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY`, "has row level security"},
		{`CREATE TABLE audit_log_more () INHERITS (audit_log)`, `DROP TABLE audit_log_more`, "inherits or is inherited"},
		{`ALTER TABLE audit_log ALTER COLUMN actor_kind TYPE public.kind`, `ALTER TABLE audit_log ALTER COLUMN actor_kind TYPE text`,
			"has column actor_kind of type public.kind, not text"},
		{`ALTER TABLE audit_log RENAME COLUMN request_id TO req`, `ALTER TABLE audit_log RENAME COLUMN req TO request_id`, "lacks column request_id"},
		{`CREATE INDEX audit_log_mine ON audit_log (public.mine(id))`, `DROP INDEX audit_log_mine`, "using function public.mine(bigint), of auditrepo_owner"},
	} {
		if _, err := db.Exec(ctx, "SET ROLE auditrepo_owner; "+tc.setup+"; RESET ROLE"); err != nil {
			t.Fatalf("%s: %v", tc.setup, err)
		}
		_, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, "")
		if !errors.Is(err, auditschema.ErrUpgradeRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("after %s: Upgrade = %v, want ErrUpgradeRefused naming %q", tc.setup, err, tc.want)
		}
		if _, err := db.Exec(ctx, "SET ROLE auditrepo_owner; "+tc.undo+"; RESET ROLE"); err != nil {
			t.Fatalf("%s: %v", tc.undo, err)
		}
	}
	// Made by another role than the owner, the application where it may create in public (as on a database from
	// before PostgreSQL 15), its rows would be that role's.
	if _, err := db.Exec(ctx, "ALTER TABLE audit_log OWNER TO auditrepo_app"); err != nil {
		t.Fatal(err)
	}
	const want = "is owned by auditrepo_app, neither auditrepo_owner nor a superuser"
	if _, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, ""); !errors.Is(err, auditschema.ErrUpgradeRefused) || !strings.Contains(err.Error(), want) {
		t.Errorf("the application's table: Upgrade = %v, want ErrUpgradeRefused naming %q", err, want)
	}
	if _, err := db.Exec(ctx, "ALTER TABLE audit_log OWNER TO auditrepo_owner"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(trail(t, db, "public.audit_log"), before) || exists(t, db, "upgrades") {
		t.Fatal("a refused upgrade changed something")
	}
	// As it was, it imports.
	if rep, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, ""); err != nil || rep.Rows != int64(len(before)) {
		t.Errorf("Upgrade of the plain table: %+v, %v", rep, err)
	}
}

func TestUpgradeMismatchErrorMatches(t *testing.T) {
	err := error(&auditschema.UpgradeMismatchError{Source: "public.audit_log", LegacyRows: 3, Copied: 2, Missing: 1})
	if !errors.Is(err, auditschema.ErrUpgradeMismatch) || !strings.Contains(err.Error(), "3 rows, 2 were copied") {
		t.Errorf("%v", err)
	}
}

// A deployment without a superuser: its migrating user has CREATEROLE and is a member of the owner role. With
// only CREATE on the database it is refused (it could not take TEMP from the application); as the database's
// owner it installs the schema and upgrades a version 0 trail, each twice; afterwards it is no member of the audit role,
// so it can neither act as it nor change the trail. But CREATEROLE lets it make itself a member again (on
// PostgreSQL 15, of any role that is no superuser), as a superuser could act as any role: the README tells to
// take CREATEROLE away after installing, and once it is gone that attack is refused too.
func TestInstallAndUpgradeAsCreateRoleUser(t *testing.T) {
	ctx := context.Background()
	super := legacyDB(t)
	if _, err := super.Exec(ctx, legacyRows); err != nil {
		t.Fatal(err)
	}
	const installer = "auditrepo_installer_test"
	if _, err := super.Exec(ctx, `DO $$
		BEGIN
			CREATE ROLE `+installer+` LOGIN CREATEROLE;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN
			NULL;
		END $$; ALTER ROLE `+installer+` CREATEROLE`); err != nil { // an earlier run took it away
		t.Fatal(err)
	}
	// A member of the owner role, as the clinic's migrations make their migrator, with CREATE on the database.
	if _, err := super.Exec(ctx, "GRANT auditrepo_owner TO "+installer+"; GRANT CREATE ON DATABASE "+
		pgx.Identifier{super.Config().ConnConfig.Database}.Sanitize()+" TO "+installer); err != nil {
		t.Fatal(err)
	}
	cfg := super.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = installer, ""
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	// With only CREATE on the database its REVOKE of TEMP from PUBLIC revokes nothing (PostgreSQL only warns):
	// Install refuses, naming the fix, and installs nothing.
	_, err = auditschema.Install(ctx, conn, auditschema.Config{})
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "42501" || !strings.Contains(err.Error(), "database's owner or a superuser") {
		t.Fatalf("install as %s with CREATE on the database only = %v, want refused (42501) naming the database's owner", installer, err)
	}
	if exists(t, super, "schema_version") {
		t.Fatal("a refused install created the audit schema")
	}
	// As the database's owner it may.
	if _, err := super.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{super.Config().ConnConfig.Database}.Sanitize()+" OWNER TO "+installer); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rep, err := auditschema.Install(ctx, conn, auditschema.Config{})
		if err != nil {
			t.Fatalf("install %d as %s: %v", i+1, installer, err)
		}
		if rep.Installed != (i == 0) || rep.EventTrigger {
			t.Errorf("install %d: %+v, want installed the first time only, without the event trigger", i+1, rep)
		}
	}
	for i := range 2 {
		rep, err := auditschema.Upgrade(ctx, conn, auditschema.Config{}, "")
		if err != nil {
			t.Fatalf("upgrade %d as %s: %v", i+1, installer, err)
		}
		if rep.Already != (i == 1) || rep.Rows != 6 {
			t.Errorf("upgrade %d: %+v, want 6 rows imported by the first", i+1, rep)
		}
	}

	var member, reviewerReads, appTemp bool
	if err := conn.QueryRow(ctx, `SELECT pg_has_role(current_user, 'auditrepo_audit', 'MEMBER'),
		has_table_privilege('auditrepo_reviewer', 'auditrepo.audit_log', 'SELECT'),
		has_database_privilege('auditrepo_app', current_database(), 'TEMP')`).Scan(&member, &reviewerReads, &appTemp); err != nil {
		t.Fatal(err)
	}
	if appTemp {
		t.Error("the application role has TEMP on the database")
	}
	if member {
		t.Errorf("%s is still a member of auditrepo_audit", installer)
	}
	if !reviewerReads {
		t.Error("the reviewer role may not read the audit table")
	}
	for _, attack := range []string{
		"SET ROLE auditrepo_audit",
		"DELETE FROM auditrepo.audit_log",
	} {
		_, err := conn.Exec(ctx, attack)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "42501" {
			t.Errorf("%s as %s: %v, want refused (42501)", attack, installer, err)
		}
	}
	if got := trail(t, super, "auditrepo.audit_log"); len(got) != 6 {
		t.Errorf("the audit table has %d rows, want the 6 imported", len(got))
	}

	const regrant = "GRANT auditrepo_audit TO CURRENT_USER"
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 160000 { // PostgreSQL 16 lets CREATEROLE grant only the roles it administers
		if _, err := conn.Exec(ctx, regrant); err != nil {
			t.Fatalf("%s as %s with CREATEROLE: %v; the README says it can, on PostgreSQL 15", regrant, installer, err)
		}
		if _, err := conn.Exec(ctx, "REVOKE auditrepo_audit FROM CURRENT_USER"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := super.Exec(ctx, "ALTER ROLE "+installer+" NOCREATEROLE"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, regrant)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "42501" {
		t.Errorf("%s as %s without CREATEROLE: %v, want refused (42501)", regrant, installer, err)
	}
}

// A CREATEROLE installer outside the owner role has no USAGE on the audit schema: it still finds the installed
// version, so it may install again (which changes nothing).
func TestInstallTwiceAsCreateRoleUserOutsideTheOwnerRole(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	const installer = "auditrepo_outsider_test"
	if _, err := super.Exec(ctx, `DO $$
		BEGIN
			CREATE ROLE `+installer+` LOGIN CREATEROLE;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN
			NULL;
		END $$; ALTER ROLE `+installer+` CREATEROLE`); err != nil {
		t.Fatal(err)
	}
	// The database's owner, so that it may take TEMP from the application.
	if _, err := super.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{super.Config().ConnConfig.Database}.Sanitize()+" OWNER TO "+installer); err != nil {
		t.Fatal(err)
	}
	cfg := super.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = installer, ""
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i := range 2 {
		rep, err := auditschema.Install(ctx, conn, auditschema.Config{})
		if err != nil {
			t.Fatalf("install %d as %s: %v", i+1, installer, err)
		}
		if rep.Installed != (i == 0) {
			t.Errorf("install %d: %+v, want installed the first time only", i+1, rep)
		}
	}
	var usage bool
	if err := conn.QueryRow(ctx, "SELECT has_schema_privilege('auditrepo', 'USAGE')").Scan(&usage); err != nil || usage {
		t.Errorf("%s has USAGE on the audit schema (%v): the test means one that has not", installer, err)
	}
}
