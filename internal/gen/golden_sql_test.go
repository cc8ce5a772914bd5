package gen

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/ir"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// TestGoldenSQLRuns runs the SQL generated for the golden "ok" case, as the application role, on a database with
// the case's schema, the audit schema and the case's audit triggers: every statement shape (create, create many,
// update, delete as :exec, :one, :many and :execrows) gets its audit rows with the claimed actor, raw writes get
// unattributed rows with the right patient, through a two-hop patient path too.
func TestGoldenSQLRuns(t *testing.T) {
	t.Parallel()
	prog, sqls, super, pool := okCase(t, caseOptions("ok"))
	ctx := t.Context()

	actor := []any{goldenActor}
	// run executes a generated statement with its arguments and the actor's, and returns the first column
	// (the id) of the rows it returns.
	run := func(name string, args ...any) []int64 {
		t.Helper()
		text, ok := sqls[name]
		if !ok {
			t.Fatalf("no constant %s", name)
		}
		rows, err := pool.Query(ctx, text, append(args, actor...)...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			switch v := vals[0].(type) {
			case int64:
				ids = append(ids, v)
			case int32: // an INSERT without RETURNING of its own returns a 1 per changed row
				ids = append(ids, 1)
			default:
				t.Fatalf("%s: first column %T", name, v)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows.FieldDescriptions()) == 0 { // an UPDATE or DELETE without RETURNING: a 1 per changed row
			for range rows.CommandTag().RowsAffected() {
				ids = append(ids, 1)
			}
		}
		return ids
	}
	type trail struct{ system, unattributed int }
	var seen trail
	expect := func(what string, system, unattributed int) {
		t.Helper()
		var now trail
		err := super.QueryRow(ctx, `SELECT count(*) FILTER (WHERE actor_kind = 'system'),
			count(*) FILTER (WHERE actor_kind = 'unattributed') FROM auditrepo.audit_log`).Scan(&now.system, &now.unattributed)
		if err != nil {
			t.Fatal(err)
		}
		if d := (trail{now.system - seen.system, now.unattributed - seen.unattributed}); d != (trail{system, unattributed}) {
			t.Errorf("%s: %d repository and %d backstop rows, want %d and %d", what, d.system, d.unattributed, system, unattributed)
		}
		seen = now
	}

	person := run("auditedCreatePerson", "patient", "Ann", "s3cret")[0]
	expect("create", 1, 0)
	bo := run("auditedCreatePersonMany", []string{"patient", "staff"}, []string{"Bo", "Cy"}, []string{"x", "y"})[0]
	expect("create many", 2, 0)
	run("auditedRenamePerson", person, "Ann B")
	expect("update", 1, 0)
	visit := run("auditedCreateVisit", person, "Pain", "note", "10:00:00", nil)[0]
	run("auditedUpdateVisit", visit, "ache", "note 2")
	expect("create and update with a redacted nonphi field", 2, 0)
	claim := run("auditedCreateClaim", visit, "12.345")[0]
	line := run("auditedCreateClaimLine", claim, "D100", "material", nil)[0]
	run("auditedDeleteClaimLine", line)
	expect("two-hop path, delete :exec", 3, 0)
	// Enum parameters, one nullable: the bulk statement sends them as text[] and reads each element in as the enum.
	lines := run("auditedCreateClaimLineMany", []int64{claim, claim}, []string{"D200", "M1"}, []string{"procedure", "material"},
		[]*string{nil, ptr("procedure")})
	var kinds []string
	if err := pool.QueryRow(ctx, `SELECT array_agg(kind || '/' || coalesce(billed_as::text, 'NULL') ORDER BY id)
		FROM claim_lines WHERE id = ANY($1)`, lines).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	if want := []string{"procedure/NULL", "material/procedure"}; !slices.Equal(kinds, want) {
		t.Errorf("create many with enum parameters stored %v, want %v", kinds, want)
	}
	for _, l := range lines {
		run("auditedDeleteClaimLine", l)
	}
	expect("create many with an enum parameter", 4, 0)
	// A json column filled from text (sqlc.narg(intake)::text::json): the bulk statement sends text[], and the
	// column and its images hold JSON, not a JSON string; a NULL element stays NULL.
	bulk := run("auditedCreateVisitMany", []int64{bo, bo}, []string{"A", "B"}, []string{"", ""}, []*string{nil, nil},
		[]*string{ptr(`{"allergy": "latex"}`), nil})
	var intakes []string
	if err := super.QueryRow(ctx, `SELECT array_agg(coalesce(v.intake->>'allergy', 'NULL') || '/' || coalesce(a.changes->'after'->'intake'->>'allergy', 'NULL') ORDER BY v.id)
		FROM visits v JOIN auditrepo.audit_log a ON a.target_table = 'visits' AND a.target_id = v.id WHERE v.id = ANY($1)`, bulk).Scan(&intakes); err != nil {
		t.Fatal(err)
	}
	if want := []string{"latex/latex", "NULL/NULL"}; !slices.Equal(intakes, want) {
		t.Errorf("create many with a json column from text stored %v, want %v", intakes, want)
	}
	expect("create many with a json column", 2, 0)
	other := run("auditedCreateVisit", person, "check", "", nil, nil)[0]
	if got := run("auditedDeleteVisit", other); len(got) != 1 || got[0] != other {
		t.Errorf("delete :one returned %v, want [%d]", got, other)
	}
	expect("delete :one", 2, 0)

	// Statements that change many rows: one audit row per row; :many returns the rows, :execrows their count.
	other2 := run("auditedCreateVisit", person, "many", "", nil, nil)[0]
	expect("two visits to change at once", 1, 0)
	if got := run("auditedRescheduleAll", person, "08:00:00"); len(got) != 2 {
		t.Errorf("RescheduleAll :many returned %v, want the 2 rows of the patient", got)
	}
	expect("update :many", 2, 0)
	if got := run("auditedCloseAll", person, "many"); len(got) != 1 {
		t.Errorf("CloseAll :execrows returned %v, want one row (the one changed)", got)
	}
	expect("update :execrows", 1, 0)
	if got := run("auditedSetVisitReason", visit, "set"); len(got) != 1 {
		t.Errorf("SetVisitReason :exec returned %v, want one row (the one changed)", got)
	}
	if got := run("auditedSetVisitReason", int64(-1), "set"); len(got) != 0 {
		t.Errorf("SetVisitReason :exec of no row returned %v, want nothing (the method's ErrNotFound)", got)
	}
	expect("update :exec", 1, 0)
	if got := run("auditedPurgeClosed", person); len(got) != 1 || got[0] != other2 {
		t.Errorf("PurgeClosed :many returned %v, want [%d]", got, other2)
	}
	expect("delete :many", 1, 0)
	if got := run("auditedDeleteByReason", person, "no such reason"); len(got) != 0 {
		t.Errorf("DeleteByReason :execrows of nothing returned %v, want no row", got)
	}
	expect("delete :execrows of nothing", 0, 0)

	// Raw writes: one unattributed row per changed row, with the patient of the row; a change to an excluded
	// column alone is recorded by name.
	raw := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	raw(`INSERT INTO claim_lines (claim_id, code) VALUES ($1, 'R1'), ($1, 'R2')`, claim)
	raw(`UPDATE visits SET "time" = '11:30' WHERE id = $1`, visit)
	raw(`UPDATE visits SET note = 'only nonphi' WHERE id = $1`, visit)
	raw(`UPDATE people SET secret = 'only excluded' WHERE id = $1`, person)
	raw(`DELETE FROM claim_lines WHERE claim_id = $1`, claim)
	expect("raw writes", 0, 6)
	var wrong int
	if err := super.QueryRow(ctx, `SELECT count(*) FROM auditrepo.audit_log WHERE actor_kind = 'unattributed'
		AND patient_id IS DISTINCT FROM $1`, person).Scan(&wrong); err != nil || wrong != 0 {
		t.Errorf("%d unattributed rows without the patient %d (%v)", wrong, person, err)
	}
	if err := super.QueryRow(ctx, `SELECT count(*) FROM auditrepo.audit_log WHERE changes::text LIKE '%s3cret%'
		OR changes::text LIKE '%only excluded%' OR coalesce(changes->'after' ? 'secret', false)`).Scan(&wrong); err != nil || wrong != 0 {
		t.Errorf("%d audit rows show an excluded column's value (%v)", wrong, err)
	}
	var named int
	if err := super.QueryRow(ctx, `SELECT count(*) FROM auditrepo.audit_log WHERE changes->'changed_fields' = '["secret"]'`).Scan(&named); err != nil || named != 1 {
		t.Errorf("%d rows name the change of the excluded column alone (%v), want 1", named, err)
	}
	// json and point have no equality operator: both paths find their changes on the text form.
	var mark int64
	if err := super.QueryRow(ctx, "SELECT max(id) FROM auditrepo.audit_log").Scan(&mark); err != nil {
		t.Fatal(err)
	}
	raw(`UPDATE visits SET intake = '{"allergy": "latex"}', chair = point(1, 2) WHERE id = $1`, visit)
	raw(`UPDATE visits SET intake = '{"allergy": "latex"}', chair = point(1, 2) WHERE id = $1`, visit)
	raw(`UPDATE visits SET chair = point(3, 4) WHERE id = $1`, visit)
	run("auditedUpdateVisit", visit, "ache again", "note 3")
	var fields []string
	if err := super.QueryRow(ctx, `SELECT array_agg(actor_kind || ' ' || (changes->'changed_fields')::text ORDER BY id)
		FROM auditrepo.audit_log WHERE id > $1`, mark).Scan(&fields); err != nil {
		t.Fatal(err)
	}
	want := []string{`unattributed ["intake", "chair"]`, `unattributed ["chair"]`, `system ["reason", "note", "updated_at"]`}
	if !slices.Equal(fields, want) {
		t.Errorf("changes of json and point columns: %q, want %q", fields, want)
	}
	expect("json and point columns", 1, 2)
	// Every image, whichever statement wrote it, shows the table's columns but the excluded one, and nothing else.
	var odd []string
	if err := super.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT a.target_table || ' ' || i.kind), '{}') FROM auditrepo.audit_log a
		CROSS JOIN LATERAL (VALUES ('before', a.changes->'before'), ('after', a.changes->'after'),
			('deleted_record', a.changes->'deleted_record')) AS i(kind, img)
		WHERE i.img IS NOT NULL AND ARRAY(SELECT jsonb_object_keys(i.img) ORDER BY 1) <> ARRAY(SELECT column_name::text
			FROM information_schema.columns WHERE table_name = a.target_table AND column_name <> 'secret' ORDER BY 1)`).Scan(&odd); err != nil {
		t.Fatal(err)
	}
	if len(odd) > 0 {
		t.Errorf("images with other keys than their table's columns: %v", odd)
	}
	// Moving a visit to another patient moves its claims (one hop) and their lines (two hops): a MOVE row each,
	// under the new patient with the old one as prior patient.
	claim2 := run("auditedCreateClaim", visit, "1.00")[0]
	run("auditedCreateClaimLine", claim2, "M9", "material", nil)
	raw(`UPDATE visits SET patient_id = $1 WHERE id = $2`, bo, visit)
	var moved []string
	if err := super.QueryRow(ctx, `SELECT array_agg(target_table || ' ' || target_id || ' ' || patient_id || '<-' || prior_patient_id ORDER BY target_table, target_id)
		FROM auditrepo.audit_log WHERE action = 'MOVE'`).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	wantMoved := []string{
		fmt.Sprintf("claim_lines %d %d<-%d", line2(t, super, claim2), bo, person),
		fmt.Sprintf("claims %d %d<-%d", claim, bo, person), fmt.Sprintf("claims %d %d<-%d", claim2, bo, person),
	}
	if !slices.Equal(moved, wantMoved) {
		t.Errorf("MOVE rows %q, want %q", moved, wantMoved)
	}
	if _, err := super.Exec(ctx, "TRUNCATE claim_lines"); err == nil || !strings.Contains(err.Error(), "TRUNCATE on audited table public.claim_lines refused") {
		t.Errorf("TRUNCATE claim_lines: %v, want it refused", err)
	}
	// Installing again replaces the first installation.
	if err := auditschema.InstallModels(ctx, super, auditschema.Config{}, models(prog, sqls["auditSQL"])); err != nil {
		t.Errorf("installing the triggers again: %v", err)
	}
	var triggers int
	if err := super.QueryRow(ctx, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'audit\\_%'").Scan(&triggers); err != nil || triggers != 4*4 {
		t.Errorf("%d audit triggers (%v), want 4 on each of the 4 tables", triggers, err)
	}
}

// TestGoldenFloatDigits: a session that lowers extra_float_digits (to -15 here, in its startup packet, as the
// application role may) would print every float rounded: point(1.1,2.1) and point(1.4,2.4) both as (1,2), 36.6
// and 41.9 both as 40. The trigger function of a table with such columns pins it, so the change of the point is
// found and the images hold the real values; a table without them pins nothing.
func TestGoldenFloatDigits(t *testing.T) {
	t.Parallel()
	_, sqls, super, pool := okCase(t, caseOptions("ok"))
	ctx := t.Context()
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["extra_float_digits"] = "-15"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var digits, rounded string
	if err := conn.QueryRow(ctx, "SELECT current_setting('extra_float_digits'), point(1.1, 2.1)::text").Scan(&digits, &rounded); err != nil || digits != "-15" || rounded != "(1,2)" {
		t.Fatalf("the session prints floats with extra_float_digits %q: %q (%v), want -15: (1,2)", digits, rounded, err)
	}
	var person, visit int64
	if err := conn.QueryRow(ctx, "INSERT INTO people (kind, name, secret) VALUES ('patient', 'Ann', 'x') RETURNING id").Scan(&person); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "INSERT INTO visits (patient_id, reason, chair, temp) VALUES ($1, 'fever', point(1.1, 2.1), 36.6) RETURNING id", person).Scan(&visit); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"UPDATE visits SET chair = point(1.4, 2.4) WHERE id = $1", "UPDATE visits SET temp = 41.9 WHERE id = $1"} {
		if _, err := conn.Exec(ctx, sql, visit); err != nil {
			t.Fatal(err)
		}
	}
	got := pgtest.Strings(t, super, `SELECT action || ' ' || coalesce(changes->>'changed_fields', '') || ' ' || coalesce(changes->'before'->>'chair', '') || ' '
		|| coalesce(changes->'before'->>'temp', '') || ' -> ' || (changes->'after'->>'chair') || ' ' || (changes->'after'->>'temp')
		FROM auditrepo.audit_log WHERE target_table = 'visits' AND target_id = $1 ORDER BY id`, visit)
	want := []string{
		"CREATE    -> (1.1,2.1) 36.6",
		`UPDATE ["chair"] (1.1,2.1) 36.6 -> (1.4,2.4) 36.6`,
		`UPDATE ["temp"] (1.4,2.4) 36.6 -> (1.4,2.4) 41.9`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the audit rows under extra_float_digits -15:\n%q\nwant\n%q", got, want)
	}
	// Only the table with such columns pins it.
	if pinned := strings.Count(sqls["auditSQL"], "SET extra_float_digits = 3"); pinned != 1 || !strings.Contains(sqls["auditSQL"],
		"audit_public_visits() RETURNS trigger LANGUAGE plpgsql\nSECURITY DEFINER SET search_path = pg_catalog, pg_temp SET extra_float_digits = 3 AS") {
		t.Errorf("%d trigger functions pin extra_float_digits, want visits' alone", pinned)
	}
}

// TestGoldenPaddedChar: bpchar (char with no length) keeps trailing spaces, and the images show them, but its
// equality and its cast to text drop them: 'a' = 'a  '. A change of trailing spaces alone is a change of the
// image, so it writes an audit row naming the column; setting the same value again writes none.
func TestGoldenPaddedChar(t *testing.T) {
	t.Parallel()
	_, _, super, pool := okCase(t, caseOptions("ok"))
	ctx := t.Context()
	var person, visit int64
	if err := pool.QueryRow(ctx, "INSERT INTO people (kind, name, secret) VALUES ('patient', 'Ann', 'x') RETURNING id").Scan(&person); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "INSERT INTO visits (patient_id, reason, tooth) VALUES ($1, 'check', 'a') RETURNING id", person).Scan(&visit); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"UPDATE visits SET tooth = 'a  ' WHERE id = $1", "UPDATE visits SET tooth = 'a  ' WHERE id = $1", "UPDATE visits SET tooth = 'a' WHERE id = $1"} {
		if _, err := pool.Exec(ctx, sql, visit); err != nil {
			t.Fatal(err)
		}
	}
	checkToothTrail(t, super, "visits", visit)
}

func ptr[T any](v T) *T { return &v }

// line2 is the id of claim's only line.
func line2(t *testing.T, db *pgxpool.Pool, claim int64) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow(t.Context(), "SELECT id FROM claim_lines WHERE claim_id = $1", claim).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// caseOptions are the generator's options for golden case name, from the module root.
func caseOptions(name string) Options {
	dir := filepath.Join("testdata", "golden", name)
	return Options{Config: filepath.Join(dir, "sqlc.yaml"), Models: dir, Out: "repo", Audit: ir.Audit{
		Schema: auditschema.Defaults.Schema, Table: auditschema.Defaults.Table, Role: auditschema.Defaults.Audit,
		Writer: auditschema.Defaults.Writer}}
}

// models are program p's models as the generated AuditModels has them, with sql as their SQL.
func models(p *ir.Program, sql string) auditschema.Models {
	return auditschema.Models{Schema: p.Audit.Schema, SQL: sql, Tables: p.Tables()}
}

// caseDB creates a database with golden case name's schema, the audit schema and the case's audit triggers
// (triggers, for program p), as a deployment would have them: the tables owned by the owner role, the application
// role granted what it needs. It returns pools as the superuser and as the application role.
func caseDB(t *testing.T, root, name string, p *ir.Program, triggers string) (super, app *pgxpool.Pool) {
	t.Helper()
	super, c := caseTables(t, root, name, p)
	if err := auditschema.InstallModels(t.Context(), super, c, models(p, triggers)); err != nil {
		t.Fatal(err)
	}
	cfg := super.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = c.App, ""
	u := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", c.App, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database)
	return super, pgtest.Pool(t, u)
}

// caseTables is caseDB before it installs the audit triggers: a database with the case's schema and the audit
// schema, the models' tables owned by the owner role and granted to the application role. It returns a pool as the
// superuser and the audit schema's Config.
func caseTables(t *testing.T, root, name string, p *ir.Program) (*pgxpool.Pool, auditschema.Config) {
	t.Helper()
	schema, err := os.ReadFile(filepath.Join(root, "testdata", "golden", name, "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	super := pgtest.Schema(t, string(schema))
	c := auditschema.Defaults
	c.Schema, c.Table = p.Audit.Schema, p.Audit.Table
	if _, err := auditschema.Install(ctx, super, c); err != nil {
		t.Fatal(err)
	}
	// The case's other tables (read by UPDATE ... FROM, DELETE ... USING, written by queries left alone) are
	// the application's to use, as a deployment's grants would make them.
	if _, err := super.Exec(ctx, fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %s", c.App)); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range p.Tables() {
		if _, err := super.Exec(ctx, fmt.Sprintf("ALTER TABLE %s OWNER TO %s; GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s", tbl.Name, c.Owner, tbl.Name, c.App)); err != nil {
			t.Fatal(err)
		}
	}
	return super, c
}

// An audit schema whose name is a column-name key word (time) is bare in expressions but must be quoted where a
// type is named (the trigger functions' DECLARE of the claim's row type): the "ok" case generated for it installs,
// and a repository statement writes its audit row there.
func TestKeywordAuditSchema(t *testing.T) {
	t.Parallel()
	o := caseOptions("ok")
	o.Audit.Schema = "time"
	_, sqls, super, pool := okCase(t, o)
	if _, err := pool.Exec(t.Context(), sqls["auditedCreatePerson"], "patient", "Ann", "s3cret", goldenActor); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := super.QueryRow(t.Context(), `SELECT count(*) FROM "time".audit_log WHERE actor_kind = 'system'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit rows of the create in schema time: %d, %v; want 1", n, err)
	}
	// The server quotes the schema where it names the failing trigger function ("time".audit_...): an audit row
	// that cannot be written is still audit.ErrAuditWrite.
	if _, err := super.Exec(t.Context(), `ALTER TABLE "time".audit_log ADD CONSTRAINT refuse CHECK (false) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	call := audit.NewWriter(pool).Claim(audit.WithSystem(t.Context(), "test"), audit.ActionCreate, "people", sqls["auditedCreatePerson"])
	_, err := call.Exec(t.Context(), "", "patient", "Bo", "s3cret")
	if err = call.Err(err); !errors.Is(err, audit.ErrAuditWrite) {
		t.Errorf("a create whose audit row the table refuses, audit schema time: %v, want ErrAuditWrite", err)
	}
}

// okCase generates the golden "ok" case with o and installs it as caseDB does; it returns the program, the
// generated string constants by name and pools as the superuser and as the application role.
func okCase(t *testing.T, o Options) (prog *ir.Program, sqls map[string]string, super, app *pgxpool.Pool) {
	t.Helper()
	prog, sqls = generate(t, o)
	super, app = caseDB(t, filepath.Join("..", ".."), "ok", prog, sqls["auditSQL"])
	return prog, sqls, super, app
}

// generate generates a golden case with o: its program and the generated string constants by name.
func generate(t *testing.T, o Options) (*ir.Program, map[string]string) {
	t.Helper()
	root := filepath.Join("..", "..")
	files, err := Render(root, o)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Program(root, o)
	if err != nil {
		t.Fatal(err)
	}
	return prog, stringConsts(t, files)
}

// hasExtension reports whether the server can create extension name.
func hasExtension(t *testing.T, db *pgxpool.Pool, name string) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow(t.Context(), "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = $1)", name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// stringConsts returns the string constants of the generated files by name.
func stringConsts(t *testing.T, files map[string][]byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	for name, src := range files {
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || len(vs.Values) != 1 {
				return true
			}
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[vs.Names[0].Name] = s
			}
			return true
		})
	}
	return out
}

// TestInstallRefusesRetypedColumns: the generator decides from the schema files' types how each column's trigger
// compares and prints it (a float pins extra_float_digits, citext and a domain compare their text byte for byte,
// char its length). Columns whose database type is another (a hotfix's ALTER COLUMN TYPE, say) would then hide
// changes: installing the models refuses them, the generated SQL run alone and InstallModels alike, naming the
// column, both types and the fix.
func TestInstallRefusesRetypedColumns(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	prog, sqls := generate(t, caseOptions("ok"))
	triggers := sqls["auditSQL"]
	super, c := caseTables(t, root, "ok", prog)
	ctx := t.Context()
	citext := hasExtension(t, super, "citext")
	retype := []string{
		// The schema says bigint: a float prints by extra_float_digits, which the trigger would not pin.
		"ALTER TABLE claim_lines DROP CONSTRAINT claim_lines_claim_id_fkey",
		"ALTER TABLE claim_lines ALTER COLUMN claim_id TYPE double precision",
		// text: a domain over text may carry a nondeterministic collation, and its equality is the collation's.
		"CREATE DOMAIN public.loose AS text",
		"ALTER TABLE people ALTER COLUMN secret TYPE public.loose",
		// text: char drops trailing spaces in its equality and text, which the image keeps.
		"ALTER TABLE visits ALTER COLUMN reason TYPE char(3)",
	}
	want := []string{
		"table public.claim_lines has column claim_id of type double precision, which the schema the models were generated from declares of type bigint",
		"table public.people has column secret of type public.loose, which the schema the models were generated from declares of type text",
		"table public.visits has column reason of type character, which the schema the models were generated from declares of type text",
		"fix: regenerate from the schema the database has: the generator compares and prints the column by its type",
	}
	if citext {
		// text: citext's equality ignores case.
		retype = append(retype, "CREATE EXTENSION citext", "ALTER TABLE visits ALTER COLUMN note TYPE citext")
		want = append(want, "table public.visits has column note of type public.citext, which the schema the models were generated from declares of type text")
	} else {
		t.Log("no citext extension in this PostgreSQL installation: its case is not run")
	}
	for _, q := range retype {
		if _, err := super.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The generated SQL, run alone, checks the tables itself.
	_, err := super.Exec(ctx, triggers)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55000" {
		t.Fatalf("running the generated models' SQL on retyped columns: %v, want object_not_in_prerequisite_state", err)
	}
	for _, w := range want {
		if !strings.Contains(pgErr.Message, w) {
			t.Errorf("the generated models' SQL's refusal does not name %q:\n%s", w, pgErr.Message)
		}
	}
	err = auditschema.InstallModels(ctx, super, c, models(prog, triggers))
	if !errors.Is(err, auditschema.ErrNotReady) {
		t.Fatalf("InstallModels on retyped columns: %v, want ErrNotReady", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("InstallModels' refusal does not name %q:\n%v", w, err)
		}
	}
	var n int
	if err := super.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audited_tables").Scan(&n); err != nil || n != 0 {
		t.Errorf("audited_tables has %d rows (%v) after the refusals", n, err)
	}
}

// TestInstallRefusesMisreadTypes: the generator took the "ok" case's claim_line_kind for the enum its schema
// creates, so the triggers compare claim_lines' kind and billed_as by equality alone and pin no
// extra_float_digits for the table. A database where that name is another type (a schema file run otherwise than
// the generator read it: a schema renamed onto another's, a search_path) passes the check of the declared type's
// name; installing refuses it by the generator's verdicts, the generated SQL run alone and InstallModels alike: a
// citext or float domain is not compared by equality alone (a change of case would write no audit row), a domain
// over bpchar is not compared by its length, a float prints by extra_float_digits.
func TestInstallRefusesMisreadTypes(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	prog, sqls := generate(t, caseOptions("ok"))
	triggers := sqls["auditSQL"]
	super, c := caseTables(t, root, "ok", prog)
	ctx := t.Context()
	citext := hasExtension(t, super, "citext")
	if _, err := super.Exec(ctx, `ALTER TABLE claim_lines ALTER COLUMN kind DROP DEFAULT, ALTER COLUMN kind TYPE text, ALTER COLUMN billed_as TYPE text;
		DROP TYPE claim_line_kind`); err != nil {
		t.Fatal(err)
	}
	const alone = ", which the audit triggers compare by equality alone, the generator having read its declared type as one whose equality is exact (text, varchar or char with no COLLATE clause, or an enum): the equality of "
	cases := []struct {
		base string
		want []string
	}{
		{"float8", []string{
			"table public.claim_lines has column kind of type public.claim_line_kind (over double precision)" + alone + "double precision",
			"table public.claim_lines has column billed_as of type public.claim_line_kind (over double precision), which may print floats (of type double precision), but the generator read no column of the table as of a type that may",
			"fix: regenerate from the schema the database has (the trigger of a table with a column that may print floats pins extra_float_digits)",
		}},
		{"bpchar", []string{
			"table public.claim_lines has column kind of type public.claim_line_kind (over character), a char (bpchar) with no length, whose equality and text drop trailing spaces that its values keep: the generator did not read its declared type as char",
			"table public.claim_lines has column billed_as of type public.claim_line_kind (over character), a char (bpchar) with no length",
			"fix: declare the column of type bpchar or char in the schema files (not through a domain) and regenerate",
		}},
	}
	if citext {
		if _, err := super.Exec(ctx, "CREATE EXTENSION citext"); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			base string
			want []string
		}{"citext", []string{
			"table public.claim_lines has column kind of type public.claim_line_kind (over public.citext)" + alone + "public.citext",
			"table public.claim_lines has column billed_as of type public.claim_line_kind (over public.citext)" + alone + "public.citext",
			"fix: regenerate from the schema the database has (the generator compares a column of a type whose equality may hold values that differ by its text too)",
		}})
	} else {
		t.Log("no citext extension in this PostgreSQL installation: its case is not run")
	}
	for _, tc := range cases {
		if _, err := super.Exec(ctx, fmt.Sprintf(`CREATE DOMAIN claim_line_kind AS %s;
			ALTER TABLE claim_lines ALTER COLUMN kind TYPE claim_line_kind USING kind::claim_line_kind,
				ALTER COLUMN billed_as TYPE claim_line_kind USING billed_as::claim_line_kind`, tc.base)); err != nil {
			t.Fatal(err)
		}
		_, err := super.Exec(ctx, triggers)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55000" {
			t.Fatalf("%s: running the generated models' SQL: %v, want object_not_in_prerequisite_state", tc.base, err)
		}
		err = auditschema.InstallModels(ctx, super, c, models(prog, triggers))
		if !errors.Is(err, auditschema.ErrNotReady) {
			t.Fatalf("%s: InstallModels: %v, want ErrNotReady", tc.base, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(pgErr.Message, w) {
				t.Errorf("%s: the generated models' SQL's refusal does not name %q:\n%s", tc.base, w, pgErr.Message)
			}
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: InstallModels' refusal does not name %q:\n%v", tc.base, w, err)
			}
		}
		if strings.Contains(err.Error(), "which the schema the models were generated from declares") {
			t.Errorf("%s: the declared type's name is refused, which is the database's:\n%v", tc.base, err)
		}
		if _, err := super.Exec(ctx, `ALTER TABLE claim_lines ALTER COLUMN kind TYPE text, ALTER COLUMN billed_as TYPE text; DROP DOMAIN claim_line_kind`); err != nil {
			t.Fatal(err)
		}
	}
	// The enum again, as the generator read it: installing accepts it.
	if _, err := super.Exec(ctx, `CREATE TYPE claim_line_kind AS ENUM ('procedure', 'material');
		ALTER TABLE claim_lines ALTER COLUMN kind TYPE claim_line_kind USING kind::claim_line_kind,
			ALTER COLUMN billed_as TYPE claim_line_kind USING billed_as::claim_line_kind`); err != nil {
		t.Fatal(err)
	}
	if err := auditschema.InstallModels(ctx, super, c, models(prog, triggers)); err != nil {
		t.Fatalf("InstallModels with the enum: %v", err)
	}
}

// TestGoldenRenamedTable: the "ok_renamed" case's schema creates its table under another name, renames it, and
// renames its char columns: their declarations follow them. Through the generated repository's statements, a change
// of tooth's (bpchar's) trailing spaces alone writes an audit row naming it; and installing checks the columns'
// types, refusing grade (char(3)) retyped to text, the generated SQL run alone and InstallModels alike.
func TestGoldenRenamedTable(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	prog, sqls := generate(t, caseOptions("ok_renamed"))
	if got := prog.Tables(); len(got) != 1 || got[0].Types["tooth"] != "bpchar" || got[0].Types["grade"] != "pg_catalog.bpchar" {
		t.Errorf("the renamed table's models: %+v, want tooth's and grade's declared types", got)
	}
	super, pool := caseDB(t, root, "ok_renamed", prog, sqls["auditSQL"])
	ctx := t.Context()
	var chart int64
	if err := pool.QueryRow(ctx, sqls["auditedCreateChart"], 7, "a", "b", "n", goldenActor).Scan(&chart); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a  ", "a  ", "a"} {
		if _, err := pool.Exec(ctx, sqls["auditedUpdateChartTooth"], chart, v, goldenActor); err != nil {
			t.Fatal(err)
		}
	}
	checkToothTrail(t, super, "charts", chart)

	// A hotfix retyped grade before the models were installed (the audit triggers refuse a rewrite once they are):
	// installing refuses it.
	super, c := caseTables(t, root, "ok_renamed", prog)
	if _, err := super.Exec(ctx, "ALTER TABLE charts ALTER COLUMN grade TYPE text"); err != nil {
		t.Fatal(err)
	}
	const refusal = "table public.charts has column grade of type text, which the schema the models were generated from declares of type character"
	_, err := super.Exec(ctx, sqls["auditSQL"])
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55000" || !strings.Contains(pgErr.Message, refusal) {
		t.Errorf("running the generated models' SQL on the retyped column: %v, want object_not_in_prerequisite_state naming %q", err, refusal)
	}
	err = auditschema.InstallModels(ctx, super, c, models(prog, sqls["auditSQL"]))
	if !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), refusal) {
		t.Errorf("InstallModels on the retyped column: %v, want ErrNotReady naming %q", err, refusal)
	}
}

// checkToothTrail checks the audit rows of one row of table whose tooth, a bpchar, was created 'a', then set to
// 'a  ' twice and back to 'a': each change of trailing spaces alone has its row, the write that changed nothing none.
func checkToothTrail(t *testing.T, super *pgxpool.Pool, table string, id int64) {
	t.Helper()
	got := pgtest.Strings(t, super, `SELECT action || ' ' || coalesce(changes->>'changed_fields', '') || ' ' || coalesce(changes->'before'->>'tooth', '')
		|| ' -> ' || (changes->'after'->>'tooth') || '|'
		FROM auditrepo.audit_log WHERE target_table = $1 AND target_id = $2 ORDER BY id`, table, id)
	want := []string{
		"CREATE   -> a|",
		`UPDATE ["tooth"] a -> a  |`,
		`UPDATE ["tooth"] a   -> a|`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the audit rows of %s's bpchar tooth changed by its trailing spaces:\n%q\nwant\n%q", table, got, want)
	}
}
