package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/migrations"
)

// version0 are the clinic's migrations as schema version 0 had them: 00001 has not changed since; 00002 and 00004
// are auditschema's copies for its own upgrade test; 00003 and the backstop its migrations.Up installed after them
// are kept here (testdata/v0-*).
func version0(t *testing.T) (fstest.MapFS, string) {
	t.Helper()
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	clinic, err := migrations.FS.ReadFile("00001_clinic.sql")
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{
		"00001_clinic.sql":       {Data: clinic},
		"00002_audit_log.sql":    {Data: read("../auditschema/testdata/legacy-00002_audit_log.sql")},
		"00003_roles.sql":        {Data: read("testdata/v0-00003_roles.sql")},
		"00004_unattributed.sql": {Data: read("../auditschema/testdata/legacy-00004_unattributed.sql")},
	}, string(read("testdata/v0-backstop.sql"))
}

// TestUpFromVersion0: Up takes a database that version 0's migrations and backstop left (goose at version 4,
// the trail in public.audit_log) to this version: the renumbered owner migration applied once, every row of the
// old trail imported, the old backstop dropped, and raw writes recorded by the new triggers. A second Up does
// nothing.
func TestUpFromVersion0(t *testing.T) {
	ctx := t.Context()
	pool := pgtest.Empty(t)
	db := sql.OpenDB(stdlib.GetPoolConnector(pool))
	t.Cleanup(func() { db.Close() })

	v0, backstop := version0(t)
	old, err := goose.NewProvider(goose.DialectPostgres, db, v0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Up(ctx); err != nil {
		t.Fatalf("version 0's migrations: %v", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE auditrepo_owner"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, backstop)
		return err
	})
	if err != nil {
		t.Fatalf("version 0's backstop: %v", err)
	}
	// Version 0's trail: raw writes, which its backstop recorded.
	if _, err := pool.Exec(ctx, `
		INSERT INTO users (username, email, password, user_type, role) VALUES
			('v0patient', 'p@v0.example', 'x', 'patient', ''), ('v0dentist', 'd@v0.example', 'x', 'staff', 'dentist');
		INSERT INTO appointments (patient_id, dentist_id, date, time, type)
		SELECT p.id, d.id, '2026-01-05', '09:00', 'checkup' FROM users p, users d
		WHERE p.username = 'v0patient' AND d.username = 'v0dentist'`); err != nil {
		t.Fatal(err)
	}
	var legacy int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM public.audit_log WHERE actor_kind = 'unattributed'").Scan(&legacy); err != nil || legacy != 3 {
		t.Fatalf("version 0's backstop wrote %d rows (%v), want 3", legacy, err)
	}

	res, err := migrations.Up(ctx, db)
	if err != nil {
		t.Fatalf("Up on a version 0 database: %v", err)
	}
	if res.Applied != 3 {
		t.Errorf("Up applied %d migrations, want 3 (00005_owner, 00006_hop_keys, 00007_patient_keys)", res.Applied)
	}
	if res.Upgrade == nil {
		t.Fatal("Up imported no version 0 trail")
	}
	var imported int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log WHERE actor_kind = 'unattributed' AND changes ? 'after'").Scan(&imported); err != nil || imported != legacy {
		t.Errorf("the audit table holds %d of version 0's %d rows (%v)", imported, legacy, err)
	}
	if len(res.Retired) != 32 {
		t.Errorf("Up retired %d backstop triggers, want 4 on each of the 8 PHI tables: %v", len(res.Retired), res.Retired)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'auditrepo\_backstop\_%')
		+ (SELECT count(*) FROM pg_proc WHERE proname LIKE 'auditrepo\_backstop\_%' OR proname = 'auditrepo_refuse_truncate')`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d backstop triggers and functions left (%v)", left, err)
	}
	var versions []int64
	if err := pool.QueryRow(ctx, "SELECT array_agg(version_id ORDER BY version_id) FROM goose_db_version WHERE is_applied").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(versions, []int64{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("goose recorded versions %v, want 0-7 (version 0's 1-4 and this version's 5 to 7)", versions)
	}

	// A raw write now: recorded by the new triggers, not refused by a backstop writing the renamed table.
	c := pgtest.Config()
	c.Database = pool.Config().ConnConfig.Database
	app := pgtest.Pool(t, pgtest.URL(c, migrations.Audit.App))
	var before, after int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log").Scan(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Exec(ctx, "UPDATE appointments SET status = 'confirmed' WHERE type = 'checkup'"); err != nil {
		t.Fatalf("a raw write after Up: %v", err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log").Scan(&after); err != nil || after != before+1 {
		t.Errorf("the raw update wrote %d audit rows (%v), want 1", after-before, err)
	}

	again, err := migrations.Up(ctx, db)
	if err != nil {
		t.Fatalf("Up again: %v", err)
	}
	if again.Applied != 0 || again.Upgrade != nil || len(again.Retired) != 0 {
		t.Errorf("Up again applied %d migrations, upgraded %v, retired %v; want nothing", again.Applied, again.Upgrade, again.Retired)
	}
}

// TestUpAsCreateRoleOwner: the README's other installer, a CREATEROLE login that owns the database and is no
// superuser, runs every migration: the owner role may own tables in the schema (ALTER TABLE ... OWNER TO asks
// it, and PostgreSQL 15 gives nobody CREATE on public), the models' triggers install, and the event trigger is
// skipped as the README says.
func TestUpAsCreateRoleOwner(t *testing.T) {
	ctx := t.Context()
	super := pgtest.Empty(t)
	installer := fmt.Sprintf("migrate_owner_%d", rand.Uint32())
	dbName := super.Config().ConnConfig.Database
	if _, err := super.Exec(ctx, "CREATE ROLE "+installer+" LOGIN CREATEROLE; ALTER DATABASE "+
		pgx.Identifier{dbName}.Sanitize()+" OWNER TO "+installer); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		super.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER TO CURRENT_USER; DROP OWNED BY "+installer+"; DROP ROLE "+installer)
	})
	cfg := super.Config().Copy()
	cfg.ConnConfig.User, cfg.ConnConfig.Password = installer, ""
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(stdlib.GetPoolConnector(pool))
	res, err := migrations.Up(ctx, db)
	db.Close()
	pool.Close()
	if err != nil {
		t.Fatalf("Up as a CREATEROLE owner of the database: %v", err)
	}
	if res.Schema.EventTrigger {
		t.Error("the event trigger installed without a superuser")
	}
	var owner string
	if err := super.QueryRow(ctx, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.appointments'::regclass").Scan(&owner); err != nil || owner != "auditrepo_owner" {
		t.Errorf("appointments owned by %q (%v), want auditrepo_owner", owner, err)
	}
	// The installer created the trigger functions as the writer role, whose member it was, and which held CREATE on
	// the audit schema, for the install's transaction only.
	var fnOwner string
	var inherits, creates bool
	err = super.QueryRow(ctx, `SELECT pg_get_userbyid(p.proowner), pg_has_role($1, 'auditrepo_writer', 'USAGE'),
			has_schema_privilege('auditrepo_writer', 'auditrepo', 'CREATE')
		FROM pg_proc p WHERE p.oid = 'auditrepo.audit_public_appointments()'::regprocedure`, installer).Scan(&fnOwner, &inherits, &creates)
	if err != nil || fnOwner != "auditrepo_writer" || inherits || creates {
		t.Errorf("appointments' trigger function owned by %q, installer with the writer's privileges %v, writer may create in the audit schema %v (%v); want auditrepo_writer, false, false",
			fnOwner, inherits, creates, err)
	}
}

// migrated is a new database Up has migrated, as its superuser's pool and as the database/sql handle Up takes.
func migrated(t *testing.T) (*pgxpool.Pool, *sql.DB) {
	t.Helper()
	super := pgtest.Empty(t)
	db := sql.OpenDB(stdlib.GetPoolConnector(super))
	t.Cleanup(func() { db.Close() })
	if _, err := migrations.Up(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	return super, db
}

// Once the audit schema is installed, public.audit_log is a name the owner role may create: Up, run as a
// superuser, neither reads nor imports a table the owner made there later, and says so.
func TestUpImportsNoLaterLegacyTable(t *testing.T) {
	ctx := t.Context()
	super, db := migrated(t)
	if _, err := super.Exec(ctx, `SET ROLE auditrepo_owner;
		CREATE TABLE public.audit_log (id bigint, occurred_at timestamptz, transaction_id bigint, actor_id bigint, actor_kind text,
			ip inet, user_agent text, request_id text, action text, target_table text, target_id bigint, patient_id bigint,
			prior_patient_id bigint, changes jsonb);
		INSERT INTO public.audit_log VALUES (900001, now(), 1, 3, 'user', '10.1.2.3', 'Mozilla/5.0', 'req-1', 'UPDATE', 'dental_records', 1, 1, NULL,
			'{"before": {"diagnosis": "healthy"}, "after": {"diagnosis": "caries"}}');
		RESET ROLE`); err != nil {
		t.Fatal(err)
	}
	res, err := migrations.Up(ctx, db)
	if err != nil {
		t.Fatalf("Up with the owner's public.audit_log: %v", err)
	}
	if res.Upgrade != nil || res.NotImported != "public.audit_log" {
		t.Errorf("Up imported %+v, not imported %q; want nothing imported, public.audit_log named", res.Upgrade, res.NotImported)
	}
	var n int
	if err := super.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log WHERE id = 900001 OR application LIKE 'imported%'").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d of the owner's rows in the trail (%v), want none", n, err)
	}
}

// Up runs as a superuser: a function or operator that another role put in public, matching the arguments of its
// own SQL more exactly than the built-in it means (LIKE of a name, format of a name), must not run. On PostgreSQL
// 14 any role could create in public; the install revokes that.
func TestUpRunsNoShadowingBuiltin(t *testing.T) {
	ctx := t.Context()
	super, db := migrated(t)
	if _, err := super.Exec(ctx, `SET ROLE auditrepo_owner;
		CREATE FUNCTION public.rt_like(name, name) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$$;
		CREATE OPERATOR public.~~ (leftarg = name, rightarg = name, function = public.rt_like);
		RESET ROLE;
		GRANT CREATE ON SCHEMA public TO PUBLIC`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Errorf("Up again: %v", err)
	}
	var open bool
	if err := super.QueryRow(ctx, "SELECT has_schema_privilege('public', 'public', 'CREATE')").Scan(&open); err != nil || open {
		t.Errorf("every role may create in public after Up (%v)", err)
	}
}
