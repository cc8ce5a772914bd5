package auditschema_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// schemaMaker creates a LOGIN role with a random name that may create schemas in super's database (as a migrating
// login that owns the database, or was granted CREATE on it, may), connects as it, and drops it at the end.
func schemaMaker(t *testing.T, super *pgxpool.Pool) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	role := fmt.Sprintf("schema_maker_%d", rand.Uint32())
	dbName := pgx.Identifier{super.Config().ConnConfig.Database}.Sanitize()
	if _, err := super.Exec(ctx, "CREATE ROLE "+role+" LOGIN; GRANT CREATE ON DATABASE "+dbName+" TO "+role); err != nil {
		t.Fatal(err)
	}
	cfg := super.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = role, ""
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close(ctx)
		if _, err := super.Exec(ctx, "DROP OWNED BY "+role+" CASCADE; DROP ROLE "+role); err != nil {
			t.Errorf("dropping role %s: %v", role, err)
		}
	})
	return role, conn
}

// A role that may create schemas in the database before the audit schema is installed (the migrating login, as
// the database's owner, say) makes a schema named as the audit schema, with a view schema_version calling a
// function of its own. Install, InstallModels and Upgrade, run by a superuser, refuse it, naming its owner, before
// they read anything in it: reading that view would run the function as the superuser (here it only advances a
// sequence, which no rollback undoes; it could as well COPY ... TO PROGRAM, or grant its role SUPERUSER).
func TestInstallRunsNoCodeOfAnotherRolesSchema(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role := plantProbe(t, super, `
		CREATE VIEW auditrepo.schema_version AS
			SELECT auditrepo.probe() AS version, ''::text AS revision, ''::text AS digest`)
	owned := "schema auditrepo is owned by " + role + ", not by the audit role auditrepo_audit"
	refused := func(err error) bool {
		return errors.Is(err, auditschema.ErrNotReady) && strings.Contains(err.Error(), owned)
	}
	if _, err := auditschema.Install(ctx, super, auditschema.Config{}); !refused(err) {
		t.Errorf("Install over %s's schema auditrepo: %v, want refused (ErrNotReady) naming its owner", role, err)
	}
	if err := auditschema.InstallModels(ctx, super, auditschema.Config{}, auditschema.Models{Schema: "auditrepo", SQL: "SELECT 1"}); !refused(err) {
		t.Errorf("InstallModels over %s's schema auditrepo: %v, want refused (ErrNotReady) naming its owner", role, err)
	}
	if _, err := auditschema.Upgrade(ctx, super, auditschema.Config{}, ""); !refused(err) || !errors.Is(err, auditschema.ErrUpgradeRefused) {
		t.Errorf("Upgrade over %s's schema auditrepo: %v, want refused (ErrUpgradeRefused, ErrNotReady) naming its owner", role, err)
	}
	if probeRan(t, super) {
		t.Errorf("a function of %s's, from its view auditrepo.schema_version, ran as the superuser installing", role)
	}
}

