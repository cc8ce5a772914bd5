package auditschema_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// A role with CREATE on the database and none on the audit schema (the migrating login that owns the database, as
// schemaMaker makes it) may still put objects in the audit schema: CREATE EXTENSION of a trusted extension (pgcrypto,
// citext, hstore, ...) with SCHEMA auditrepo checks no privilege on the schema, and its script runs as the bootstrap
// superuser. Every later Install, InstallModels and Upgrade would refuse the schema (its objects are no audit
// role's). The event trigger refuses, at the command's end, an extension left in the audit schema, the claim
// functions' or the event trigger's, whether created there or moved there by ALTER EXTENSION (a superuser's: PostgreSQL checks CREATE on
// the new schema for the others).
func TestTrustedExtensionInTheAuditSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Audited(t, auditschema.Config{})
	if !available(t, super, "pgcrypto") {
		t.Skip("pgcrypto is not available")
	}
	role, maker := schemaMaker(t, super)
	for _, schema := range []string{"auditrepo", "auditrepo_claim", "auditrepo_ddl"} {
		_, err := maker.Exec(ctx, "CREATE EXTENSION pgcrypto SCHEMA "+schema)
		if err == nil {
			t.Errorf("%s, with CREATE on the database and none on schema %s, put extension pgcrypto's functions into it", role, schema)
		} else if pgtest.SQLState(err) != "42501" || !strings.Contains(err.Error(), "pgcrypto") {
			t.Errorf("CREATE EXTENSION pgcrypto SCHEMA %s as %s: %v, want refused (42501), naming the extension", schema, role, err)
		}
	}
	if _, err := maker.Exec(ctx, "CREATE SCHEMA ext; CREATE EXTENSION pgcrypto SCHEMA ext"); err != nil {
		t.Fatal(err)
	}
	if _, err := super.Exec(ctx, "ALTER EXTENSION pgcrypto SET SCHEMA auditrepo"); pgtest.SQLState(err) != "42501" {
		t.Errorf("ALTER EXTENSION pgcrypto SET SCHEMA auditrepo as a superuser: %v, want refused (42501)", err)
	}
	if _, err := auditschema.Install(ctx, super, auditschema.Config{}); err != nil {
		t.Errorf("Install after the refused extensions: %v", err)
	}
}

// Where the event trigger did not refuse it (no superuser installed the schema, or the extension came before the
// event trigger), Install finds the extension's objects in the audit schema: it names the extension and the role
// that created it, with DROP EXTENSION as the fix, not each of its functions as the bootstrap superuser's (which
// may not be dropped alone), nor DROP SCHEMA CASCADE, which would take the trail with it.
func TestInstallNamesAnExtensionInTheAuditSchema(t *testing.T) {
	ctx := context.Background()
	super := pgtest.Audited(t, auditschema.Config{})
	if !available(t, super, "pgcrypto") {
		t.Skip("pgcrypto is not available")
	}
	role, maker := schemaMaker(t, super)
	if _, err := super.Exec(ctx, "ALTER EVENT TRIGGER auditrepo_ddl_end DISABLE"); err != nil {
		t.Fatal(err)
	}
	if _, err := maker.Exec(ctx, "CREATE EXTENSION pgcrypto SCHEMA auditrepo"); err != nil {
		t.Fatal(err)
	}
	_, err := auditschema.Install(ctx, super, auditschema.Config{})
	if !errors.Is(err, auditschema.ErrNotReady) {
		t.Fatalf("Install with extension pgcrypto in the audit schema: %v, want refused (ErrNotReady)", err)
	}
	msg := err.Error()
	for _, want := range []string{"extension pgcrypto (of " + role + ")", "DROP EXTENSION pgcrypto"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Install's refusal: %s\nwant it to hold %q", msg, want)
		}
	}
	for _, not := range []string{"DROP SCHEMA", "function auditrepo."} {
		if strings.Contains(msg, not) {
			t.Errorf("Install's refusal: %s\nwant no %q: the extension is the problem, and its fix DROP EXTENSION", msg, not)
		}
	}
	if _, err := super.Exec(ctx, "DROP EXTENSION pgcrypto"); err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.Install(ctx, super, auditschema.Config{}); err != nil {
		t.Errorf("Install after DROP EXTENSION pgcrypto: %v", err)
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
