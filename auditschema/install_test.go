package auditschema_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
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
	if _, err := db.Exec(ctx, `CREATE TABLE pets (id bigint PRIMARY KEY, name text);
		CREATE TABLE visits (id bigint, at date, PRIMARY KEY (id, at));
		CREATE TABLE notes (id bigint UNIQUE DEFERRABLE INITIALLY DEFERRED);
		CREATE TABLE charts (id bigint UNIQUE);
		CREATE TABLE named (id bigint PRIMARY KEY);
		CREATE TABLE heirs (id bigint PRIMARY KEY) INHERITS (named)`); err != nil {
		t.Fatal(err)
	}
	err := auditschema.InstallModels(ctx, db, auditschema.Config{}, auditschema.Models{
		// The models' SQL fills audited_tables, as the generated SQL does: it must not run.
		Schema: "auditrepo", SQL: "INSERT INTO auditrepo.audited_tables VALUES ('public.pets')", Tables: []auditschema.Table{
			{Name: "public.pets", Columns: []string{"id", "species"}},
			{Name: "public.missing", Columns: []string{"id"}},
			{Name: "public.visits", Columns: []string{"id", "at"}},
			{Name: "public.notes", Columns: []string{"id"}},
			{Name: "public.charts", Columns: []string{"id"}},
			{Name: "public.named", Columns: []string{"id"}},
			{Name: "public.heirs", Columns: []string{"id"}},
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
		// The triggers pair a row's old and new versions by id: two rows with one id would be mixed up.
		"table public.visits has no unique index on id alone",
		"table public.notes has no unique index on id alone and an id that may be NULL",
		"ALTER TABLE public.visits ADD UNIQUE (id);",
		"ALTER TABLE public.notes ALTER COLUMN id SET NOT NULL; ALTER TABLE public.notes ADD UNIQUE (id);",
		// An audit row names its target by id: a NULL one fails the write on the audit table, whose error would
		// carry the row's image to the application's logs.
		"table public.charts has an id that may be NULL",
		"ALTER TABLE public.charts ALTER COLUMN id SET NOT NULL;",
		// Statement triggers fire for the table a statement names: an UPDATE of the parent changing a child's rows
		// fires none of the child's, and one of a child none of the parent's.
		"table public.heirs takes part in inheritance or partitioning (with public.named)",
		"table public.named takes part in inheritance or partitioning (with public.heirs)",
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

// A patient path through another table needs, at each step, a validated foreign key that is ON DELETE RESTRICT
// ON UPDATE RESTRICT and not deferrable, and no other key there: with CASCADE or SET NULL the dependents change
// with the row they refer to, with NO ACTION a statement may re-key that row and give its id to another, and
// without a key (or an unvalidated or deferrable one) a dependent may refer to nothing. The fix of each is named.
func TestInstallModelsRefusesLoosePatientPaths(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	tables := []string{"owners", "cascades", "unkeyed", "nulls", "noaction", "deletenoaction", "deletenull", "unvalidated", "twokeys", "deferred", "keyed"}
	const restrict = "REFERENCES owners ON DELETE RESTRICT ON UPDATE RESTRICT"
	sql := `CREATE TABLE owners (id bigint PRIMARY KEY, patient_id bigint);
		CREATE TABLE cascades (id bigint PRIMARY KEY, owner_id bigint CONSTRAINT cascades_owner REFERENCES owners ON DELETE CASCADE ON UPDATE RESTRICT);
		CREATE TABLE unkeyed (id bigint PRIMARY KEY, owner_id bigint);
		CREATE TABLE nulls (id bigint PRIMARY KEY, owner_id bigint CONSTRAINT nulls_owner REFERENCES owners ON DELETE RESTRICT ON UPDATE SET NULL);
		CREATE TABLE noaction (id bigint PRIMARY KEY, owner_id bigint CONSTRAINT noaction_owner REFERENCES owners ON DELETE RESTRICT);
		CREATE TABLE deletenoaction (id bigint PRIMARY KEY, owner_id bigint CONSTRAINT deletenoaction_owner REFERENCES owners ON DELETE NO ACTION ON UPDATE RESTRICT);
		CREATE TABLE deletenull (id bigint PRIMARY KEY, owner_id bigint CONSTRAINT deletenull_owner REFERENCES owners ON DELETE SET NULL ON UPDATE RESTRICT);
		CREATE TABLE unvalidated (id bigint PRIMARY KEY, owner_id bigint);
		ALTER TABLE unvalidated ADD CONSTRAINT unvalidated_owner FOREIGN KEY (owner_id) ` + restrict + ` NOT VALID;
		CREATE TABLE twokeys (id bigint PRIMARY KEY, owner_id bigint CONSTRAINT twokeys_a ` + restrict + `);
		ALTER TABLE twokeys ADD CONSTRAINT twokeys_b FOREIGN KEY (owner_id) REFERENCES owners ON DELETE CASCADE;
		CREATE TABLE deferred (id bigint PRIMARY KEY, owner_id bigint CONSTRAINT deferred_owner ` + restrict + ` DEFERRABLE);
		CREATE TABLE keyed (id bigint PRIMARY KEY, owner_id bigint ` + restrict + `);`
	for _, tab := range tables {
		sql += fmt.Sprintf("ALTER TABLE %[1]s OWNER TO auditrepo_owner; GRANT SELECT, INSERT, UPDATE, DELETE ON %[1]s TO auditrepo_app;", tab)
	}
	if _, err := db.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	m := auditschema.Models{Schema: "auditrepo", SQL: "SELECT 1"}
	for _, tab := range tables {
		tbl := auditschema.Table{Name: "public." + tab, Columns: []string{"id", "owner_id"}}
		if tab == "owners" {
			tbl.Columns = []string{"id", "patient_id"}
		} else {
			tbl.Refs = []auditschema.Ref{{From: "public." + tab, Column: "owner_id", To: "public.owners"}}
		}
		m.Tables = append(m.Tables, tbl)
	}
	// A two-step path repeats its second step, which the hop table's own path lists too: one problem, one fix.
	m.Tables = append(m.Tables, auditschema.Table{Name: "public.lines", Columns: []string{"id", "unkeyed_id"}, Refs: []auditschema.Ref{
		{From: "public.lines", Column: "unkeyed_id", To: "public.unkeyed"},
		{From: "public.unkeyed", Column: "owner_id", To: "public.owners"},
	}})
	if _, err := db.Exec(ctx, `CREATE TABLE lines (id bigint PRIMARY KEY, unkeyed_id bigint REFERENCES unkeyed ON DELETE RESTRICT ON UPDATE RESTRICT);
		ALTER TABLE lines OWNER TO auditrepo_owner; GRANT SELECT, INSERT, UPDATE, DELETE ON lines TO auditrepo_app`); err != nil {
		t.Fatal(err)
	}
	err := auditschema.InstallModels(ctx, db, auditschema.Config{}, m)
	var nr *auditschema.NotReadyError
	if !errors.As(err, &nr) {
		t.Fatalf("InstallModels = %v, want a NotReadyError", err)
	}
	want := map[string]string{
		"public.cascades":       `ALTER TABLE public.cascades DROP CONSTRAINT "cascades_owner", ADD FOREIGN KEY ("owner_id") REFERENCES public.owners (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
		"public.unkeyed":        `ALTER TABLE public.unkeyed ADD FOREIGN KEY ("owner_id") REFERENCES public.owners (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
		"public.nulls":          `ALTER TABLE public.nulls DROP CONSTRAINT "nulls_owner", ADD FOREIGN KEY ("owner_id") REFERENCES public.owners (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
		"public.noaction":       `ALTER TABLE public.noaction DROP CONSTRAINT "noaction_owner", ADD FOREIGN KEY ("owner_id") REFERENCES public.owners (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
		"public.deletenoaction": `ALTER TABLE public.deletenoaction DROP CONSTRAINT "deletenoaction_owner", ADD FOREIGN KEY ("owner_id") REFERENCES public.owners (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
		"public.deletenull":     `ALTER TABLE public.deletenull DROP CONSTRAINT "deletenull_owner", ADD FOREIGN KEY ("owner_id") REFERENCES public.owners (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
		"public.unvalidated":    `ALTER TABLE public.unvalidated VALIDATE CONSTRAINT "unvalidated_owner";`,
		"public.twokeys":        `ALTER TABLE public.twokeys DROP CONSTRAINT "twokeys_b";`,
		"public.deferred":       `ALTER TABLE public.deferred DROP CONSTRAINT "deferred_owner", ADD FOREIGN KEY ("owner_id") REFERENCES public.owners (id) ON DELETE RESTRICT ON UPDATE RESTRICT;`,
	}
	if len(nr.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(nr.Problems), len(want), err)
	}
	for tab, fix := range want {
		found := false
		for _, p := range nr.Problems {
			if strings.Contains(p.What, "column "+tab+".owner_id,") && p.Fix == fix {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem of %s.owner_id fixed by %q:\n%v", tab, fix, err)
		}
	}
	// The fixes as named make the install go through.
	for _, p := range nr.Problems {
		if _, err := db.Exec(ctx, p.Fix); err != nil {
			t.Fatalf("%s: %v", p.Fix, err)
		}
	}
	if err := auditschema.InstallModels(ctx, db, auditschema.Config{}, m); err != nil {
		t.Fatalf("InstallModels after the fixes: %v", err)
	}
}

// Models generated for another audit schema, and a schema newer than the library, are refused with ErrNotReady,
// nothing changed.
func TestInstallRefusesMismatches(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	err := auditschema.InstallModels(ctx, db, auditschema.Config{}, auditschema.Models{Schema: "audit2", SQL: "SELECT 1/0"})
	if !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), `generate them with -schema auditrepo, or install with Config.Schema "audit2"`) {
		t.Errorf("InstallModels of another schema's models = %v, want ErrNotReady naming both fixes", err)
	}
	if _, err := db.Exec(ctx, "SET ROLE auditrepo_audit; INSERT INTO auditrepo.schema_version VALUES (99, now(), '', ''); RESET ROLE"); err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.Install(ctx, db, auditschema.Config{}); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), "holds schema version 99, newer than this library's 1") {
		t.Errorf("Install over a newer schema = %v, want ErrNotReady", err)
	}
}

// A schema another revision of version 1 installed (simulated: its recorded revision and digest altered, or
// missing as in the revisions before they were recorded) is refused by Install, InstallModels, Upgrade and the
// generated SQL, naming the fix, nothing changed; so is the current revision installed with other names.
func TestInstallRefusesAnotherRevision(t *testing.T) {
	ctx := context.Background()
	models := auditschema.Models{Schema: "auditrepo", Tables: []auditschema.Table{}, SQL: "SELECT 1"}
	checks, err := auditschema.ModelChecksSQL("auditrepo", nil)
	if err != nil {
		t.Fatal(err)
	}
	checks = "DO $ar$ BEGIN\n" + checks + "\nEND $ar$" // a PL/pgSQL statement, as the generated SQL's first block runs it
	for name, older := range map[string]string{
		"other digests": "UPDATE auditrepo.schema_version SET revision = md5(revision), digest = md5(digest)",
		"no digests":    "ALTER TABLE auditrepo.schema_version DROP COLUMN revision, DROP COLUMN digest",
	} {
		t.Run(name, func(t *testing.T) {
			db := pgtest.Audited(t, auditschema.Config{})
			if err := auditschema.InstallModels(ctx, db, auditschema.Config{}, models); err != nil {
				t.Fatalf("InstallModels on the schema Install installed: %v", err)
			}
			if _, err := db.Exec(ctx, checks); err != nil {
				t.Fatalf("the generated checks on the schema Install installed: %v", err)
			}
			if _, err := db.Exec(ctx, older); err != nil {
				t.Fatal(err)
			}
			before := catalog(t, db)
			const what, fix = "was installed by another revision of schema version 1", `DROP SCHEMA IF EXISTS "auditrepo", "auditrepo_claim" CASCADE`
			refused := func(err error) bool {
				return errors.Is(err, auditschema.ErrNotReady) && strings.Contains(err.Error(), what) && strings.Contains(err.Error(), fix)
			}
			if _, err := auditschema.Install(ctx, db, auditschema.Config{}); !refused(err) {
				t.Errorf("Install = %v, want ErrNotReady naming the other revision and the fix", err)
			}
			if err := auditschema.InstallModels(ctx, db, auditschema.Config{}, models); !refused(err) {
				t.Errorf("InstallModels = %v, want ErrNotReady naming the other revision and the fix", err)
			}
			if _, err := auditschema.Upgrade(ctx, db, auditschema.Config{}, ""); !refused(err) || !errors.Is(err, auditschema.ErrUpgradeRefused) {
				t.Errorf("Upgrade = %v, want ErrUpgradeRefused and ErrNotReady naming the other revision", err)
			}
			_, err := db.Exec(ctx, checks)
			if pgtest.SQLState(err) != "55000" || !strings.Contains(err.Error(), what) {
				t.Errorf("the generated checks = %v, want 55000 naming the other revision", err)
			}
			if after := catalog(t, db); after != before {
				t.Errorf("refusals changed the catalog:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	db := pgtest.Audited(t, auditschema.Config{})
	other := auditschema.Config{Reviewer: "auditrepo_reviewer_other"}
	const names = "was installed with other names than this Config's"
	if _, err := auditschema.Install(ctx, db, other); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), names) {
		t.Errorf("Install with other names = %v, want ErrNotReady naming them", err)
	}
	if err := auditschema.InstallModels(ctx, db, other, models); !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), names) {
		t.Errorf("InstallModels with other names = %v, want ErrNotReady naming them", err)
	}
	// The generated SQL knows only some of the names: the revision it checks is the same under any.
	if _, err := db.Exec(ctx, checks); err != nil {
		t.Errorf("the generated checks: %v", err)
	}
}

// The schema's SQL records its revision, the same whatever the names, and its digest, which the names change.
func TestSQLRecordsItsDigests(t *testing.T) {
	recorded := regexp.MustCompile(`INSERT INTO \S+\.schema_version \(version, revision, digest\) VALUES \(1, '([0-9a-f]{64})', '([0-9a-f]{64})'\);`)
	digests := func(c auditschema.Config) []string {
		sql, err := c.SQL()
		if err != nil {
			t.Fatal(err)
		}
		m := recorded.FindStringSubmatch(sql)
		if m == nil {
			t.Fatalf("%+v: the SQL records no digests", c)
		}
		return m[1:]
	}
	def, other := digests(auditschema.Config{}), digests(auditschema.Config{Schema: "audit2", App: "app2"})
	if def[0] != def[1] || other[0] != def[0] || other[1] == def[1] {
		t.Errorf("default names: revision %s, digest %s; others: %s, %s; want one revision, the default names' digest equal to it, the others' not", def[0], def[1], other[0], other[1])
	}
}

// buildable lists the audit schema's tables whose row type role may use: a column of it in role's table would pin
// the audit table against the audit role's later ALTER or DROP.
func buildable(t *testing.T, db *pgxpool.Pool, role string) []string {
	t.Helper()
	return pgtest.Strings(t, db, `SELECT c.relname::text FROM pg_class c
		WHERE c.relnamespace = 'auditrepo'::regnamespace AND c.reltype <> 0 AND has_type_privilege($1, c.reltype, 'USAGE')
		ORDER BY 1`, role)
}

// No other role may build on the row types of the audit schema's tables, including the partitions maintain()
// creates after the install: the owner role's member, which may create tables in public, cannot give one a
// column of any of them.
func TestTablesRowTypesAreTheAuditRoles(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	const member = "rowtype_test_owner"
	if _, err := db.Exec(ctx, "CREATE ROLE "+member+" LOGIN IN ROLE auditrepo_owner"); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "GRANT CREATE ON SCHEMA public TO auditrepo_owner"); err != nil {
		t.Fatal(err)
	}
	cfg := db.Config().Copy()
	cfg.ConnConfig.User, cfg.ConnConfig.Password = member, ""
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var made int
	if err := p.QueryRow(ctx, "SELECT auditrepo.maintain(12)").Scan(&made); err != nil || made == 0 {
		t.Fatalf("maintain(12) as %s = %d, %v; want new partitions", member, made, err)
	}
	if got := buildable(t, db, "auditrepo_owner"); len(got) > 0 {
		t.Errorf("auditrepo_owner may use the row types of %v", got)
	}
	tables := pgtest.Strings(t, db, `SELECT c.relname::text FROM pg_class c
		WHERE c.relnamespace = 'auditrepo'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`)
	if len(tables) < 15 {
		t.Fatalf("%d tables in auditrepo, want every table and partition", len(tables))
	}
	for _, tbl := range tables {
		q := "CREATE TABLE public.pin (x auditrepo." + pgx.Identifier{tbl}.Sanitize() + ")"
		if _, err := p.Exec(ctx, q); pgtest.SQLState(err) != "42501" {
			t.Errorf("%s as %s: %v, want refused (42501)", q, member, err)
			_, _ = p.Exec(ctx, "DROP TABLE IF EXISTS public.pin")
		}
	}
}

// A name the SQL cannot hold (one ending the DO blocks' and bodies' $ar$ quote, or with a control character) is
// refused before anything runs, naming the Config field.
func TestInstallRefusesNamesTheSQLCannotHold(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Empty(t)
	for _, tc := range []struct {
		field string
		c     auditschema.Config
	}{
		{"Reviewer", auditschema.Config{Reviewer: "name_test_rv$ar$ || pg_catalog.pg_sleep(0); $ar$"}},
		{"Schema", auditschema.Config{Schema: "name_test_s$ar$"}},
		{"Table", auditschema.Config{Table: "name_test_t\nx"}},
		{"Audit", auditschema.Config{Audit: "name_test_a$ar$"}},
		{"Writer", auditschema.Config{Writer: "name_test_w\n"}},
		{"Owner", auditschema.Config{Owner: "name_test_o\x00"}},
		{"App", auditschema.Config{App: "name_test_app\t"}},
		{"Sealer", auditschema.Config{Sealer: "name_test_sealer\n"}},
		// One role for two of the schema's: the boundary between the reviewers and sealing would be gone.
		{"Sealer", auditschema.Config{Reviewer: "name_test_rv", Sealer: "name_test_rv"}},
		// Nor one for the audit and writer roles: the trigger functions would run as the trail's owner again.
		{"Writer", auditschema.Config{Audit: "name_test_a", Writer: "name_test_a"}},
		// Names PostgreSQL would cut to 63 bytes, itself or one the SQL derives from it (Schema + "_claim", Table +
		// "_writes"): the checks and the tools would look for other names than those made.
		{"Schema", auditschema.Config{Schema: "name_test_s" + strings.Repeat("s", auditschema.MaxSchemaName-10)}},
		{"Table", auditschema.Config{Table: "name_test_t" + strings.Repeat("t", auditschema.MaxTableName-10)}},
		{"Owner", auditschema.Config{Owner: "name_test_o" + strings.Repeat("o", auditschema.MaxRoleName-10)}},
	} {
		field, c := tc.field, tc.c
		calls := map[string]func() error{
			"Install": func() error { _, err := auditschema.Install(ctx, db, c); return err },
			"InstallModels": func() error {
				return auditschema.InstallModels(ctx, db, c, auditschema.Models{Schema: c.WithDefaults().Schema})
			},
			"Secure":  func() error { return auditschema.Secure(ctx, db, c) },
			"Upgrade": func() error { _, err := auditschema.Upgrade(ctx, db, c, ""); return err },
			"SQL":     func() error { _, err := c.SQL(); return err },
		}
		for name, call := range calls {
			err := call()
			if nameErr, ok := errors.AsType[*auditschema.NameError](err); !ok || !errors.Is(err, auditschema.ErrBadName) || nameErr.Field != field || !strings.Contains(err.Error(), "Config."+field) {
				t.Errorf("%s with a bad %s = %v, want a *NameError naming Config.%s", name, field, err, field)
			}
		}
	}
	var roles int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'name\\_test\\_%'").Scan(&roles); err != nil || roles != 0 {
		t.Errorf("%d roles created by refused installs (%v)", roles, err)
	}
	if exists(t, db, "schema_version") {
		t.Error("a refused install created the audit schema")
	}
}

// Roles that could reach the audit rows around the trigger functions are refused, by the schema's SQL alone
// (`auditrepo schema`, run by a migration tool) and by Install, which names each problem and its fix; once the
// fixes are applied, Install succeeds.
func TestInstallRefusesUnsafeRoles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string // %[1]s is the roles' prefix
		want  []string
	}{
		{"attributes and memberships", []string{
			"CREATE ROLE %[1]saudit LOGIN",
			// The writer may add rows to the trail and nothing more: pg_write_all_data could empty it.
			"CREATE ROLE %[1]swriter LOGIN IN ROLE pg_write_all_data",
			"CREATE ROLE %[1]sowner LOGIN CREATEROLE IN ROLE %[1]swriter, pg_read_all_data, pg_write_all_data",
			"CREATE ROLE %[1]sreviewer LOGIN",
			"CREATE ROLE %[1]sapp LOGIN BYPASSRLS IN ROLE %[1]sreviewer, pg_write_all_data",
			"CREATE ROLE %[1]sintruder LOGIN IN ROLE %[1]saudit, %[1]swriter",
		}, []string{
			"role %[1]saudit (the audit role) has LOGIN",
			"role %[1]swriter (the writer role) has LOGIN",
			"role %[1]swriter (the writer role) is a member of pg_write_all_data",
			"role %[1]sowner (the owner role) has LOGIN, CREATEROLE",
			"role %[1]sowner (the owner role) is a member of %[1]swriter",
			"role %[1]sowner (the owner role) is a member of pg_read_all_data",
			"role %[1]sowner (the owner role) is a member of pg_write_all_data",
			"role %[1]sapp (the application role) has BYPASSRLS",
			"role %[1]sapp (the application role) is a member of %[1]sreviewer",
			"role %[1]sapp (the application role) is a member of pg_write_all_data",
			"role %[1]sintruder is a member of %[1]saudit (the audit role): it may edit the trail",
			"role %[1]sintruder is a member of %[1]swriter (the writer role): it may add rows to the trail",
		}},
		// A reviewer that is a member of the sealer role could append seals, which no one but a superuser removes;
		// a sealer reading all data would read the application's tables.
		{"reviewer in sealer", []string{
			"CREATE ROLE %[1]ssealer LOGIN IN ROLE pg_read_all_data",
			"CREATE ROLE %[1]sreviewer LOGIN IN ROLE %[1]ssealer",
		}, []string{
			"role %[1]sreviewer (the reviewer role) is a member of %[1]ssealer",
			"role %[1]ssealer (the sealer role) is a member of pg_read_all_data",
		}},
		// A reviewer that is a member of the application role would write PHI.
		{"reviewer in app", []string{
			"CREATE ROLE %[1]sapp LOGIN",
			"CREATE ROLE %[1]sreviewer LOGIN IN ROLE %[1]sapp",
		}, []string{
			"role %[1]sreviewer (the reviewer role) is a member of %[1]sapp",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			// Roles are the cluster's: names of this run's own (a failed run keeps its database, and the roles
			// its objects need), dropped after the test's database is.
			p := fmt.Sprintf("rr%d_", rand.Uint32())
			c := auditschema.Config{Schema: "rr_audit", Audit: p + "audit", Writer: p + "writer", Owner: p + "owner", App: p + "app", Reviewer: p + "reviewer",
				Sealer: p + "sealer"}
			cfg := pgtest.Config()
			adm := pgtest.Pool(t, pgtest.URL(cfg, cfg.User))
			t.Cleanup(func() {
				for _, r := range []string{c.Audit, c.Writer, c.Owner, c.App, c.Reviewer, c.Sealer, p + "intruder"} {
					adm.Exec(ctx, "DROP ROLE IF EXISTS "+r)
				}
			})
			db := pgtest.Empty(t)
			for _, s := range tc.setup {
				if _, err := db.Exec(ctx, fmt.Sprintf(s, p)); err != nil {
					t.Fatal(err)
				}
			}
			want := make([]string, len(tc.want))
			for i := range want {
				want[i] = fmt.Sprintf(tc.want[i], p)
			}
			sql, err := c.SQL()
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.Exec(ctx, sql)
			for _, w := range want {
				if pgtest.SQLState(err) != "42501" || !strings.Contains(err.Error(), w) {
					t.Errorf("the schema's SQL = %v, want 42501 naming %q", err, w)
				}
			}
			_, err = auditschema.Install(ctx, db, c)
			var nr *auditschema.NotReadyError
			if !errors.Is(err, auditschema.ErrNotReady) || !errors.As(err, &nr) {
				t.Fatalf("Install = %v, want a NotReadyError", err)
			}
			var got []string
			for _, p := range nr.Problems {
				got = append(got, p.What)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var exists bool
			if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'rr_audit')").Scan(&exists); err != nil || exists {
				t.Fatalf("a refused Install created the schema (%v)", err)
			}
			for _, p := range nr.Problems {
				fix, _, _ := strings.Cut(p.Fix, ";")
				if _, err := db.Exec(ctx, fix); err != nil {
					t.Fatalf("the fix %q: %v", fix, err)
				}
			}
			if _, err := auditschema.Install(ctx, db, c); err != nil {
				t.Fatalf("Install after the fixes: %v", err)
			}
		})
	}
}