// The same role makes the whole audit schema itself, from the SQL `auditrepo schema` prints (its own revision and
// digest in schema_version), owning every table of it. Were it taken for "this revision, installed", Install would
// put the event trigger over it and report success: the trail would then be a table that role owns, whose rows it may
// delete (it owns the append-only trigger too) and whose ddl_log it may empty. Install refuses it, naming its owner.
func TestInstallRefusesAnAuditSchemaOfAnotherRole(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role, maker := schemaMaker(t, super)
	sql, err := auditschema.Config{}.SQL()
	if err != nil {
		t.Fatal(err)
	}
	// What the role cannot run of it (the roles' part, SET ROLE to the audit role): from CREATE SCHEMA on, as itself.
	sql = sql[strings.Index(sql, "CREATE SCHEMA "):]
	sql = strings.ReplaceAll(sql, ` AUTHORIZATION "auditrepo_audit"`, "")
	sql = strings.Replace(sql, "\nSET ROLE \"auditrepo_audit\";", "\n", 1)
	sql = strings.Replace(sql, "\nRESET ROLE;", "\n", 1)
	if i := strings.LastIndex(sql, "-- +goose StatementBegin"); i >= 0 {
		sql = sql[:i] // the REVOKE of the audit role and the search_path's reset
	}
	if _, err := maker.Exec(ctx, "SET search_path = pg_catalog, pg_temp;\n"+sql+`;
		GRANT ALL ON SCHEMA auditrepo TO auditrepo_audit, auditrepo_writer;
		GRANT ALL ON SCHEMA auditrepo_claim TO auditrepo_audit;
		GRANT ALL ON ALL FUNCTIONS IN SCHEMA auditrepo_claim TO auditrepo_audit;
		GRANT ALL ON ALL TABLES IN SCHEMA auditrepo TO auditrepo_audit;
		GRANT ALL ON ALL SEQUENCES IN SCHEMA auditrepo TO auditrepo_audit;
		GRANT ALL ON ALL FUNCTIONS IN SCHEMA auditrepo TO auditrepo_audit, auditrepo_writer`); err != nil {
		t.Fatalf("%s making its own audit schema: %v", role, err)
	}
	rep, err := auditschema.Install(ctx, super, auditschema.Config{})
	if !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), "schema auditrepo is owned by "+role) {
		t.Errorf("Install over the audit schema %s made and owns: %+v, %v; want refused (ErrNotReady) naming its owner", role, rep, err)
	}
	// What that role could do to the trail of such an install.
	if err == nil {
		if _, err := maker.Exec(ctx, `ALTER TABLE auditrepo.audit_log DISABLE TRIGGER refuse_update_delete;
			DELETE FROM auditrepo.audit_log; TRUNCATE auditrepo.ddl_log`); err != nil {
			t.Logf("%s erasing the trail: %v", role, err)
		} else {
			t.Logf("%s deleted the trail's rows and emptied ddl_log after Install reported success", role)
		}
	}
}

// An audit schema of the audit role's whose schema_version, or another of its objects, is another role's (put
// there, or given away, by a superuser or whoever acted as the audit role) is refused too, naming it: that role
// could change what Install reads, or run its code where the audit schema's is expected.
func TestInstallRefusesAnotherRolesObjectInTheAuditSchema(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]struct{ give, want string }{
		"schema_version": {"ALTER TABLE auditrepo.schema_version OWNER TO %s",
			"auditrepo.schema_version is not a table of the audit role auditrepo_audit (relkind r, owned by %s)"},
		"function": {"CREATE FUNCTION auditrepo.planted() RETURNS integer LANGUAGE sql RETURN 1; ALTER FUNCTION auditrepo.planted() OWNER TO %s",
			"audit schema auditrepo holds objects of roles other than the audit role auditrepo_audit (and, for functions, the writer role auditrepo_writer): function auditrepo.planted() (of %s)"},
		"table": {"CREATE TABLE auditrepo.planted (id integer); ALTER TABLE auditrepo.planted OWNER TO %s", "relation auditrepo.planted (of %s)"},
	} {
		t.Run(name, func(t *testing.T) {
			super := pgtest.Audited(t, auditschema.Config{})
			role, _ := schemaMaker(t, super)
			if _, err := super.Exec(ctx, fmt.Sprintf(c.give, role)); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(c.want, role)
			if _, err := auditschema.Install(ctx, super, auditschema.Config{}); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), want) {
				t.Errorf("Install: %v, want refused (ErrNotReady) naming %q", err, want)
			}
			if err := auditschema.InstallModels(ctx, super, auditschema.Config{}, auditschema.Models{Schema: "auditrepo", SQL: "SELECT 1"}); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), want) {
				t.Errorf("InstallModels: %v, want refused (ErrNotReady) naming %q", err, want)
			}
		})
	}
}

