package templates

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/ir"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/internal/tags"
)

// Quoted column names may hold what the array syntax means something by; PostgreSQL must read each back whole.
func TestArrayLitRoundTrips(t *testing.T) {
	items := []string{"id", "a,b", `q"x`, `b\s`, " sp", "NULL", "null", "{x}", "two words", "é"}
	var got []string
	if err := pgtest.Empty(t).QueryRow(context.Background(), "SELECT "+arrayLit(items)).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, items) {
		t.Errorf("%s reads back as %q, want %q", arrayLit(items), got, items)
	}
}

// The generator refuses names containing ir.BodyQuote because the templates quote bodies with it: they must
// use no other dollar quote.
func TestBodyQuote(t *testing.T) {
	for _, f := range []string{"triggers.sql.tmpl", "audited.sql.tmpl"} {
		b, err := files.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range dollarTag.FindAllString(string(b), -1) {
			if tag != ir.BodyQuote {
				t.Errorf("%s quotes with %s, not ir.BodyQuote %s", f, tag, ir.BodyQuote)
			}
		}
	}
}

var dollarTag = regexp.MustCompile(`\$([A-Za-z_][A-Za-z_0-9]*)?\$`)

// A name printed in an SQL line comment stays on that line, whatever it holds.
func TestCommentKeepsTheLine(t *testing.T) {
	for _, name := range []string{"plain", `"odd table"`, "a\nDROP TABLE x; --", "a\rb", "tab\there"} {
		got := comment(name)
		if strings.ContainsFunc(got, unicode.IsControl) {
			t.Errorf("comment(%q) = %q holds a control character", name, got)
		}
		if !strings.ContainsFunc(name, unicode.IsControl) && got != name {
			t.Errorf("comment(%q) = %q, want it unchanged", name, got)
		}
	}
}

// An image is to_jsonb of the row without the excluded columns and with the redacted ones masked, and it names
// the columns in the order jsonb keeps its keys (so building it sorts nothing).
func TestImageIsTheRowsJSON(t *testing.T) {
	m := &ir.Model{Columns: []*ir.Column{{Name: "id"}, {Name: "secret", Exclude: true}, {Name: "note", Redact: true},
		{Name: "b"}, {Name: "a"}, {Name: "é"}, {Name: "Z"}, {Name: `q"x`}, {Name: "two words"}}}
	types := map[string]string{"id": "bigint", "secret": "text", "note": "text", "b": "text", "a": "numeric", "é": "timestamptz",
		"Z": "date", `q"x`: "jsonb", "two words": "boolean"}
	for i := range 100 {
		name := fmt.Sprintf("c%d", i)
		m.Columns = append(m.Columns, &ir.Column{Name: name})
		types[name] = [...]string{"int[]", "bigint", "text", "numeric"}[i%4]
	}
	var defs []string
	for _, c := range m.Columns {
		defs = append(defs, ident(c.Name)+" "+types[c.Name])
	}
	db := pgtest.Schema(t, "CREATE TABLE t ("+strings.Join(defs, ", ")+")")
	ctx := context.Background()
	// Every column gets a value of its type: its text form, from a jsonb of its own.
	if _, err := db.Exec(ctx, `INSERT INTO t SELECT * FROM jsonb_populate_record(NULL::t, jsonb_build_object(
		'id', 7, 'secret', 's3', 'note', 'n', 'b', 'x', 'a', 1.5, 'é', now(), 'Z', current_date, 'q"x', '{"k": [1]}'::jsonb,
		'two words', true, 'c0', '{1,2}', 'c1', 2, 'c2', 'y', 'c3', 2.5))`); err != nil {
		t.Fatal(err)
	}
	d := &data{m: m}
	img := "LATERAL (SELECT " + d.Image("x") + ") i"
	var same bool
	var keys []string
	if err := db.QueryRow(ctx, `SELECT to_jsonb(i)::text = (to_jsonb(x) - 'secret' || '{"note": "[REDACTED]"}')::text,
		array(SELECT jsonb_object_keys(to_jsonb(i))) FROM t x, `+img).Scan(&same, &keys); err != nil {
		t.Fatal(err)
	}
	if !same {
		t.Errorf("the image is not to_jsonb of the row, excluded and masked: %s", d.Image("x"))
	}
	rows, err := db.Query(ctx, "SELECT i.* FROM t x, "+img)
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	for _, f := range rows.FieldDescriptions() {
		named = append(named, f.Name)
	}
	rows.Close()
	if !slices.Equal(named, keys) {
		t.Errorf("the image names the columns in the order\n%q\njsonb keeps its keys in\n%q", named, keys)
	}
}

