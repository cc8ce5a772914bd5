package auditschema_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// A role with CREATE on the database and none on the audit schema (the migrating login that owns the database, as
// schemaMaker makes it) may still put objects in the audit schema: CREATE EXTENSION of a trusted extension (pgcrypto,
// citext, hstore, ...) with SCHEMA auditrepo checks no privilege on the schema, and its script runs as the bootstrap
// superuser. From then on every Install, InstallModels and Upgrade (every migrations.Up of every deploy) is refused:
// foreignSchema finds functions and types of postgres in the schema, names neither the extension nor the role that
// owns it, and its fix is to drop them (refused: the extension requires them) or DROP SCHEMA auditrepo CASCADE, which
// takes the trail with it. The event trigger should refuse the extension's objects in the audit schema (it sees them
// at ddl_command_end, in_extension); where it did not (no superuser installed it), the problem should name the
// extension, its owner and DROP EXTENSION.
func TestTrustedExtensionInTheAuditSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Audited(t, auditschema.Config{})
	if !available(t, super, "pgcrypto") {
		t.Skip("pgcrypto is not available")
	}
	role, maker := schemaMaker(t, super)
	_, err := maker.Exec(ctx, "CREATE EXTENSION pgcrypto SCHEMA auditrepo")
	if err == nil {
		t.Errorf("%s, with CREATE on the database and none on schema auditrepo, put extension pgcrypto's functions into the audit schema", role)
	} else if pgtest.SQLState(err) != "42501" {
		t.Errorf("CREATE EXTENSION pgcrypto SCHEMA auditrepo as %s: %v, want refused (42501)", role, err)
	}
	if _, err := auditschema.Install(ctx, super, auditschema.Config{}); err != nil {
		msg := err.Error()
		if !strings.Contains(msg, "extension pgcrypto") || !strings.Contains(msg, role) || !strings.Contains(msg, "DROP EXTENSION") {
			t.Errorf("Install after %s's CREATE EXTENSION pgcrypto SCHEMA auditrepo: %.400s...\nwant it to install, or to name the extension, its owner %s and DROP EXTENSION as the fix (not the extension's functions as postgres's, nor DROP SCHEMA CASCADE)",
				role, msg, role)
		}
	}
}

func available(t *testing.T, db *pgxpool.Pool, ext string) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow(context.Background(), "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = $1)", ext).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
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
// (and, for a CREATEROLE installer, right after granting it the audit and writer roles), without looking at whose
// schema auditrepo is. A role that made the schema before the audit schema's SQL ran (which that SQL then refuses,
// with a HINT that "an audit schema this SQL installed needs no second run", inviting the operator on to the models'
// SQL) has its check_models run as the superuser. The models' SQL should refuse a schema, or a check_models, that is
// not the audit role's before it calls anything in it, as Install does (foreignSchema).
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

// InstalledRevision, which every auditrepo CLI command runs first (checkRevision), reads <schema>.schema_version as
// whoever runs the command without looking at whose schema, or what relation, it is: a view of another role's there
// runs its code as the CLI's user (a superuser, or the sealer). Install refuses such a schema (foreignSchema) before
// reading it; InstalledRevision should too.
func TestInstalledRevisionRunsNoCodeOfAnotherRolesSchema(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Empty(t)
	role := plantProbe(t, super, `;
		CREATE VIEW auditrepo.schema_version AS SELECT auditrepo.probe() AS version, ''::text AS revision, ''::text AS digest;
		GRANT SELECT ON auditrepo.schema_version TO PUBLIC`)
	_, _, err := auditschema.InstalledRevision(ctx, super, "auditrepo")
	if probeRan(t, super) {
		t.Errorf("InstalledRevision ran %s's function, through its view auditrepo.schema_version, as the superuser (err %v)", role, err)
	}
	if err == nil || !errors.Is(err, auditschema.ErrNotReady) && !strings.Contains(err.Error(), role) {
		t.Errorf("InstalledRevision over %s's schema auditrepo: %v; want refused, naming its owner", role, err)
	}
}