// createRoleInstaller creates a LOGIN CREATEROLE role with a random name that owns super's database, as an install
// without a superuser needs, and drops it at the end, with any membership of the audit and writer roles a failed
// test left it.
func createRoleInstaller(t *testing.T, super *pgxpool.Pool) string {
	t.Helper()
	ctx := context.Background()
	role := fmt.Sprintf("createrole_inst_%d", rand.Uint32())
	db := pgx.Identifier{super.Config().ConnConfig.Database}.Sanitize()
	if _, err := super.Exec(ctx, "CREATE ROLE "+role+" LOGIN CREATEROLE; ALTER DATABASE "+db+" OWNER TO "+role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, q := range []string{
			"REVOKE auditrepo_audit, auditrepo_writer FROM " + role,
			"ALTER DATABASE " + db + " OWNER TO CURRENT_USER",
			"DROP OWNED BY " + role, "DROP ROLE " + role,
		} {
			if _, err := super.Exec(context.Background(), q); err != nil {
				t.Logf("cleanup %s: %v", q, err)
			}
		}
	})
	return role
}

// psqlAs runs sql with psql as role on super's database, statement by statement (-f without -1) unless told
// -1, stopping at the first error (ON_ERROR_STOP), as a deployment running the SQL by hand would.
func psqlAs(t *testing.T, super *pgxpool.Pool, role, sql string, opts ...string) (string, error) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not found")
	}
	cc := super.Config().ConnConfig
	args := append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cc.Host, "-p", fmt.Sprint(cc.Port), "-U", role, "-d", cc.Database}, opts...)
	cmd := exec.CommandContext(context.Background(), psql, append(args, "-f", "-")...)
	cmd.Stdin = strings.NewReader(sql)
	cmd.Env = append(os.Environ(), "PGPASSWORD=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// memberships reports whether role is a member of the audit and of the writer role.
func memberships(t *testing.T, super *pgxpool.Pool, role string) (audit, writer bool) {
	t.Helper()
	if err := super.QueryRow(context.Background(), "SELECT pg_has_role($1, 'auditrepo_audit', 'MEMBER'), pg_has_role($1, 'auditrepo_writer', 'MEMBER')",
		role).Scan(&audit, &writer); err != nil {
		t.Fatal(err)
	}
	return audit, writer
}

// `auditrepo schema`'s SQL may be run statement by statement (psql -f without -1), and a redeploy may run it
// again. The CREATEROLE installer is made a member of the audit role, which owns the trail, by one statement and
// revoked it by its last: a second run that failed in between (at CREATE SCHEMA, which exists) would leave it one,
// able to disable the append-only trigger and delete audit rows even once CREATEROLE is taken from it, as the
// README advises. The SQL refuses an existing schema first, before it grants anything.
func TestSchemaSQLRerunLeavesNoAuditMembership(t *testing.T) {
	super := pgtest.Empty(t)
	role := createRoleInstaller(t, super)
	sql, err := auditschema.Config{}.SQL()
	if err != nil {
		t.Fatal(err)
	}
	// The first run in one transaction, as the README says: so that no other test's install sees the installer as a
	// member of the audit role meanwhile (the roles are the server's).
	if out, err := psqlAs(t, super, role, sql, "-1"); err != nil {
		t.Fatalf("psql -1 of the schema SQL as %s: %v\n%s", role, err, out)
	}
	if audit, _ := memberships(t, super, role); audit {
		t.Fatalf("%s is a member of auditrepo_audit after the first run", role)
	}
	out, err := psqlAs(t, super, role, sql)
	if err == nil || !strings.Contains(out, "schema auditrepo exists already, owned by auditrepo_audit; nothing was installed") {
		t.Errorf("a second statement-by-statement run of the schema SQL: %v\n%s\nwant refused, naming the schema", err, out)
	}
	if audit, _ := memberships(t, super, role); audit {
		t.Errorf("a second statement-by-statement run of the schema SQL, which failed, left %s a member of auditrepo_audit (which owns the trail)", role)
	}
}

// The same with the models' SQL (repo.AuditModels.SQL), run statement by statement by a CREATEROLE installer: its
// first block grants the installer the audit and writer roles, and check_models refuses whenever a table is not
// ready (here: none exists yet), its ordinary way to say no. check_models runs in that same block, so its refusal
// takes the grant back with it, where ON_ERROR_STOP would keep the REVOKE at the SQL's end from running.
func TestModelsSQLRefusalLeavesNoMembership(t *testing.T) {
	super := pgtest.Audited(t, auditschema.Config{})
	role := createRoleInstaller(t, super)
	out, err := psqlAs(t, super, role, repo.AuditModels.SQL)
	if err == nil || !strings.Contains(out, "the audited tables are not ready; nothing was installed") {
		t.Fatalf("the models' SQL with no tables: %v\n%s\nwant refused by check_models", err, out)
	}
	if audit, writer := memberships(t, super, role); audit || writer {
		t.Errorf("the models' SQL, refused by check_models, left %s a member of auditrepo_audit (%v) and auditrepo_writer (%v)", role, audit, writer)
	}
}

// A membership of the audit role that the installer holds before it installs (one a failed run of the SQL left,
// or granted itself, as CREATEROLE may on PostgreSQL 15) is named by Install and by the schema's SQL, as another
// role's is, rather than taken for the install's own and cleared unseen. The grant is never committed: the roles
// are the server's, and other tests' installs would see it.
func TestInstallNamesTheInstallersOwnMembership(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role := createRoleInstaller(t, super)
	cfg := super.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = role, ""
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sql, err := auditschema.Config{}.SQL()
	if err != nil {
		t.Fatal(err)
	}
	member := "role " + role + " is a member of auditrepo_audit (the audit role)"
	for name, install := range map[string]func(pgx.Tx) error{
		"Install": func(tx pgx.Tx) error { _, err := auditschema.Install(ctx, tx, auditschema.Config{}); return err },
		"the SQL": func(tx pgx.Tx) error { _, err := tx.Exec(ctx, sql); return err },
	} {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "GRANT auditrepo_audit TO CURRENT_USER"); err != nil {
			t.Fatal(err)
		}
		if err := install(tx); err == nil || !strings.Contains(err.Error(), member) {
			t.Errorf("%s as %s, a member of auditrepo_audit: %v; want refused, naming the membership", name, role, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Once it is revoked, the same installs.
	for i := range 2 {
		if rep, err := auditschema.Install(ctx, conn, auditschema.Config{}); err != nil || rep.Installed != (i == 0) {
			t.Errorf("install %d as %s: %+v, %v", i+1, role, rep, err)
		}
	}
	if audit, _ := memberships(t, super, role); audit {
		t.Errorf("%s is a member of auditrepo_audit after installing", role)
	}
}

// plantProbe makes, as the schemaMaker role, a schema auditrepo with a sequence that advances (no rollback undoes it)
// when its function auditrepo.probe() runs as a superuser, and returns the role.
func plantProbe(t *testing.T, super *pgxpool.Pool, more string) string {
	t.Helper()
	role, maker := schemaMaker(t, super)
	if _, err := maker.Exec(context.Background(), `CREATE SCHEMA auditrepo;
		CREATE SEQUENCE auditrepo.ran_as_superuser;
		CREATE FUNCTION auditrepo.probe() RETURNS integer LANGUAGE plpgsql AS $$
		BEGIN
			IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
				PERFORM pg_catalog.nextval('auditrepo.ran_as_superuser');
			END IF;
			RETURN 1;
		END $$;
		GRANT USAGE ON SCHEMA auditrepo TO PUBLIC;
		GRANT ALL ON SEQUENCE auditrepo.ran_as_superuser TO PUBLIC;
		GRANT EXECUTE ON FUNCTION auditrepo.probe() TO PUBLIC;`+more); err != nil {
		t.Fatal(err)
	}
	return role
}

func probeRan(t *testing.T, super *pgxpool.Pool) bool {
	t.Helper()
	var ran bool
	if err := super.QueryRow(context.Background(), "SELECT is_called FROM auditrepo.ran_as_superuser").Scan(&ran); err != nil {
		t.Fatal(err)
	}
	return ran
}

// The models' SQL run alone (psql, as the README allows) calls auditrepo.check_models first thing, as the installer
// (and, for a CREATEROLE installer, right after granting it the audit and writer roles). A role that made the
// schema before the audit schema's SQL ran (which that SQL then refuses) would have its check_models run as the
// superuser. The models' SQL refuses a schema, or a check_models or schema_version, that is not the audit role's
// before it grants or calls anything, naming the owner, as Install does (foreignSchema).
func TestModelsSQLCallsNoCodeOfAnotherRolesSchema(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role := plantProbe(t, super, `
		CREATE FUNCTION auditrepo.check_models(revision text, models jsonb) RETURNS void LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM auditrepo.probe();
		END $$;
		GRANT EXECUTE ON FUNCTION auditrepo.check_models(text, jsonb) TO PUBLIC`)
	tx, err := super.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, repo.AuditModels.SQL)
	tx.Rollback(ctx)
	if probeRan(t, super) {
		t.Errorf("the models' SQL, run by a superuser, called %s's auditrepo.check_models as the superuser (err %v)", role, err)
	}
	if err == nil || !strings.Contains(err.Error(), role) {
		t.Errorf("the models' SQL over %s's schema auditrepo: %v; want refused, naming its owner", role, err)
	}
}

// In the audit role's schema, a check_models of another role (an overload a superuser made, or gave away) is refused
// too before anything is called: the models' SQL calls check_models by name, and an overload could be the one picked.
func TestModelsSQLRefusesAnotherRolesCheckModels(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Audited(t, auditschema.Config{})
	role, _ := schemaMaker(t, super)
	if _, err := super.Exec(ctx, `CREATE FUNCTION auditrepo.check_models(revision text, models text) RETURNS void LANGUAGE sql RETURN NULL;
		ALTER FUNCTION auditrepo.check_models(text, text) OWNER TO `+role); err != nil {
		t.Fatal(err)
	}
	tx, err := super.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, repo.AuditModels.SQL)
	if pgtest.SQLState(err) != "42501" || !strings.Contains(err.Error(), "check_models(text,text) is owned by "+role) {
		t.Errorf("the models' SQL with %s's auditrepo.check_models(text, text): %v; want refused (42501), naming the function and its owner", role, err)
	}
}

// The models' SQL puts the tables' claim functions in the claim functions' schema: given to another role, which could
// drop and replace them, it is refused before anything is granted or created.
func TestModelsSQLRefusesAnotherRolesClaimSchema(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Audited(t, auditschema.Config{})
	role, _ := schemaMaker(t, super)
	if _, err := super.Exec(ctx, "ALTER SCHEMA auditrepo_claim OWNER TO "+role); err != nil {
		t.Fatal(err)
	}
	tx, err := super.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, repo.AuditModels.SQL)
	if pgtest.SQLState(err) != "42501" || !strings.Contains(err.Error(), "schema auditrepo_claim is owned by "+role) {
		t.Errorf("the models' SQL with auditrepo_claim %s's: %v; want refused (42501), naming the schema and its owner", role, err)
	}
}