// Writing a table takes USAGE on its schema, for the application and for the owner, as whom PostgreSQL checks the
// table's foreign keys: installing refuses a schema either lacks it on.
func TestInstallModelsNeedsSchemaUsage(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	if _, err := db.Exec(ctx, `CREATE SCHEMA ward; CREATE TABLE ward.notes (id bigint PRIMARY KEY);
		ALTER TABLE ward.notes OWNER TO auditrepo_owner; GRANT SELECT, INSERT, UPDATE, DELETE ON ward.notes TO auditrepo_app`); err != nil {
		t.Fatal(err)
	}
	err := auditschema.InstallModels(ctx, db, auditschema.Config{}, auditschema.Models{Schema: "auditrepo", SQL: "SELECT 1",
		Tables: []auditschema.Table{{Name: "ward.notes", Columns: []string{"id"}}}})
	for _, want := range []string{"role auditrepo_owner lacks USAGE on schema ward of table ward.notes", `GRANT USAGE ON SCHEMA "ward" TO "auditrepo_app";`} {
		if !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), want) {
			t.Errorf("InstallModels over a schema without USAGE: %v, want ErrNotReady naming %q", err, want)
		}
	}
}

// Install pins the search_path for its own transaction and gives the caller's back: a caller's transaction-local
// search_path stays local to that transaction, and the session's is as it was.
func TestInstallKeepsTheCallersSearchPath(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	conn, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET search_path = "$user", public`); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL search_path = pg_catalog, pg_temp"); err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.Install(ctx, tx, auditschema.Config{}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var path string
	if err := conn.QueryRow(ctx, "SHOW search_path").Scan(&path); err != nil || path != `"$user", public` {
		t.Errorf("search_path after Install in a transaction that set its own: %q (%v), want the session's", path, err)
	}
}

// The event trigger's function goes into a schema of its own, every role's to look up: one of that name made by
// another role before the install, which could change what is put there, is refused, and nothing is installed.
func TestInstallRefusesAnotherRolesDDLSchema(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Empty(t)
	if _, err := db.Exec(ctx, "CREATE SCHEMA auditrepo_ddl"); err != nil {
		t.Fatal(err)
	}
	_, err := auditschema.Install(ctx, db, auditschema.Config{})
	if pgtest.SQLState(err) != "42501" || !strings.Contains(err.Error(), "schema auditrepo_ddl exists and is not auditrepo_audit's") {
		t.Errorf("Install with another role's auditrepo_ddl: %v, want 42501 naming it", err)
	}
	var installed bool
	if err := db.QueryRow(ctx, "SELECT to_regnamespace('auditrepo') IS NOT NULL").Scan(&installed); err != nil || installed {
		t.Errorf("schema auditrepo installed: %v (%v), want nothing", installed, err)
	}
}
