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

func TestInstallTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Empty(t)
	rep, err := auditschema.Install(ctx, db, auditschema.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Installed || !rep.EventTrigger {
		t.Fatalf("first install: %+v, want installed with the event trigger (the test connects as a superuser)", rep)
	}
	// The audit role creates nothing outside its schema: no CREATE on the database (CREATE SCHEMA ... AUTHORIZATION
	// needs it of the installer only).
	var create bool
	if err := db.QueryRow(ctx, "SELECT has_database_privilege('auditrepo_audit', current_database(), 'CREATE')").Scan(&create); err != nil || create {
		t.Errorf("auditrepo_audit has CREATE on the database: %v (%v)", create, err)
	}
	before := catalog(t, db)
	rep, err = auditschema.Install(ctx, db, auditschema.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Installed {
		t.Fatal("second install created the schema again")
	}
	if after := catalog(t, db); after != before {
		t.Fatalf("second install changed the catalog:\nbefore %s\nafter  %s", before, after)
	}
}

// catalog summarizes the audit schema's objects and their privileges.
func catalog(t *testing.T, db *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := db.QueryRow(context.Background(), `
		SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || coalesce(c.relacl::text, ''), ' ' ORDER BY c.relname)
		       || ' | ' || (SELECT string_agg(p.proname || ':' || coalesce(p.proacl::text, ''), ' ' ORDER BY p.proname)
		                    FROM pg_proc p WHERE p.pronamespace = 'auditrepo'::regnamespace)
		FROM pg_class c WHERE c.relnamespace = 'auditrepo'::regnamespace`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInstallModelsNamesTheFix(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	if _, err := db.Exec(ctx, `CREATE TABLE pets (id bigint PRIMARY KEY, name text)`); err != nil {
		t.Fatal(err)
	}
	err := auditschema.InstallModels(ctx, db, auditschema.Config{}, auditschema.Models{
		Schema: "auditrepo", SQL: "SELECT 1/0", Tables: []auditschema.Table{
			{Name: "public.pets", Columns: []string{"id", "species"}},
			{Name: "public.missing", Columns: []string{"id"}},
		},
	})
	if !errors.Is(err, auditschema.ErrNotReady) {
		t.Fatalf("InstallModels = %v, want ErrNotReady", err)
	}
	for _, want := range []string{
		`ALTER TABLE public.pets OWNER TO "auditrepo_owner";`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON public.pets TO "auditrepo_app";`,
		"table public.missing does not exist",
		// A column the model does not declare would be in no audit row; one it declares that the table lacks
		// would fail every write.
		"table public.pets has columns its model does not declare: name",
		"table public.pets lacks columns its model declares: species",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audited_tables").Scan(&n); err != nil || n != 0 {
		t.Fatalf("audited_tables has %d rows (err %v) after a refused install", n, err)
	}
}