// InstalledRevision, which every auditrepo CLI command runs first (checkRevision), reads <schema>.schema_version as
// whoever runs the command: a view of another role's there would run its code as the CLI's user (a superuser, or
// the sealer). It refuses such a schema (foreignSchema) before reading it, as Install does.
func TestInstalledRevisionRunsNoCodeOfAnotherRolesSchema(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role := plantProbe(t, super, `;
		CREATE VIEW auditrepo.schema_version AS SELECT auditrepo.probe() AS version, ''::text AS revision, ''::text AS digest;
		GRANT SELECT ON auditrepo.schema_version TO PUBLIC`)
	_, _, err := auditschema.InstalledRevision(ctx, super, auditschema.Config{})
	if probeRan(t, super) {
		t.Errorf("InstalledRevision ran %s's function, through its view auditrepo.schema_version, as the superuser (err %v)", role, err)
	}
	if !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), role) {
		t.Errorf("InstalledRevision over %s's schema auditrepo: %v; want refused, naming its owner", role, err)
	}
}

// The claim functions' schema, which every repository statement calls into, is held to what the audit schema is:
// made first by another role (with a claim of its own the application would call), given another role's function,
// or left behind by a DROP SCHEMA of the audit schema alone, it is refused by Install, naming it, nothing changed.
func TestInstallRefusesAForeignClaimSchema(t *testing.T) {
	ctx := context.Background()
	t.Run("made_first_by_another_role", func(t *testing.T) {
		super := pgtest.Empty(t)
		role, maker := schemaMaker(t, super)
		if _, err := maker.Exec(ctx, `CREATE SCHEMA auditrepo_claim;
			CREATE FUNCTION auditrepo_claim.claim(actor text, target text, method text) RETURNS boolean LANGUAGE sql RETURN true;
			GRANT USAGE ON SCHEMA auditrepo_claim TO PUBLIC`); err != nil {
			t.Fatal(err)
		}
		want := "schema auditrepo_claim is owned by " + role
		if _, err := auditschema.Install(ctx, super, auditschema.Config{}); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), want) {
			t.Errorf("Install: %v, want refused (ErrNotReady) naming %q", err, want)
		}
		// The schema's SQL, run alone, refuses it too.
		sql, err := auditschema.Config{}.SQL()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := super.Exec(ctx, sql); pgtest.SQLState(err) != "42P06" || !strings.Contains(err.Error(), "schema auditrepo_claim exists already") {
			t.Errorf("the schema's SQL: %v, want refused (42P06) naming auditrepo_claim", err)
		}
		var n int
		if err := super.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = 'auditrepo'").Scan(&n); err != nil || n != 0 {
			t.Errorf("the audit schema was made: %d, %v", n, err)
		}
	})
	t.Run("another_roles_function", func(t *testing.T) {
		super := pgtest.Audited(t, auditschema.Config{})
		role, _ := schemaMaker(t, super)
		if _, err := super.Exec(ctx, "CREATE FUNCTION auditrepo_claim.planted() RETURNS integer LANGUAGE sql RETURN 1; ALTER FUNCTION auditrepo_claim.planted() OWNER TO "+role); err != nil {
			t.Fatal(err)
		}
		want := "audit schema auditrepo_claim holds objects of roles other than the audit role auditrepo_audit: function auditrepo_claim.planted() (of " + role + ")"
		if _, err := auditschema.Install(ctx, super, auditschema.Config{}); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), want) {
			t.Errorf("Install: %v, want refused (ErrNotReady) naming %q", err, want)
		}
	})
	t.Run("left_without_the_audit_schema", func(t *testing.T) {
		super := pgtest.Audited(t, auditschema.Config{})
		if _, err := super.Exec(ctx, "DROP SCHEMA auditrepo, auditrepo_ddl CASCADE"); err != nil {
			t.Fatal(err)
		}
		want := "schema auditrepo_claim, the claim functions' schema, exists without the audit schema auditrepo"
		if _, err := auditschema.Install(ctx, super, auditschema.Config{}); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), `DROP SCHEMA "auditrepo_claim" CASCADE`) {
			t.Errorf("Install: %v, want refused (ErrNotReady) naming %q and its fix", err, want)
		}
	})
}