// An audit row's changes hold the images as to_jsonb renders the row (excluded columns removed, redacted ones
// masked), compared as text so that numeric scale and key order count, through multi-row inserts, updates, a
// change of id (two halves) and deletes; and no column shadows the rows the trigger builds them from, not even one
// added after installing.
func TestChangesAreTheRowsJSON(t *testing.T) {
	ctx := t.Context()
	cols := []string{"id", "n", "o", "d", "c", "after", "changed", "patient", "ar_after", "ar_changes", "num", "arr", "doc",
		"at", "secret", "note", "bookkeeping", "email"}
	var columns []*ir.Column
	for _, name := range cols {
		columns = append(columns, &ir.Column{Name: name, Exclude: name == "secret", Redact: name == "note", NonPHI: name == "bookkeeping",
			ByText:  name == "doc" || name == "num", // json has no equality, numeric's holds 1.0 = 1.00: the generator marks such columns
			ByBytes: name == "email"})               // a string: its collation may ignore case
	}
	db := installT(t, columns, `CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
		CREATE TABLE t (id bigint PRIMARY KEY, n text, o text, d text, c text, after text, changed text,
		patient text, ar_after jsonb, ar_changes jsonb, num numeric, arr int[], doc json, at timestamptz, secret text, note text,
		bookkeeping int, email text COLLATE nocase)`)
	images := func() map[int64]string {
		// ar_before, added after installing, is no column of the model: no image holds it (InstallModels refuses
		// to install again until the model declares it).
		rows, err := db.Query(ctx, `SELECT id, (to_jsonb(x) - '{secret,ar_before}'::text[] || '{"note": "[REDACTED]"}')::text FROM t x`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]string{}
		var id int64
		var img string
		if _, err := pgx.ForEachRow(rows, []any{&id, &img}, func() error { out[id] = img; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var last int64
	for _, st := range []struct {
		sql  string
		rows int // audit rows it writes
	}{
		{`INSERT INTO t VALUES (1, 'N', 'O', 'D', 'C', 'A', 'CH', 'P', '{"forged": 1}', '{"after": "forged"}', 1.50, '{{1,NULL},{3,4}}',
			'{"k": 1.50, "k": 2}', 'infinity', 's3cret', 'private', 1, 'Ann@Example.org'),
			(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -0.0, '{}', 'null', '2026-01-02 03:04:05.678+00', NULL, NULL, 2, NULL)`, 2},
		{`UPDATE t SET num = num * 10, secret = 'new', note = 'also private', ar_changes = '{"after": "forged again"}'`, 2},
		{`UPDATE t SET bookkeeping = bookkeeping + 1`, 0},          // nonphi only
		{`UPDATE t SET num = 15.000 WHERE id = 1`, 1},              // equal to 15.00, but not the same image
		{`UPDATE t SET email = lower(email) WHERE id = 1`, 1},      // equal by the collation, but not the same text
		{`UPDATE t SET email = 'ann@example.org' WHERE id = 1`, 0}, // the same text
		{`UPDATE t SET id = id + 100 WHERE id = 2`, 2},             // the old and the new half
		// A column added after installing, named as the trigger's rows are, cannot stand in for them (where no event
		// trigger makes the table refuse writes until the models are installed again).
		{`ALTER EVENT TRIGGER auditrepo_ddl_end DISABLE; ALTER TABLE t ADD COLUMN ar_before jsonb; ALTER EVENT TRIGGER auditrepo_ddl_end ENABLE`, 0},
		{`UPDATE t SET ar_before = '{"forged": true}', n = 'N2' WHERE id = 1`, 1},
		{`DELETE FROM t`, 2},
	} {
		step := st.sql
		before := images()
		if _, err := db.Exec(ctx, step); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		after := images()
		rows, err := db.Query(ctx, `SELECT id, action, target_id, array(SELECT jsonb_object_keys(changes) ORDER BY 1),
			coalesce((changes->'after')::text, ''), coalesce((changes->'before')::text, coalesce((changes->'deleted_record')::text, '')),
			array(SELECT jsonb_array_elements_text(changes->'changed_fields'))
			FROM auditrepo.audit_log WHERE id > $1 ORDER BY id`, last)
		if err != nil {
			t.Fatal(err)
		}
		var id, target int64
		var action, gotAfter, gotBefore string
		var keys, changed []string
		n := 0
		_, err = pgx.ForEachRow(rows, []any{&id, &action, &target, &keys, &gotAfter, &gotBefore, &changed}, func() error {
			n++
			last = id
			wantKeys := map[string][]string{"CREATE": {"after"}, "UPDATE": {"after", "before", "changed_fields"}, "DELETE": {"deleted_record"}}[action]
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("%s: %s row has keys %v, want %v", step, action, keys, wantKeys)
			}
			wantAfter, wantBefore := after[target], before[target]
			if action == "UPDATE" && gotAfter == "null" { // the old half of a changed id
				wantAfter = "null"
			}
			if action == "UPDATE" && gotBefore == "null" { // the new half
				wantBefore = "null"
			}
			// A half names every column: naming the non-NULL ones would tell whether secret holds a value.
			if action == "UPDATE" && (gotAfter == "null" || gotBefore == "null") && !slices.Equal(changed, cols) {
				t.Errorf("%s: a half of a changed id names %v, want every column", step, changed)
			}
			if action == "CREATE" {
				wantBefore = ""
			}
			if action == "DELETE" {
				wantAfter = ""
			}
			if gotAfter != wantAfter || gotBefore != wantBefore {
				t.Errorf("%s: %s of %d\nafter  %s\nwant   %s\nbefore %s\nwant   %s", step, action, target, gotAfter, wantAfter, gotBefore, wantBefore)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != st.rows {
			t.Errorf("%s: %d audit rows, want %d", step, n, st.rows)
		}
	}
}

// A column compared by its text (a domain, which sqlc gives no Go type of its own) compares it in the C collation:
// the domain's may be nondeterministic, holding 'HIV+' and 'hiv+' equal.
func TestTextComparedInC(t *testing.T) {
	ctx := t.Context()
	db := installT(t, []*ir.Column{{Name: "id"}, {Name: "loose", ByText: true}},
		`CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
		CREATE DOMAIN loose_text AS text COLLATE nocase;
		CREATE TABLE t (id bigint PRIMARY KEY, loose loose_text)`)
	if _, err := db.Exec(ctx, "INSERT INTO t VALUES (1, 'HIV+'); UPDATE t SET loose = 'hiv+'"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log WHERE action = 'UPDATE'").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d audit rows (%v) for a change equal under the domain's collation, want 1", n, err)
	}
}

// A char column (bpchar; pg_catalog.bpchar, as spelled here, is a Go string to sqlc) compares its octet_length
// too: its equality, a nondeterministic collation's too, and its text drop the trailing spaces its image keeps.
func TestPaddedCharComparedByLength(t *testing.T) {
	ctx := t.Context()
	db := installT(t, []*ir.Column{{Name: "id"}, {Name: "code", ByLength: true}, {Name: "ci", ByBytes: true, ByLength: true}},
		`CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
		CREATE TABLE t (id bigint PRIMARY KEY, code pg_catalog.bpchar, ci bpchar COLLATE nocase)`)
	for _, sql := range []string{"INSERT INTO t VALUES (1, 'a', 'a')", "UPDATE t SET code = 'a  '", "UPDATE t SET ci = 'a '",
		"UPDATE t SET code = 'a  ', ci = 'a '"} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	got := pgtest.Strings(t, db, `SELECT (changes->'changed_fields')::text || ' ' || (changes->'after')::text
		FROM auditrepo.audit_log WHERE action = 'UPDATE' ORDER BY id`)
	want := []string{`["code"] {"ci": "a", "id": 1, "code": "a  "}`, `["ci"] {"ci": "a ", "id": 1, "code": "a  "}`}
	if !slices.Equal(got, want) {
		t.Errorf("UPDATE rows of char columns changed by trailing spaces:\n%q\nwant\n%q", got, want)
	}
}

// installT installs the audit schema and the triggers of model T, on table public.t with columns, into a database
// that ddl made (creating t), and returns it.
func installT(t *testing.T, columns []*ir.Column, ddl string) *pgxpool.Pool {
	t.Helper()
	ctx := t.Context()
	m := &ir.Model{Name: "T", Table: "t", Schema: "public", Relation: "t", Qualified: "public.t", Func: "audit_public_t", ClaimFunc: "claim_public_t",
		Patient: ir.Patient{Kind: tags.PatientSelf}, Columns: columns}
	p := &ir.Program{Audit: ir.Audit{Schema: auditschema.Defaults.Schema, Table: auditschema.Defaults.Table, Role: auditschema.Defaults.Audit,
		Writer: auditschema.Defaults.Writer, ClaimSchema: auditschema.Defaults.ClaimSchema()},
		Models: []*ir.Model{m}}
	sql, err := Triggers(p)
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.Schema(t, ddl)
	conf := auditschema.Defaults
	if _, err := auditschema.Install(ctx, db, conf); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, fmt.Sprintf("ALTER TABLE t OWNER TO %s; GRANT SELECT, INSERT, UPDATE, DELETE ON t TO %s", conf.Owner, conf.App)); err != nil {
		t.Fatal(err)
	}
	if err := auditschema.InstallModels(ctx, db, conf, auditschema.Models{Schema: conf.Schema, SQL: sql, Tables: p.Tables()}); err != nil {
		t.Fatal(err)
	}
	return db
}
