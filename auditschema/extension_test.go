package auditschema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
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
