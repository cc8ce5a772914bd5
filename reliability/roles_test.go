package reliability_test

// Append-only, by role: the migrations give every object to auditrepo_owner and the application's role,
// auditrepo_app, only the privileges it needs. As auditrepo_app the trail cannot be updated, deleted,
// truncated or dropped, and neither its triggers nor the backstop's can be disabled.

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/migrations"
)

// TestRolePrivileges reads the catalog: who owns what, and exactly which privileges the application has.
func TestRolePrivileges(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	ctx := t.Context()

	var user string
	if err := c.app.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil || user != migrations.AppRole {
		t.Fatalf("the tests' pool connects as %q (%v), want %s", user, err, migrations.AppRole)
	}

	// Every table, sequence and function of the schema belongs to the owner role (goose's own table aside).
	rows, err := c.app.Query(ctx, `
		SELECT 'relation ' || c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'S', 'v', 'm', 'p')
			AND c.relname NOT LIKE 'goose_db_version%'
		UNION ALL
		SELECT 'function ' || p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p
		WHERE p.pronamespace = current_schema()::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for rows.Next() {
		var obj, owner string
		if err := rows.Scan(&obj, &owner); err != nil {
			t.Fatal(err)
		}
		owners[obj] = owner
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, tab := range guardedTables {
		if _, ok := owners["relation "+tab]; !ok {
			t.Errorf("table %s not found in the catalog", tab)
		}
	}
	if _, ok := owners["function auditrepo_backstop_appointments"]; !ok {
		t.Errorf("backstop function of appointments not found: %v", slices.Sorted(maps.Keys(owners)))
	}
	for obj, owner := range owners {
		if owner != migrations.OwnerRole {
			t.Errorf("%s is owned by %s, want %s", obj, owner, migrations.OwnerRole)
		}
	}

	// The application's privileges, table by table: all of them, so a new grant fails the test too.
	privs := []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
	for _, tab := range append(slices.Clone(guardedTables), "goose_db_version") {
		var got []string
		for _, p := range privs {
			var has bool
			if err := c.app.QueryRow(ctx, "SELECT has_table_privilege($1, $2, $3)", migrations.AppRole, tab, p).Scan(&has); err != nil {
				t.Fatalf("%s on %s: %v", p, tab, err)
			}
			if has {
				got = append(got, p)
			}
		}
		want := "SELECT INSERT UPDATE DELETE"
		switch tab {
		case "audit_log":
			want = "SELECT INSERT"
		case "goose_db_version":
			want = ""
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("auditrepo_app on %s: %q, want %q", tab, g, want)
		}
	}

	var super, createRole, createDB, bypassRLS, member, schemaCreate bool
	err = c.app.QueryRow(ctx, `SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,
			pg_has_role($1, $2, 'MEMBER'), has_schema_privilege($1, current_schema(), 'CREATE')
		FROM pg_roles WHERE rolname = $1`, migrations.AppRole, migrations.OwnerRole).
		Scan(&super, &createRole, &createDB, &bypassRLS, &member, &schemaCreate)
	if err != nil {
		t.Fatal(err)
	}
	if super || createRole || createDB || bypassRLS || member || schemaCreate {
		t.Errorf("auditrepo_app: superuser %v, createrole %v, createdb %v, bypassrls %v, member of owner %v, create in schema %v; want all false",
			super, createRole, createDB, bypassRLS, member, schemaCreate)
	}

	// Every PHI table carries the four backstop triggers, enabled.
	for _, tab := range phiTables {
		var names []string
		rows, err := c.app.Query(ctx, `SELECT tgname FROM pg_trigger
			WHERE tgrelid = $1::regclass AND NOT tgisinternal AND tgenabled = 'O' ORDER BY tgname`, tab)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := "auditrepo_backstop_delete auditrepo_backstop_insert auditrepo_backstop_truncate auditrepo_backstop_update"
		if got := strings.Join(names, " "); got != want {
			t.Errorf("enabled triggers on %s: %q, want %q", tab, got, want)
		}
	}
}

// TestAppendOnlyByRole tries, as auditrepo_app, everything that would rewrite or silence the trail.
func TestAppendOnlyByRole(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	before := tableImages(t, c.owner, guardedTables)

	// 42501 is insufficient_privilege: permission denied, or "must be owner".
	refused := []string{
		"UPDATE audit_log SET request_id = 'forged'",
		"UPDATE audit_log SET changes = '{}' WHERE id = (SELECT min(id) FROM audit_log)",
		"DELETE FROM audit_log",
		"DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
		"TRUNCATE audit_log",
		"TRUNCATE audit_log CASCADE",
		"ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
		"ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate",
		"ALTER TABLE audit_log DISABLE TRIGGER ALL",
		"ALTER TABLE audit_log DISABLE TRIGGER USER",
		"DROP TRIGGER audit_log_no_update_delete ON audit_log",
		"ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check",
		"ALTER TABLE audit_log RENAME TO audit_log_old",
		"DROP TABLE audit_log",
		"CREATE OR REPLACE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
		// Replication role "replica" would skip every ordinary trigger; only superusers may set it.
		"SET session_replication_role = replica",
		// The backstop on the PHI tables cannot be switched off either.
		"ALTER TABLE appointments DISABLE TRIGGER auditrepo_backstop_update",
		"ALTER TABLE users DISABLE TRIGGER ALL",
		"DROP TRIGGER auditrepo_backstop_delete ON documents",
		"DROP FUNCTION auditrepo_backstop_appointments() CASCADE",
		"TRUNCATE appointments",
	}
	for _, sql := range refused {
		err := execAs(c.app, sql)
		if got := sqlState(err); got != "42501" {
			t.Errorf("as auditrepo_app, %s: error %v (SQLSTATE %q), want SQLSTATE 42501", sql, err, got)
		}
	}
	// Granting itself more is no error (PostgreSQL only warns that nothing was granted), and grants nothing.
	if err := execAs(c.app, "GRANT UPDATE, DELETE, TRUNCATE ON audit_log TO auditrepo_app"); err != nil {
		t.Logf("GRANT as auditrepo_app: %v", err)
	}
	var canUpdate bool
	if err := c.app.QueryRow(t.Context(), "SELECT has_table_privilege('audit_log', 'UPDATE') OR has_table_privilege('audit_log', 'DELETE') OR has_table_privilege('audit_log', 'TRUNCATE')").Scan(&canUpdate); err != nil || canUpdate {
		t.Errorf("after GRANT as auditrepo_app: may update, delete or truncate audit_log = %v (%v)", canUpdate, err)
	}
	// The same, inside a transaction that goes on afterwards: no statement got through and was kept.
	tx, err := c.app.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range refused[:5] {
		if _, err := tx.Exec(t.Context(), "SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		if err := execAs(tx, sql); sqlState(err) != "42501" {
			t.Errorf("in a transaction, %s: %v, want SQLSTATE 42501", sql, err)
		}
		if _, err := tx.Exec(t.Context(), "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}

	if after := tableImages(t, c.owner, guardedTables); !maps.Equal(before, after) {
		for tab := range before {
			if before[tab] != after[tab] {
				t.Errorf("%s changed:\nbefore %s\nafter  %s", tab, before[tab], after[tab])
			}
		}
	}
}

// TestAppendOnlyForOwner: the owner can change the schema, but its UPDATE, DELETE and TRUNCATE of the trail
// and its TRUNCATE of a PHI table are still refused by triggers (it could disable them: that is an ALTER
// TABLE, visible in the database's DDL log, not a silent data change).
func TestAppendOnlyForOwner(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	before := tableImages(t, c.owner, guardedTables)
	for _, tc := range []struct{ sql, msg string }{
		{"UPDATE audit_log SET request_id = 'forged'", "append-only: UPDATE refused"},
		{"DELETE FROM audit_log", "append-only: DELETE refused"},
		{"TRUNCATE audit_log", "append-only: TRUNCATE refused"},
		{"TRUNCATE documents", "TRUNCATE on PHI table documents refused"},
		{"TRUNCATE patient_intake_forms", "TRUNCATE on PHI table patient_intake_forms refused"},
	} {
		err := execAs(c.owner, tc.sql)
		if sqlState(err) != "42501" || err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("as owner, %s: %v; want SQLSTATE 42501 and %q", tc.sql, err, tc.msg)
		}
	}
	if after := tableImages(t, c.owner, guardedTables); !maps.Equal(before, after) {
		t.Errorf("tables changed")
	}
	// The owner is the one role that can still change the schema (the point of having two roles).
	if err := execAs(c.owner, "ALTER TABLE audit_log ALTER COLUMN request_id SET STATISTICS 100"); err != nil {
		t.Errorf("owner cannot alter audit_log: %v", err)
	}
}
