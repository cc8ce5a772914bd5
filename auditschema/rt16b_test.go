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

// rt16bRole creates a LOGIN role with a random name that may create schemas in db's database (as a migrating
// login that owns the database, or was granted CREATE on it, may), connects as it, and drops it at the end.
func rt16bRole(t *testing.T, super *pgxpool.Pool) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	role := fmt.Sprintf("rt16b_att_%d", rand.Uint32())
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
// function of its own. Install, run by a superuser, reads that view to find the installed version: the function
// runs as the superuser (here it only advances a sequence, which no rollback undoes; it could as well
// COPY ... TO PROGRAM, or grant its role SUPERUSER). Install must not read, as the installer, a schema_version
// that is not the audit role's, in a schema that is not the audit role's.
func TestRT16bInstallRunsNoCodeOfAPrecreatedSchema(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role, att := rt16bRole(t, super)
	if _, err := att.Exec(ctx, `CREATE SCHEMA auditrepo;
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
		CREATE VIEW auditrepo.schema_version AS
			SELECT auditrepo.probe() AS version, ''::text AS revision, ''::text AS digest`); err != nil {
		t.Fatal(err)
	}
	_, err := auditschema.Install(ctx, super, auditschema.Config{})
	if !errors.Is(err, auditschema.ErrNotReady) {
		t.Errorf("Install over %s's schema auditrepo: %v, want refused (ErrNotReady)", role, err)
	}
	var ran bool
	if err := super.QueryRow(ctx, "SELECT is_called FROM auditrepo.ran_as_superuser").Scan(&ran); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Errorf("Install ran a function of %s's, from its view auditrepo.schema_version, as the superuser installing", role)
	}
}

// The same role makes the whole audit schema itself, from the SQL `auditrepo schema` prints (its own revision and
// digest in schema_version), owning every table of it. Install finds "this revision, installed", installs the
// event trigger over it and reports success: the trail would then be a table that role owns, whose rows it may
// delete (it owns the append-only trigger too) and whose ddl_log it may empty. Install must refuse an audit
// schema, or a schema_version, that the audit role does not own.
func TestRT16bInstallRefusesAnAuditSchemaOfAnotherRole(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role, att := rt16bRole(t, super)
	sql, err := auditschema.Config{}.SQL()
	if err != nil {
		t.Fatal(err)
	}
	// What the role cannot run of it (the roles' part, SET ROLE to the audit role): from CREATE SCHEMA on, as itself.
	sql = sql[strings.Index(sql, "CREATE SCHEMA "):]
	sql = strings.Replace(sql, ` AUTHORIZATION "auditrepo_audit"`, "", 1)
	sql = strings.Replace(sql, "\nSET ROLE \"auditrepo_audit\";", "\n", 1)
	sql = strings.Replace(sql, "\nRESET ROLE;", "\n", 1)
	if i := strings.LastIndex(sql, "-- +goose StatementBegin"); i >= 0 {
		sql = sql[:i] // the REVOKE of the audit role and the search_path's reset
	}
	if _, err := att.Exec(ctx, "SET search_path = pg_catalog, pg_temp;\n"+sql+`;
		GRANT ALL ON SCHEMA auditrepo TO auditrepo_audit, auditrepo_writer;
		GRANT ALL ON ALL TABLES IN SCHEMA auditrepo TO auditrepo_audit;
		GRANT ALL ON ALL SEQUENCES IN SCHEMA auditrepo TO auditrepo_audit;
		GRANT ALL ON ALL FUNCTIONS IN SCHEMA auditrepo TO auditrepo_audit, auditrepo_writer`); err != nil {
		t.Fatalf("%s making its own audit schema: %v", role, err)
	}
	rep, err := auditschema.Install(ctx, super, auditschema.Config{})
	if !errors.Is(err, auditschema.ErrNotReady) {
		t.Errorf("Install over the audit schema %s made and owns: %+v, %v; want refused (ErrNotReady) naming its owner", role, rep, err)
	}
	// What that role can do to the trail of such an install.
	if err == nil {
		if _, err := att.Exec(ctx, `ALTER TABLE auditrepo.audit_log DISABLE TRIGGER refuse_update_delete;
			DELETE FROM auditrepo.audit_log; TRUNCATE auditrepo.ddl_log`); err != nil {
			t.Logf("%s erasing the trail: %v", role, err)
		} else {
			t.Logf("%s deleted the trail's rows and emptied ddl_log after Install reported success", role)
		}
	}
}

