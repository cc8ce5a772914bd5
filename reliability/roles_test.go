package reliability_test

// Append-only, by role. The clinic's tables belong to auditrepo_owner; the audit schema and its tables belong to
// auditrepo_audit, the trigger functions to auditrepo_writer, which may only add audit rows; nobody is a member of
// either. The application (auditrepo_app) writes the PHI tables and has no privilege at all on the audit tables;
// the reviewer may only read them; the owner of the clinic's tables (the migrating user) cannot write, empty or
// silence the trail either, nor can the trigger functions' own role. Each attack runs as its role and must be
// refused by the server.

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/internal/testdb"
	"github.com/auditrepo/auditrepo/migrations"
)

var (
	roleAudit    = migrations.Audit.Audit
	roleWriter   = migrations.Audit.Writer
	roleOwner    = migrations.Audit.Owner
	roleApp      = migrations.Audit.App
	roleReviewer = migrations.Audit.Reviewer
	roleSealer   = migrations.Audit.Sealer
	auditSchema  = migrations.Audit.Schema
	claimSchema  = migrations.Audit.ClaimSchema() // the claim functions'
	auditTable   = migrations.Audit.QualifiedTable()
	auditName    = auditSchema + "." + migrations.Audit.Table // as format('%I.%I') renders it
)

// auditTables are the audit schema's tables as the catalog lists them (partitions included).
func auditTables(t *testing.T, c *clinictest.Clinic) []string {
	t.Helper()
	out := relations(t, c, auditSchema, "r", "p")
	for _, want := range []string{auditName, auditSchema + ".ddl_log", auditSchema + ".audited_tables", auditSchema + ".schema_version"} {
		if !slices.Contains(out, want) {
			t.Fatalf("audit table %s not in the catalog: %v", want, out)
		}
	}
	return out
}

