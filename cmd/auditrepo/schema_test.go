package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/internal/testdb"
	"github.com/auditrepo/auditrepo/migrations"
)

// What `auditrepo schema` prints (with a "-- +goose Up" line) is a migration goose applies as it is, and the library's installer then finds
// the schema installed and changes nothing.
func TestSchemaIsAGooseMigration(t *testing.T) {
	pool := pgtest.Empty(t)
	code, out, errOut := runCmd(t, "", "schema", "--event-trigger")
	if code != 0 {
		t.Fatalf("schema: exit %d: %s", code, errOut)
	}
	gooseUp(t, pool, "00001_auditrepo.sql", out)
	rep, err := auditschema.Install(context.Background(), pool, auditschema.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Installed {
		t.Error("Install created the schema again after the migration had")
	}
	var triggers int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'auditrepo_ddl%'").Scan(&triggers); err != nil || triggers != 6 {
		t.Errorf("%d event triggers (%v), want 6", triggers, err)
	}
}

// --audit-table names the audit table the migration creates (and its default partition), as auditrepo-gen's
// -audit-table names the table the triggers write to.
func TestSchemaAuditTable(t *testing.T) {
	code, out, errOut := runCmd(t, "", "schema", "--audit-table", "clinic_trail")
	if code != 0 {
		t.Fatalf("schema --audit-table: exit %d: %s", code, errOut)
	}
	for _, want := range []string{`CREATE TABLE "auditrepo"."clinic_trail" (`, `CREATE TABLE "auditrepo"."clinic_trail_default" PARTITION OF "auditrepo"."clinic_trail" DEFAULT`} {
		if !strings.Contains(out, want) {
			t.Errorf("the SQL lacks %q", want)
		}
	}
	if strings.Contains(out, auditschema.Defaults.Table) {
		t.Errorf("the SQL still names %s", auditschema.Defaults.Table)
	}
	pool := pgtest.Empty(t)
	gooseUp(t, pool, "00001_auditrepo.sql", out)
	var ok bool
	if err := pool.QueryRow(context.Background(), "SELECT to_regclass('auditrepo.clinic_trail') IS NOT NULL AND to_regclass('auditrepo.audit_log') IS NULL").Scan(&ok); err != nil || !ok {
		t.Errorf("after the migration auditrepo.clinic_trail exists and auditrepo.audit_log does not: %v (%v), want true", ok, err)
	}
}

// The models' part (repo.AuditModels.SQL) is a goose migration too: applied over an installed database, it
// replaces the triggers it finds.
func TestModelsSQLIsAGooseMigration(t *testing.T) {
	d := testdb.New(t)
	gooseUp(t, d.Super, "00001_models.sql", "-- +goose Up\n"+repo.AuditModels.SQL, goose.WithTableName("models_goose_version"))
	var triggers int
	if err := d.Super.QueryRow(context.Background(), "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'audit\\_%'").Scan(&triggers); err != nil || triggers != 4*len(repo.AuditModels.Tables) {
		t.Errorf("%d audit triggers (%v), want 4 on each of %d tables", triggers, err, len(repo.AuditModels.Tables))
	}
}