// `auditrepo schema`'s SQL may be run statement by statement (psql -f without -1, as v1.sql's comment allows).
// Run so a second time by the CREATEROLE installer (a redeploy that runs it again, with ON_ERROR_STOP), it
// stops at CREATE SCHEMA, which exists: after its GRANT of the audit role to the installer and before the
// REVOKE at its end. The installer stays a member of the audit role, which owns the trail: it may then disable the
// append-only trigger and delete audit rows, even once CREATEROLE is taken from it as the README advises (and
// role_problems never names the installer among the audit role's members when it installs again). A failed run
// must leave no membership behind: refuse before the GRANT when the schema exists, or grant nothing lasting.
func TestRT16bSchemaSQLRerunLeavesNoAuditMembership(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not found")
	}
	ctx := context.Background()
	super := pgtest.Empty(t)
	role := fmt.Sprintf("rt16b_inst_%d", rand.Uint32())
	dbName := super.Config().ConnConfig.Database
	if _, err := super.Exec(ctx, "CREATE ROLE "+role+" LOGIN CREATEROLE; ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER TO "+role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, q := range []string{
			"REVOKE auditrepo_audit FROM " + role,
			"ALTER DATABASE " + pgx.Identifier{dbName}.Sanitize() + " OWNER TO CURRENT_USER",
			"DROP OWNED BY " + role, "DROP ROLE " + role,
		} {
			if _, err := super.Exec(ctx, q); err != nil {
				t.Logf("cleanup %s: %v", q, err)
			}
		}
	})
	sql, err := auditschema.Config{}.SQL()
	if err != nil {
		t.Fatal(err)
	}
	cc := super.Config().ConnConfig
	run := func(i int) {
		cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cc.Host, "-p", fmt.Sprint(cc.Port), "-U", role, "-d", dbName, "-f", "-")
		cmd.Stdin = strings.NewReader(sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD=")
		out, err := cmd.CombinedOutput()
		t.Logf("psql run %d: %v\n%s", i, err, out)
	}
	run(1)
	var member bool
	if err := super.QueryRow(ctx, "SELECT pg_has_role($1, 'auditrepo_audit', 'MEMBER')", role).Scan(&member); err != nil {
		t.Fatal(err)
	}
	if member {
		t.Fatalf("%s is a member of auditrepo_audit after the first run", role)
	}
	run(2) // fails at CREATE SCHEMA
	if err := super.QueryRow(ctx, "SELECT pg_has_role($1, 'auditrepo_audit', 'MEMBER')", role).Scan(&member); err != nil {
		t.Fatal(err)
	}
	if member {
		t.Errorf("a second statement-by-statement run of the schema SQL, which failed, left %s a member of auditrepo_audit (which owns the trail)", role)
	}
}

// The same with the models' SQL (repo.AuditModels.SQL), run statement by statement by a CREATEROLE installer: its
// first block grants the installer the audit and writer roles, and check_models, the very next statement, refuses
// whenever a table is not ready (here: none exists yet), which is its ordinary way to say no. With ON_ERROR_STOP the
// REVOKE at its end never runs: the installer stays a member of the audit role (the trail's owner) and the writer.
func TestRT16bModelsSQLRefusalLeavesNoMembership(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not found")
	}
	ctx := context.Background()
	super := pgtest.Audited(t, auditschema.Config{})
	role := fmt.Sprintf("rt16b_inst_%d", rand.Uint32())
	dbName := super.Config().ConnConfig.Database
	if _, err := super.Exec(ctx, "CREATE ROLE "+role+" LOGIN CREATEROLE; ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER TO "+role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, q := range []string{
			"REVOKE auditrepo_audit, auditrepo_writer FROM " + role,
			"ALTER DATABASE " + pgx.Identifier{dbName}.Sanitize() + " OWNER TO CURRENT_USER",
			"DROP OWNED BY " + role, "DROP ROLE " + role,
		} {
			if _, err := super.Exec(ctx, q); err != nil {
				t.Logf("cleanup %s: %v", q, err)
			}
		}
	})
	cc := super.Config().ConnConfig
	cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cc.Host, "-p", fmt.Sprint(cc.Port), "-U", role, "-d", dbName, "-f", "-")
	cmd.Stdin = strings.NewReader(repo.AuditModels.SQL)
	cmd.Env = append(os.Environ(), "PGPASSWORD=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the models' SQL installed with no tables:\n%s", out)
	}
	var audit, writer bool
	if err := super.QueryRow(ctx, "SELECT pg_has_role($1, 'auditrepo_audit', 'MEMBER'), pg_has_role($1, 'auditrepo_writer', 'MEMBER')", role).Scan(&audit, &writer); err != nil {
		t.Fatal(err)
	}
	if audit || writer {
		t.Errorf("the models' SQL, refused by check_models, left %s a member of auditrepo_audit (%v) and auditrepo_writer (%v)", role, audit, writer)
	}
}