// relations are the relations of schema of the kinds (pg_class.relkind), schema-qualified, as the catalog lists
// them.
func relations(t *testing.T, c *clinictest.Clinic, schema string, kinds ...string) []string {
	t.Helper()
	return pgtest.Strings(t, c.Super, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind::text = ANY($2) ORDER BY 1`, schema, kinds)
}

// tablePrivs returns role's privileges on table, in a fixed order.
func tablePrivs(t *testing.T, c *clinictest.Clinic, role, table string) string {
	t.Helper()
	var got []string
	for _, p := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"} {
		var has bool
		if err := c.Super.QueryRow(t.Context(), "SELECT has_table_privilege($1, $2::regclass, $3)", role, table, p).Scan(&has); err != nil {
			t.Fatalf("%s on %s: %v", p, table, err)
		}
		if has {
			got = append(got, p)
		}
	}
	return strings.Join(got, " ")
}

// relationPrivs is tablePrivs for any relation: a sequence's privileges, and "P(column)" for a privilege P role
// has on some column of a table but not on the table.
func relationPrivs(t *testing.T, c *clinictest.Clinic, role, rel string) string {
	t.Helper()
	var kind string
	if err := c.Super.QueryRow(t.Context(), "SELECT relkind::text FROM pg_class WHERE oid = $1::regclass", rel).Scan(&kind); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if kind == "S" {
		var got []string
		for _, p := range []string{"USAGE", "SELECT", "UPDATE"} {
			var has bool
			if err := c.Super.QueryRow(t.Context(), "SELECT has_sequence_privilege($1, $2::regclass, $3)", role, rel, p).Scan(&has); err != nil {
				t.Fatalf("%s on %s: %v", p, rel, err)
			}
			if has {
				got = append(got, p)
			}
		}
		return strings.Join(got, " ")
	}
	got := tablePrivs(t, c, role, rel)
	for _, p := range []string{"SELECT", "INSERT", "UPDATE", "REFERENCES"} {
		var col bool
		if err := c.Super.QueryRow(t.Context(), `SELECT has_any_column_privilege($1, $2::regclass, $3)
			AND NOT has_table_privilege($1, $2::regclass, $3)`, role, rel, p).Scan(&col); err != nil {
			t.Fatalf("%s on a column of %s: %v", p, rel, err)
		}
		if col {
			got = strings.TrimSpace(got + " " + p + "(column)")
		}
	}
	return got
}

// TestRolePrivileges reads the catalog (as the superuser): who owns what, and exactly which privileges the
// application and the reviewer have.
func TestRolePrivileges(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t)
	ctx := t.Context()

	for pool, want := range map[*pgxpool.Pool]string{c.App: roleApp, c.Reviewer: roleReviewer, c.Owner: testdb.OwnerLogin} {
		var user string
		if err := pool.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil || user != want {
			t.Fatalf("a test pool connects as %q (%v), want %s", user, err, want)
		}
	}

	// Owners: the clinic's relations (goose's table aside) are the owner role's; the audit schema and everything
	// in it, tables, partitions, sequences and functions, the audit role's, but the functions that run in an
	// audited write, and stale(), which replaces one: the writer role's; the claim functions' schema and its
	// functions, the audit role's.
	rows, err := c.Super.Query(ctx, `
		SELECT n.nspname, 'relation ' || c.relname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('public', $1, $2) AND c.relkind IN ('r', 'S', 'v', 'm', 'p') AND c.relname NOT LIKE 'goose_db_version%'
		UNION ALL
		SELECT n.nspname, 'function ' || p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname IN ('public', $1, $2)
		UNION ALL
		SELECT n.nspname, 'schema', pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE n.nspname IN ($1, $2)`, auditSchema, claimSchema)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for rows.Next() {
		var schema, obj, owner string
		if err := rows.Scan(&schema, &obj, &owner); err != nil {
			t.Fatal(err)
		}
		owners[schema+" "+obj] = owner
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"public relation clinic_locations", auditSchema + " schema", auditSchema + " relation " + migrations.Audit.Table,
		auditSchema + " relation ddl_log", claimSchema + " schema", claimSchema + " function claim", claimSchema + " function claim_public_appointments",
		auditSchema + " function audit_public_appointments"} {
		if _, ok := owners[must]; !ok {
			t.Errorf("%s not found in the catalog: %v", must, slices.Sorted(maps.Keys(owners)))
		}
	}
	for _, tab := range phiTables {
		if _, ok := owners["public relation "+tab]; !ok {
			t.Errorf("PHI table %s not found in the catalog", tab)
		}
	}
	writers := pgtest.Strings(t, c.Super, `SELECT $1 || ' function ' || p.proname FROM `+auditSchema+`.audited_tables a
		JOIN pg_proc p ON p.oid = a.func ORDER BY 1`, auditSchema)
	if len(writers) != len(phiTables) {
		t.Errorf("trigger functions of audited_tables: %v, want one per PHI table", writers)
	}
	writers = append(writers, auditSchema+" function hop_gone", auditSchema+" function stale")
	for obj, owner := range owners {
		want := roleOwner
		switch {
		case slices.Contains(writers, obj):
			want = roleWriter
		case strings.HasPrefix(obj, auditSchema+" "), strings.HasPrefix(obj, claimSchema+" "):
			want = roleAudit
		}
		if owner != want {
			t.Errorf("%s is owned by %s, want %s", obj, owner, want)
		}
	}

	// The application: read and write the clinic's tables; nothing at all on any audit table.
	for _, tab := range append([]string{"clinic_locations", "goose_db_version"}, phiTables...) {
		want := "SELECT INSERT UPDATE DELETE"
		if tab == "goose_db_version" {
			want = ""
		}
		if got := tablePrivs(t, c, roleApp, tab); got != want {
			t.Errorf("%s on %s: %q, want %q", roleApp, tab, got, want)
		}
	}
	// The reviewer and the audit and writer roles on every relation of public, whatever a migration adds: the
	// reviewer reads the trail and nothing of the application's, nor does the audit role; the writer role reads
	// only the tables the generated install grants it SELECT on (repo.AuditModels: its trigger functions follow the
	// models' patient paths), and it may UPDATE a column only of appointments, the one table a patient is found
	// through (invoices'), to lock its rows FOR SHARE under REPEATABLE READ and SERIALIZABLE. A grant on one column
	// counts as much as a grant on the table.
	writerReads := map[string]bool{}
	for _, m := range repo.AuditModels.Tables {
		writerReads[m.Name] = true
	}
	public := relations(t, c, "public", "r", "p", "v", "m", "f", "S") // tables, partitions, views, matviews, foreign tables, sequences
	for _, tab := range phiTables {
		if !slices.Contains(public, "public."+tab) {
			t.Errorf("PHI table %s not among public's relations: %v", tab, public)
		}
	}
	for _, rel := range public {
		for _, role := range []string{roleReviewer, roleAudit, roleWriter} {
			want := ""
			if role == roleWriter && writerReads[rel] {
				want = "SELECT"
				if rel == "public.appointments" {
					want += " UPDATE(column)"
				}
			}
			if got := relationPrivs(t, c, role, rel); got != want {
				t.Errorf("%s on %s: %q, want %q", role, rel, got, want)
			}
		}
	}
	// That column is id, and no other.
	updatable := pgtest.Strings(t, c.Super, `SELECT a.attname::text FROM pg_attribute a
		WHERE a.attrelid = 'public.appointments'::regclass AND a.attnum > 0 AND NOT a.attisdropped
		  AND has_column_privilege($1, a.attrelid, a.attnum, 'UPDATE') ORDER BY 1`, roleWriter)
	if !slices.Equal(updatable, []string{"id"}) {
		t.Errorf("%s may UPDATE columns %v of appointments, want only id", roleWriter, updatable)
	}

	readable := []string{auditName, auditSchema + ".ddl_log", auditSchema + ".schema_version", auditSchema + ".audited_tables",
		auditSchema + ".legal_holds", auditSchema + ".retention_log"}
	// Sealing appends checkpoints and leaf hashes as the sealer, through seal_leaves() and seal_checkpoint()
	// only; they are signed with a key outside the database.
	sealing := []string{auditSchema + ".seal_checkpoint", auditSchema + ".seal_leaf"}
	// Who holds and drops partitions may read what retention did, and, as the sealer may, which revision of the
	// schema is installed (auditrepo refuses another).
	ownerReads := []string{auditSchema + ".legal_holds", auditSchema + ".retention_log", auditSchema + ".schema_version"}
	for _, tab := range auditTables(t, c) {
		if got := tablePrivs(t, c, roleApp, tab); got != "" {
			t.Errorf("%s on %s: %q, want no privilege", roleApp, tab, got)
		}
		// The reviewer reads the trail and the seals, and does nothing else.
		want := ""
		if slices.Contains(readable, tab) || slices.Contains(sealing, tab) {
			want = "SELECT"
		}
		if got := tablePrivs(t, c, roleReviewer, tab); got != want {
			t.Errorf("%s on %s: %q, want %q", roleReviewer, tab, got, want)
		}
		// The sealer reads the trail, the seals it appends to, what retention dropped (verify accounts for it) and
		// the schema's revision.
		want = ""
		if tab == auditName || slices.Contains(sealing, tab) || tab == auditSchema+".retention_log" || tab == auditSchema+".schema_version" {
			want = "SELECT"
		}
		if got := tablePrivs(t, c, roleSealer, tab); got != want {
			t.Errorf("%s on %s: %q, want %q", roleSealer, tab, got, want)
		}
		// Nor the owner of the clinic's tables: no privilege on the trail itself.
		want = ""
		if slices.Contains(ownerReads, tab) {
			want = "SELECT"
		}
		if got := tablePrivs(t, c, testdb.OwnerLogin, tab); got != want {
			t.Errorf("%s (member of %s) on %s: %q, want %q", testdb.OwnerLogin, roleOwner, tab, got, want)
		}
		// The trigger functions' role inserts into the trail only through the view below.
		if got := relationPrivs(t, c, roleWriter, tab); got != "" {
			t.Errorf("%s on %s: %q, want no privilege", roleWriter, tab, got)
		}
	}
	// That view's columns are what a trigger function writes, not the server's facts (its id, time, transaction,
	// session role, client address), which the audit table's defaults set. The writer may insert
	// into it and do nothing else; no other role may touch it.
	writes := migrations.Audit.QualifiedWritesView()
	columns := pgtest.Strings(t, c.Super, `SELECT a.attname::text FROM pg_attribute a
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, writes)
	if want := []string{"actor_kind", "actor_id", "ip", "user_agent", "request_id", "method", "action", "target_table", "target_id",
		"patient_id", "prior_patient_id", "changes"}; !slices.Equal(columns, want) {
		t.Errorf("%s has columns %v, want %v", writes, columns, want)
	}
	for _, role := range []string{roleWriter, roleApp, roleReviewer, roleSealer, testdb.OwnerLogin} {
		want := ""
		if role == roleWriter {
			want = "INSERT"
		}
		if got := relationPrivs(t, c, role, writes); got != want {
			t.Errorf("%s on %s: %q, want %q", role, writes, got, want)
		}
	}
	for _, seq := range relations(t, c, auditSchema, "S") {
		if got := relationPrivs(t, c, roleWriter, seq); got != "" {
			t.Errorf("%s on %s: %q, want no privilege", roleWriter, seq, got)
		}
	}

	// Who may call what of the audit schema (the trigger functions included) and of the claim functions' schema:
	// the application may claim, and nothing of the audit schema; the owner's members keep the partitions and apply
	// retention; the sealer appends seals; the reviewer calls nothing.
	for role, want := range map[string][2]string{
		roleApp: {"", "claim(text,text,text) claim_field(text) claim_prefix(text) claim_public_appointments(text,text) claim_public_billings(text,text) " +
			"claim_public_dental_records(text,text) claim_public_documents(text,text) claim_public_invoices(text,text) " +
			"claim_public_patient_intake_forms(text,text) claim_public_treatment_plans(text,text) claim_public_users(text,text)"},
		testdb.OwnerLogin: {"hold(bigint,timestamp with time zone,timestamp with time zone,text) maintain(integer) release(bigint,text) retain(interval,boolean)", ""},
		roleSealer:        {"seal_checkpoint(bigint,bigint,xid8,xid8,bytea,bytea[],text[],text) seal_leaves(bigint,xid8[],bigint[],timestamp with time zone[],bytea[],bytea[])", ""},
		roleReviewer:      {"", ""},
		// Its own functions (which no other role may call), and what they call of the audit role's: actor() calls
		// claim_prefix and claim_field inlined, by OID, so it needs no USAGE on their schema.
		roleWriter: {"actor(text) audit_public_appointments() audit_public_billings() audit_public_dental_records() audit_public_documents() " +
			"audit_public_invoices() audit_public_patient_intake_forms() audit_public_treatment_plans() audit_public_users() " +
			"hop_gone(text,text) stale(regprocedure,text)", "claim_field(text) claim_prefix(text)"},
	} {
		for i, schema := range []string{auditSchema, claimSchema} {
			if got := strings.Join(callable(t, c, role, schema), " "); got != want[i] {
				t.Errorf("%s may execute %q in %s, want %q", role, got, schema, want[i])
			}
		}
	}
	// Who may look the schemas up: every role of the audit schema but the application, which may look up only the
	// claim functions' (with USAGE on the audit schema, a PREPARE naming an audit table locks it before privileges
	// are checked, see TestRedTeamAppCannotNameAuditTables).
	for role, want := range map[string][2]bool{
		roleApp: {false, true}, testdb.OwnerLogin: {true, false}, roleSealer: {true, false}, roleReviewer: {true, false}, roleWriter: {true, false},
	} {
		for i, schema := range []string{auditSchema, claimSchema} {
			var usage bool
			if err := c.Super.QueryRow(t.Context(), "SELECT has_schema_privilege($1, $2, 'USAGE')", role, schema).Scan(&usage); err != nil {
				t.Fatal(err)
			}
			if usage != want[i] {
				t.Errorf("%s has USAGE on %s: %v, want %v", role, schema, usage, want[i])
			}
		}
	}
	// Every role's commands record themselves through record_ddl_as, alone in a schema every role may look up, so
	// every role may call it; outside an event trigger it fails. The audit schema's names stay hidden from a role
	// that is none of its.
	outsider := fmt.Sprintf("rt_roles_outsider_%d", rand.Uint32()) // roles are the server's: one per run
	if _, err := c.Super.Exec(t.Context(), "DO $$BEGIN CREATE ROLE "+outsider+" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Super.Exec(context.Background(), "DROP ROLE IF EXISTS "+outsider) })
	for _, role := range []string{roleApp, outsider} {
		err := pgx.BeginFunc(t.Context(), c.Super, func(tx pgx.Tx) error {
			if _, err := tx.Exec(t.Context(), "SET LOCAL ROLE "+role); err != nil {
				return err
			}
			for _, event := range []string{"ddl_command_end", "sql_drop"} {
				_, err := tx.Exec(t.Context(), "SAVEPOINT s; SELECT "+auditSchema+"_ddl.record_ddl_as('"+event+"', 'DROP TABLE', 'postgres')")
				if pgtest.SQLState(err) != "39P03" {
					t.Errorf("%s calling record_ddl_as(%s) outside an event trigger: %v, want 39P03", role, event, err)
				}
				if _, err := tx.Exec(t.Context(), "ROLLBACK TO SAVEPOINT s"); err != nil {
					return err
				}
			}
			var usage bool
			if err := tx.QueryRow(t.Context(), "SELECT has_schema_privilege($1, 'USAGE')", auditSchema).Scan(&usage); err != nil {
				return err
			}
			if usage {
				t.Errorf("%s has USAGE on %s", role, auditSchema)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// No TEMP for the application: on the migrated template, and on this clone of it, where CREATE DATABASE ...
	// TEMPLATE dropped the database's ACL and testdb applied auditschema.Secure again.
	var tplTemp bool
	if err := c.Super.QueryRow(ctx, `SELECT has_database_privilege($1, split_part(current_database(), '_inst_', 1), 'TEMP')`, roleApp).Scan(&tplTemp); err != nil || tplTemp {
		t.Errorf("%s has TEMP on the migrated template database: %v (%v)", roleApp, tplTemp, err)
	}

	// Role attributes and memberships.
	for _, role := range []string{roleApp, roleReviewer, roleSealer, roleWriter} {
		var super, createRole, createDB, bypassRLS, memberOwner, memberAudit, memberWriter, schemaCreate, temp bool
		err = c.Super.QueryRow(ctx, `SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,
				pg_has_role($1, $2, 'MEMBER'), pg_has_role($1, $3, 'MEMBER'), $1 <> $5 AND pg_has_role($1, $5, 'MEMBER'),
				has_schema_privilege($1, 'public', 'CREATE') OR has_schema_privilege($1, $4, 'CREATE'),
				has_database_privilege($1, current_database(), 'TEMP')
			FROM pg_roles WHERE rolname = $1`, role, roleOwner, roleAudit, auditSchema, roleWriter).
			Scan(&super, &createRole, &createDB, &bypassRLS, &memberOwner, &memberAudit, &memberWriter, &schemaCreate, &temp)
		if err != nil {
			t.Fatal(err)
		}
		// The writer reads a patient path's tables past row-level security (see v1.sql).
		if role == roleWriter {
			bypassRLS = false
		}
		if super || createRole || createDB || bypassRLS || memberOwner || memberAudit || memberWriter || schemaCreate || temp {
			t.Errorf("%s: superuser %v, createrole %v, createdb %v, bypassrls %v, member of owner %v, member of audit %v, member of writer %v, create in a schema %v, TEMP %v; want all false",
				role, super, createRole, createDB, bypassRLS, memberOwner, memberAudit, memberWriter, schemaCreate, temp)
		}
	}
	// Nobody is a member of the writer role, which is a member of nothing.
	if ms := pgtest.Strings(t, c.Super, `SELECT m.roleid::regrole::text || ' > ' || m.member::regrole::text FROM pg_auth_members m
		WHERE $1::regrole IN (m.roleid, m.member)`, roleWriter); len(ms) != 0 {
		t.Errorf("memberships of %s: %v, want none", roleWriter, ms)
	}
	var ownerInAudit bool
	if err := c.Super.QueryRow(ctx, "SELECT pg_has_role($1, $2, 'MEMBER')", testdb.OwnerLogin, roleAudit).Scan(&ownerInAudit); err != nil || ownerInAudit {
		t.Errorf("%s is a member of %s: %v (%v)", testdb.OwnerLogin, roleAudit, ownerInAudit, err)
	}

	// Every PHI table carries the four audit triggers, enabled, each writing one calling a function of the writer
	// role; audit_truncate, which refuses, the audit role's refuse_truncate(), which runs as whoever truncates.
	for _, tab := range phiTables {
		names := pgtest.Strings(t, c.Super, `SELECT t.tgname || ':' || pg_get_userbyid(p.proowner) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
			WHERE t.tgrelid = $1::regclass AND NOT t.tgisinternal AND t.tgenabled = 'O' ORDER BY t.tgname`, tab)
		w := ":" + roleWriter
		if got, want := strings.Join(names, " "), "audit_delete"+w+" audit_insert"+w+" audit_truncate:"+roleAudit+" audit_update"+w; got != want {
			t.Errorf("enabled triggers on %s: %q, want %q", tab, got, want)
		}
	}
}

// refusedAs runs each statement on pool and checks that the server refuses it with SQLSTATE 42501
// (insufficient_privilege: permission denied, must be owner, or the append-only triggers' refusal) and, when
// given, a message containing msg.
func refusedAs(t *testing.T, who string, pool *pgxpool.Pool, stmts []string, msg map[string]string) {
	t.Helper()
	for _, sql := range stmts {
		err := execAs(pool, sql)
		if got := pgtest.SQLState(err); got != "42501" {
			t.Errorf("as %s, %s: error %v (SQLSTATE %q), want SQLSTATE 42501", who, sql, err, got)
		} else if m := msg[sql]; m != "" && !strings.Contains(err.Error(), m) {
			t.Errorf("as %s, %s: %v, want %q", who, sql, err, m)
		}
	}
}

// auditAttacks are what would rewrite, read around, empty or silence the trail, for each audit table.
func auditAttacks() []string {
	d := auditSchema + ".ddl_log"
	return []string{
		"SELECT count(*) FROM " + auditTable,
		"INSERT INTO " + auditTable + " (actor_kind, action, target_table, target_id, changes) VALUES ('user', 'CREATE', 'users', 1, '{}')",
		"UPDATE " + auditTable + " SET request_id = 'forged'",
		"UPDATE " + auditTable + " SET changes = '{}' WHERE id = (SELECT min(id) FROM " + auditTable + ")",
		"DELETE FROM " + auditTable,
		"TRUNCATE " + auditTable,
		"TRUNCATE " + auditTable + " CASCADE",
		"UPDATE " + d + " SET statement = 'forged'",
		"DELETE FROM " + d,
		"TRUNCATE " + d,
		"INSERT INTO " + auditSchema + ".audited_tables VALUES ('public.clinic_locations')",
		"DELETE FROM " + auditSchema + ".audited_tables",
		"ALTER TABLE " + auditTable + " DISABLE TRIGGER refuse_update_delete",
		"ALTER TABLE " + auditTable + " DISABLE TRIGGER ALL",
		"ALTER TABLE " + auditTable + " DISABLE TRIGGER USER",
		"DROP TRIGGER refuse_update_delete ON " + auditTable,
		"ALTER TABLE " + d + " DISABLE TRIGGER refuse_update_delete",
		"ALTER DOMAIN " + auditSchema + ".audit_actor_kind DROP CONSTRAINT audit_actor_kind_check",
		"ALTER DOMAIN " + auditSchema + ".audit_action DROP CONSTRAINT audit_action_check",
		"ALTER DOMAIN " + auditSchema + ".audit_action ADD CONSTRAINT refuse_all CHECK (false) NOT VALID",
		"DROP DOMAIN " + auditSchema + ".audit_actor_kind CASCADE",
		"ALTER TABLE " + auditTable + " ALTER COLUMN actor_kind TYPE text",
		"ALTER TABLE " + auditTable + " DETACH PARTITION " + auditSchema + ".audit_log_default",
		"ALTER TABLE " + auditTable + " RENAME TO audit_log_old",
		"DROP TABLE " + auditTable,
		"DROP TABLE " + auditSchema + ".audit_log_default",
		"CREATE OR REPLACE FUNCTION " + auditSchema + ".refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
		"CREATE OR REPLACE FUNCTION " + auditSchema + ".audit_public_appointments() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
		"CREATE OR REPLACE FUNCTION " + auditSchema + ".actor(target text) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{\"k\": \"user\", \"a\": 1}'::jsonb $$",
		"ALTER FUNCTION " + auditSchema + ".audit_public_users() SECURITY INVOKER",
		"DROP FUNCTION " + auditSchema + ".audit_public_appointments() CASCADE",
		"CREATE TABLE " + auditSchema + ".shadow (id int)",
		// Replication role "replica" would skip every ordinary trigger; only superusers may set it.
		"SET session_replication_role = replica",
	}
}

// TestAppendOnlyByRole tries, as auditrepo_app, everything that would rewrite, read or silence the trail, and
// the audit triggers of the PHI tables.
func TestAppendOnlyByRole(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	before := clinictest.Snapshot(t, c.Super, guardedTables...)

	refused := append(auditAttacks(),
		// No temporary objects that could shadow names of unqualified SQL.
		"CREATE TEMP TABLE audit_log (id int)",
		// The audit triggers on the PHI tables cannot be switched off or dropped, and TRUNCATE is refused.
		"ALTER TABLE appointments DISABLE TRIGGER audit_update",
		"ALTER TABLE users DISABLE TRIGGER ALL",
		"DROP TRIGGER audit_delete ON documents",
		"CREATE OR REPLACE TRIGGER audit_update AFTER UPDATE ON billings FOR EACH STATEMENT EXECUTE FUNCTION "+auditSchema+".refuse_truncate()",
		"TRUNCATE appointments",
		"TRUNCATE patient_intake_forms",
		// The trigger functions cannot be called directly, nor can the claim-reading helper.
		"SELECT "+auditSchema+".actor('users')",
		"SELECT "+auditSchema+".maintain()",
	)
	refusedAs(t, roleApp, c.App, refused, nil)

	// Granting itself more is no error (PostgreSQL only warns that nothing was granted), and grants nothing.
	if err := execAs(c.App, "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON "+auditTable+" TO "+roleApp); err != nil {
		t.Logf("GRANT as %s: %v", roleApp, err)
	}
	if got := tablePrivs(t, c, roleApp, auditTable); got != "" {
		t.Errorf("after GRANT as %s: privileges %q on the trail", roleApp, got)
	}

	// The same, inside a transaction that goes on afterwards: no statement got through and was kept.
	tx, err := c.App.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range refused[:7] {
		if _, err := tx.Exec(t.Context(), "SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		if err := execAs(tx, sql); pgtest.SQLState(err) != "42501" {
			t.Errorf("in a transaction, %s: %v, want SQLSTATE 42501", sql, err)
		}
		if _, err := tx.Exec(t.Context(), "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	clinictest.Unchanged(t, c.Super, before)
}

// TestAppendOnlyForOwner: the owner of the clinic's tables (testdb's Owner pool, a login member of
// auditrepo_owner, as a deployment's migrating user is) can change the clinic's schema but not the trail: it
// cannot insert, update, delete or truncate the audit tables, alter or disable their triggers, or replace the
// trigger functions; its TRUNCATE of a PHI table is refused by the audit_truncate trigger.
func TestAppendOnlyForOwner(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	before := clinictest.Snapshot(t, c.Super, guardedTables...)

	refused := append(auditAttacks(),
		"TRUNCATE documents",
		"TRUNCATE patient_intake_forms",
		"ALTER FUNCTION "+auditSchema+".audit_public_users() OWNER TO "+roleOwner,
		"ALTER FUNCTION "+auditSchema+".refuse_truncate() RENAME TO gone",
		"GRANT "+roleAudit+" TO "+testdb.OwnerLogin,
		"SET ROLE "+roleAudit,
		// The audit schema's types cannot be built on (which would pin them against an upgrade), even in a schema
		// where the owner may create (below).
		"CREATE TABLE scratch.pin (a "+auditSchema+".audit_action)",
		"CREATE TABLE scratch.pin (k "+auditSchema+".actor_kind)",
		"CREATE FUNCTION scratch.pin() RETURNS "+auditSchema+".claimed LANGUAGE sql AS 'SELECT NULL'",
		// Nor the row types of its tables: a column of one would block the audit role's ALTER or DROP of the table.
		"CREATE TABLE scratch.pin_log (r "+auditSchema+".audit_log)",
		"CREATE TABLE scratch.pin_default (r "+auditSchema+".audit_log_default)",
		"CREATE TABLE scratch.pin_ddl (r "+auditSchema+".ddl_log)",
	)
	if _, err := c.Super.Exec(t.Context(), "CREATE SCHEMA scratch; GRANT USAGE, CREATE ON SCHEMA scratch TO "+roleOwner); err != nil {
		t.Fatal(err)
	}
	if err := execAs(c.Owner, "CREATE TABLE scratch.plain (a text)"); err != nil {
		t.Fatalf("owner creating a table where it may: %v", err)
	}
	refusedAs(t, testdb.OwnerLogin, c.Owner, refused, map[string]string{
		"TRUNCATE documents":            "TRUNCATE on audited table public.documents refused",
		"TRUNCATE patient_intake_forms": "TRUNCATE on audited table public.patient_intake_forms refused",
	})
	clinictest.Unchanged(t, c.Super, before)

	// The owner is the one role that can still change the clinic's schema (the point of having the roles):
	// including the audit triggers of its own tables. That is DDL, not a silent data change: the event
	// trigger records it in ddl_log, which the owner cannot touch (above) and the reviewer reads.
	if err := execAs(c.Owner, "ALTER TABLE clinic_locations ALTER COLUMN name SET STATISTICS 100"); err != nil {
		t.Errorf("owner cannot alter its own table: %v", err)
	}
	if err := execAs(c.Owner, "ALTER TABLE documents DISABLE TRIGGER audit_update"); err != nil {
		t.Fatalf("owner disabling an audit trigger of its own table: %v", err)
	}
	var logged int
	if err := c.Reviewer.QueryRow(t.Context(), "SELECT count(*) FROM "+auditSchema+".ddl_log WHERE command_tag = 'ALTER TABLE' AND object_identity = 'public.documents' AND db_role = $1",
		testdb.OwnerLogin).Scan(&logged); err != nil || logged != 1 {
		t.Errorf("ddl_log rows for the owner's DISABLE TRIGGER on documents: %d (%v), want 1", logged, err)
	}
}

// writerPool acts as the writer role, which is NOLOGIN: the superuser's connections with the role in their startup
// packet, which sets it as SET ROLE does. Code of another role's that reaches a trigger function runs as it.
func writerPool(t *testing.T, c *clinictest.Clinic) *pgxpool.Pool {
	t.Helper()
	cfg := c.Super.Config().Copy()
	cfg.ConnConfig.RuntimeParams["role"] = roleWriter
	p, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	var user string
	if err := p.QueryRow(t.Context(), "SELECT current_user").Scan(&user); err != nil || user != roleWriter {
		t.Fatalf("the writer's pool acts as %q (%v), want %s", user, err, roleWriter)
	}
	return p
}

// TestAppendOnlyForWriter: the trigger functions' role, as which code of the owner's that reached an audited write
// (a cast's function, an index expression, a policy) would run, may add audit rows and nothing more: it cannot
// read, change, remove or empty the trail, write ddl_log, audited_tables or the seals, set the columns that are
// the server's facts, alter or disable the append-only triggers, put a function in the audit schema, nor make
// itself a member of the audit role.
func TestAppendOnlyForWriter(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	w := writerPool(t, c)
	before := clinictest.Snapshot(t, c.Super, guardedTables...)

	var refused []string
	for _, sql := range auditAttacks() {
		// It may add rows, as that INSERT does: the trail shows them, and sealing once sealed.
		if !strings.HasPrefix(sql, "INSERT INTO "+auditTable+" ") {
			refused = append(refused, sql)
		}
	}
	refused = append(refused,
		"INSERT INTO "+auditTable+" (id, occurred_at, db_role, actor_kind, action, target_table, target_id, changes) OVERRIDING SYSTEM VALUE VALUES (1, now(), 'auditrepo_app', 'user', 'UPDATE', 'users', 1, '{}')",
		"INSERT INTO "+auditTable+" (occurred_at, actor_kind, action, target_table, target_id, changes) VALUES ('2001-01-01', 'user', 'UPDATE', 'users', 1, '{}')",
		"INSERT INTO "+auditTable+" (transaction_id, actor_kind, action, target_table, target_id, changes) VALUES ('1', 'user', 'UPDATE', 'users', 1, '{}')",
		"INSERT INTO "+auditSchema+".audit_log_default (actor_kind, action, target_table, target_id, changes) VALUES ('user', 'UPDATE', 'users', 1, '{}')",
		"INSERT INTO "+auditSchema+".ddl_log (command_tag) VALUES ('forged')",
		"INSERT INTO "+auditSchema+".seal_checkpoint DEFAULT VALUES",
		"DELETE FROM "+auditSchema+".seal_leaf",
		"GRANT "+roleAudit+" TO "+roleWriter,
		"CREATE FUNCTION "+auditSchema+".check_models(text, text) RETURNS void LANGUAGE sql AS ''",
		"ALTER EVENT TRIGGER "+auditSchema+"_ddl_end DISABLE",
		// Its own functions are no way around the rest: replacing one takes CREATE on the audit schema, which it
		// lacks; the event trigger refuses every other command it runs.
		"CREATE OR REPLACE FUNCTION "+auditSchema+".hop_gone(dependent text, hop text) RETURNS bigint LANGUAGE sql AS 'SELECT 0'",
		"ALTER FUNCTION "+auditSchema+".audit_public_users() SECURITY INVOKER",
		"ALTER FUNCTION "+auditSchema+".audit_public_users() SET search_path = public",
		"DROP FUNCTION "+auditSchema+".audit_public_appointments() CASCADE",
		"DROP FUNCTION "+auditSchema+".hop_gone(text, text) CASCADE",
		"GRANT EXECUTE ON FUNCTION "+auditSchema+".audit_public_users() TO "+roleApp,
		// Revoking what it or the audit role may execute would stop audited writes (hop_gone is set up in every
		// invoice write), the models' install and stale(): it may revoke only in the install's window.
		"REVOKE EXECUTE ON FUNCTION "+auditSchema+".hop_gone(text, text) FROM "+roleWriter,
		"REVOKE EXECUTE ON FUNCTION "+auditSchema+".stale(regprocedure, text) FROM "+roleAudit,
	)
	refusedAs(t, roleWriter, w, refused, nil)
	clinictest.Unchanged(t, c.Super, before)
}

// Every function of the audit schema a role may not execute is refused when that role calls it (42501), before
// it runs: the catalog's privileges (TestRolePrivileges) hold when crossed. Each is called with NULL arguments
// of its own types, as the application, the reviewer, the sealer, the owner's login member and the writer role.
func TestAuditFunctionsRefuseByRole(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t)
	rows, err := c.Super.Query(t.Context(), `SELECT p.oid::regprocedure::text, format('SELECT %I.%I(%s)', n.nspname, p.proname,
			coalesce((SELECT string_agg(format('NULL::%s', a::regtype), ', ') FROM unnest(p.proargtypes) a), ''))
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ($1, $2) ORDER BY 1`, auditSchema, claimSchema)
	if err != nil {
		t.Fatal(err)
	}
	type fn struct{ Sig, Call string }
	fns, err := pgx.CollectRows(rows, pgx.RowToStructByPos[fn])
	if err != nil || len(fns) < 10 {
		t.Fatalf("%d functions in %s and %s (%v)", len(fns), auditSchema, claimSchema, err)
	}
	for role, pool := range map[string]*pgxpool.Pool{roleApp: c.App, roleReviewer: c.Reviewer, roleSealer: c.Sealer, testdb.OwnerLogin: c.Owner,
		roleWriter: writerPool(t, c)} {
		var may []string
		for _, schema := range []string{auditSchema, claimSchema} {
			for _, fn := range callable(t, c, role, schema) {
				may = append(may, schema+"."+fn)
			}
		}
		tried := 0
		for _, f := range fns {
			if slices.Contains(may, f.Sig) {
				continue
			}
			tried++
			_, err := pool.Exec(t.Context(), f.Call)
			if code := pgtest.SQLState(err); code != "42501" {
				t.Errorf("%s: %s: %v (SQLSTATE %q), want refused with 42501", role, f.Call, err, code)
			}
		}
		if tried == 0 {
			t.Errorf("%s: no function of %s to try", role, auditSchema)
		}
	}
}

// callable lists the functions of schema role may execute, by signature.
func callable(t *testing.T, c *clinictest.Clinic, role, schema string) []string {
	t.Helper()
	fns := pgtest.Strings(t, c.Super, `SELECT p.oid::regprocedure::text FROM pg_proc p
		WHERE p.pronamespace = $2::regnamespace AND has_function_privilege($1, p.oid, 'EXECUTE') ORDER BY 1`, role, schema)
	for i, fn := range fns {
		fns[i] = strings.TrimPrefix(fn, schema+".")
	}
	return fns
}