// Run alone, the models' SQL checks their tables as repo.Install does first: a loosened key of a patient path or a
// column no model declares refuses it, naming each fix, and nothing changes; with the fixes applied, it installs.
func TestModelsSQLChecksTheTables(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	for _, sql := range []string{
		// With the event trigger off (replica mode skips it), as where no superuser installed it: it refuses a key
		// loosened after the install.
		`BEGIN; SET LOCAL session_replication_role = replica;
			ALTER TABLE invoices DROP CONSTRAINT invoices_appointment_id_fkey,
				ADD CONSTRAINT invoices_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES appointments;
			COMMIT`,
		"ALTER TABLE documents ADD COLUMN ssn text",
		"DROP TRIGGER audit_update ON appointments",
	} {
		if _, err := d.Super.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	_, err := d.Super.Exec(ctx, repo.AuditModels.SQL)
	for _, want := range []string{
		"table public.documents has columns its model does not declare: ssn",
		`fix: ALTER TABLE public.invoices DROP CONSTRAINT "invoices_appointment_id_fkey", ADD FOREIGN KEY ("appointment_id") REFERENCES public.appointments (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
	} {
		if pgtest.SQLState(err) != "55000" || !strings.Contains(err.Error(), want) {
			t.Errorf("the models' SQL = %v, want 55000 naming %q", err, want)
		}
	}
	var dropped bool
	if err := d.Super.QueryRow(ctx, "SELECT NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'audit_update' AND tgrelid = 'appointments'::regclass)").Scan(&dropped); err != nil || !dropped {
		t.Fatalf("a refused install put the dropped trigger back (%v)", err)
	}
	for _, sql := range []string{
		`ALTER TABLE public.invoices DROP CONSTRAINT "invoices_appointment_id_fkey", ADD FOREIGN KEY ("appointment_id") REFERENCES public.appointments (id) ON DELETE RESTRICT ON UPDATE RESTRICT`,
		"ALTER TABLE documents DROP COLUMN ssn",
	} {
		if _, err := d.Super.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Super.Exec(ctx, repo.AuditModels.SQL); err != nil {
		t.Fatalf("the models' SQL after the fixes: %v", err)
	}
	// The roles it checks against are those the schema granted maintain() and claim(): granted to two roles (or
	// none), they cannot be told, and it refuses rather than check against neither.
	if _, err := d.Super.Exec(ctx, "GRANT EXECUTE ON FUNCTION auditrepo_claim.claim(text, text, text) TO auditrepo_reviewer"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Super.Exec(ctx, repo.AuditModels.SQL); pgtest.SQLState(err) != "55000" || !strings.Contains(err.Error(), "roles cannot be told") {
		t.Errorf("the models' SQL with claim() granted to two roles = %v, want 55000", err)
	}
	// repo.Install, given the names, checks against them and installs.
	if err := repo.Install(ctx, d.Super, auditschema.Config{}); err != nil {
		t.Errorf("repo.Install with claim() granted to two roles: %v", err)
	}
}

// Applied statement by statement on one session (goose's NO TRANSACTION, as psql -f without -1), the schema's and
// then, over the clinic's tables, the models' SQL still run none of the functions and operators the owner role put
// in public that match their own calls more exactly than the built-ins they mean, bind none of them, make
// everything the audit schema's roles' rather than the installer's, and leave the session's search_path and role
// as they found them.
func TestSQLStatementByStatement(t *testing.T) {
	ctx := context.Background()
	code, out, errOut := runCmd(t, "", "schema", "--event-trigger")
	if code != 0 {
		t.Fatalf("schema: exit %d: %s", code, errOut)
	}
	pool := pgtest.Empty(t)
	plantShadows(t, pool)
	applyEach(t, pool, "00001_auditrepo.sql", out, goose.WithTableName("auditrepo_goose_version"))
	// The library's installer finds what it would have made.
	if rep, err := auditschema.Install(ctx, pool, auditschema.Config{}); err != nil || rep.Installed {
		t.Errorf("Install after the SQL: installed %v, %v; want nothing to do", rep.Installed, err)
	}
	db := sql.OpenDB(stdlib.GetPoolConnector(pool))
	clinic, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	_, err = clinic.Up(ctx)
	db.Close() // its idle connections are the pool's
	if err != nil {
		t.Fatal(err)
	}
	applyEach(t, pool, "00001_models.sql", "-- +goose Up\n"+repo.AuditModels.SQL, goose.WithTableName("models_goose_version"))
	var triggers int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_trigger WHERE tgname::text LIKE 'audit\\_%'").Scan(&triggers); err != nil || triggers != 4*len(repo.AuditModels.Tables) {
		t.Errorf("%d audit triggers (%v), want 4 on each of %d tables", triggers, err, len(repo.AuditModels.Tables))
	}
}

// plantShadows makes, as the owner role, functions and operators in public that match the library's calls of
// format, isempty, pg_advisory_xact_lock, LIKE and || more exactly than the built-ins, each failing if run.
func plantShadows(t *testing.T, super *pgxpool.Pool) {
	t.Helper()
	const fail = ` LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'shadow ran as %', current_user; END$$;`
	if _, err := super.Exec(context.Background(), `GRANT CREATE ON SCHEMA public TO auditrepo_owner;
		SET ROLE auditrepo_owner;
		CREATE FUNCTION public.format(text, name) RETURNS text`+fail+`
		CREATE FUNCTION public.isempty(tstzrange) RETURNS boolean`+fail+`
		CREATE FUNCTION public.pg_advisory_xact_lock(integer) RETURNS void`+fail+`
		CREATE FUNCTION public.shadow_like(name, name) RETURNS boolean`+fail+`
		CREATE OPERATOR public.~~ (leftarg = name, rightarg = name, function = public.shadow_like);
		CREATE FUNCTION public.shadow_cat(name, text) RETURNS text`+fail+`
		CREATE OPERATOR public.|| (leftarg = name, rightarg = text, function = public.shadow_cat);
		RESET ROLE`); err != nil {
		t.Fatal(err)
	}
}

// applyEach applies migration as goose does a NO TRANSACTION one, on a single session of the installer's, and
// checks what it left: see TestSQLStatementByStatement.
func applyEach(t *testing.T, super *pgxpool.Pool, name, migration string, opts ...goose.ProviderOption) {
	t.Helper()
	ctx := context.Background()
	db := sql.OpenDB(stdlib.GetPoolConnector(super))
	defer db.Close()
	db.SetMaxOpenConns(1)
	session := func() (path, role string) {
		t.Helper()
		if err := db.QueryRowContext(ctx, "SELECT current_setting('search_path'), current_user").Scan(&path, &role); err != nil {
			t.Fatal(err)
		}
		return path, role
	}
	path, role := session()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fstest.MapFS{name: {Data: []byte("-- +goose NO TRANSACTION\n" + migration)}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("goose up %s, statement by statement: %v", name, err)
	}
	if p2, r2 := session(); p2 != path || r2 != role {
		t.Errorf("after the SQL the session has search_path %q as %s, want %q as %s", p2, r2, path, role)
	}
	mine := pgtest.Strings(t, super, `SELECT kind || ' ' || name FROM (
			SELECT 'function' AS kind, oid::regprocedure::text AS name, proowner AS owner, pronamespace AS ns FROM pg_proc
			UNION ALL SELECT 'relation', oid::regclass::text, relowner, relnamespace FROM pg_class
			UNION ALL SELECT 'type', oid::regtype::text, typowner, typnamespace FROM pg_type) o
		WHERE o.ns = 'auditrepo'::regnamespace AND o.owner = (SELECT oid FROM pg_roles WHERE rolname = $1)
		ORDER BY 1`, role)
	if len(mine) > 0 {
		t.Errorf("the installer (%s) owns %v", role, mine)
	}
	bound := pgtest.Strings(t, super, `SELECT pg_describe_object(classid, objid, objsubid) || ' uses ' || pg_describe_object(refclassid, refobjid, 0)
		FROM pg_depend
		WHERE (refclassid = 'pg_proc'::regclass AND refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'public'::regnamespace))
			OR (refclassid = 'pg_operator'::regclass AND refobjid IN (SELECT oid FROM pg_operator WHERE oprnamespace = 'public'::regnamespace))
		EXCEPT SELECT pg_describe_object('pg_operator'::regclass, oid, 0) || ' uses ' || pg_describe_object('pg_proc'::regclass, oprcode, 0)
		FROM pg_operator WHERE oprnamespace = 'public'::regnamespace
		ORDER BY 1`)
	if len(bound) > 0 {
		t.Errorf("the SQL bound the owner's functions: %v", bound)
	}
}

// gooseUp applies migration to pool as goose would a migration file named name.
func gooseUp(t *testing.T, pool *pgxpool.Pool, name, migration string, opts ...goose.ProviderOption) {
	t.Helper()
	db := sql.OpenDB(stdlib.GetPoolConnector(pool))
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, fstest.MapFS{name: {Data: []byte(migration)}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatalf("goose up %s: %v", name, err)
	}
}
