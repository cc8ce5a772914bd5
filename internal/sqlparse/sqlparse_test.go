package sqlparse

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// want is what a test case expects; text fields are compared with slices of the query text.
type want struct {
	kind      Kind
	target    string // Target.String()
	stmt      string // text[Start:End]
	returning bool
	where     string // text of the WHERE condition (Cond), "" when there is none
	currentOf bool
	pinned    []string // Pinned
	nested    bool     // ReadOnlyCTEs is false
	writes    []string // "VERB table", " in WITH" (Within) after writes not at the top level
	params    int
	columns   []string
	values    string   // text of the VALUES row, "" when Values is nil
	items     []string // text of each item
	itemParam []int    // Item.Param of each item
	defaults  []int    // indexes of DEFAULT items
	hidden    []string // Hidden's verbs
}

var cases = []struct {
	name, sql string
	want      want
}{
	{
		name: "update qualified",
		sql:  "-- name: SetStatus :one\nUPDATE public.appointments SET status = $2 WHERE id = $1 RETURNING *;\n",
		want: want{kind: Update, target: "public.appointments", stmt: "UPDATE public.appointments SET status = $2 WHERE id = $1 RETURNING *",
			returning: true, where: "id = $1", pinned: []string{"id"}, writes: []string{"UPDATE public.appointments"}, params: 2},
	},
	{
		name: "insert qualified",
		sql:  "INSERT INTO public.billings (patient_id, amount, note) VALUES ($1, $2, $3) RETURNING id, amount",
		want: want{kind: Insert, target: "public.billings", stmt: "INSERT INTO public.billings (patient_id, amount, note) VALUES ($1, $2, $3) RETURNING id, amount",
			returning: true, writes: []string{"INSERT public.billings"}, params: 3, columns: []string{"patient_id", "amount", "note"},
			values: "VALUES ($1, $2, $3)", items: []string{"$1", "$2", "$3"}, itemParam: []int{1, 2, 3}},
	},
	{
		name: "is distinct from",
		sql:  "UPDATE appointments SET status = $2 WHERE id = $1 AND status IS DISTINCT FROM $2",
		want: want{kind: Update, target: "appointments", stmt: "UPDATE appointments SET status = $2 WHERE id = $1 AND status IS DISTINCT FROM $2",
			where: "id = $1 AND status IS DISTINCT FROM $2", pinned: []string{"id"}, writes: []string{"UPDATE appointments"}, params: 2},
	},
	{
		name: "read-only cte",
		sql:  "WITH t AS (SELECT id FROM appointments WHERE patient_id = $1)\nUPDATE appointments a SET status = 'x' FROM t WHERE a.id = t.id RETURNING a.*",
		want: want{kind: Update, target: "appointments",
			stmt:      "WITH t AS (SELECT id FROM appointments WHERE patient_id = $1)\nUPDATE appointments a SET status = 'x' FROM t WHERE a.id = t.id RETURNING a.*",
			returning: true, where: "a.id = t.id", writes: []string{"UPDATE appointments"}, params: 1},
	},
	{
		name: "writing cte",
		sql:  "WITH gone AS (DELETE FROM allergies WHERE patient_id = $1 RETURNING id)\nINSERT INTO audit.removed (id) SELECT id FROM gone",
		want: want{kind: Insert, target: "audit.removed",
			stmt:   "WITH gone AS (DELETE FROM allergies WHERE patient_id = $1 RETURNING id)\nINSERT INTO audit.removed (id) SELECT id FROM gone",
			nested: true, writes: []string{"DELETE allergies in WITH", "INSERT audit.removed"}, params: 1, columns: []string{"id"}},
	},
	{
		name: "nested with in a subquery",
		sql:  "UPDATE t SET x = (WITH u AS (UPDATE other SET y = 1 RETURNING y) SELECT max(y) FROM u)",
		want: want{kind: Update, target: "t", stmt: "UPDATE t SET x = (WITH u AS (UPDATE other SET y = 1 RETURNING y) SELECT max(y) FROM u)",
			nested: true, writes: []string{"UPDATE t", "UPDATE other in WITH"}},
	},
	{
		name: "comma-first values with comments",
		sql: `INSERT INTO notes (
	patient_id
	, body -- the note
	, created_at
) VALUES (
	$1 -- patient
	, $2 /* body */
	-- created_at follows
	, now() -- server time
) -- trailing
; -- after`,
		want: want{kind: Insert, target: "notes", writes: []string{"INSERT notes"}, params: 2,
			stmt:    "INSERT INTO notes (\n\tpatient_id\n\t, body -- the note\n\t, created_at\n) VALUES (\n\t$1 -- patient\n\t, $2 /* body */\n\t-- created_at follows\n\t, now() -- server time\n)",
			columns: []string{"patient_id", "body", "created_at"},
			values:  "VALUES (\n\t$1 -- patient\n\t, $2 /* body */\n\t-- created_at follows\n\t, now() -- server time\n)",
			items:   []string{"$1", "$2", "now()"}, itemParam: []int{1, 2, 0}},
	},
	{
		name: "multi-line string literal",
		sql:  "INSERT INTO notes (body, kind) VALUES ('line one\n  $1 line two;\n', $1)",
		want: want{kind: Insert, target: "notes", stmt: "INSERT INTO notes (body, kind) VALUES ('line one\n  $1 line two;\n', $1)",
			writes: []string{"INSERT notes"}, params: 1, columns: []string{"body", "kind"},
			values: "VALUES ('line one\n  $1 line two;\n', $1)", items: []string{"'line one\n  $1 line two;\n'", "$1"}, itemParam: []int{0, 1}},
	},
	{
		name: "overriding system value",
		sql:  "INSERT INTO patients (id, name) OVERRIDING SYSTEM VALUE VALUES ($1, $2)",
		want: want{kind: Insert, target: "patients", stmt: "INSERT INTO patients (id, name) OVERRIDING SYSTEM VALUE VALUES ($1, $2)",
			writes: []string{"INSERT patients"}, params: 2, columns: []string{"id", "name"},
			values: "VALUES ($1, $2)", items: []string{"$1", "$2"}, itemParam: []int{1, 2}},
	},
	{
		name: "overriding user value",
		sql:  "INSERT INTO patients (id) OVERRIDING USER VALUE VALUES (DEFAULT)",
		want: want{kind: Insert, target: "patients", stmt: "INSERT INTO patients (id) OVERRIDING USER VALUE VALUES (DEFAULT)",
			writes: []string{"INSERT patients"}, columns: []string{"id"},
			values: "VALUES (DEFAULT)", items: []string{"DEFAULT"}, itemParam: []int{0}, defaults: []int{0}},
	},
	{
		name: "default item",
		sql:  "INSERT INTO visits (a, b, c, d) VALUES ($1, $2, DEFAULT, $3)",
		want: want{kind: Insert, target: "visits", stmt: "INSERT INTO visits (a, b, c, d) VALUES ($1, $2, DEFAULT, $3)",
			writes: []string{"INSERT visits"}, params: 3, columns: []string{"a", "b", "c", "d"},
			values: "VALUES ($1, $2, DEFAULT, $3)", items: []string{"$1", "$2", "DEFAULT", "$3"}, itemParam: []int{1, 2, 0, 3}, defaults: []int{2}},
	},
	{
		name: "update only",
		sql:  "UPDATE ONLY t AS x SET a = $1",
		want: want{kind: Update, target: "t", stmt: "UPDATE ONLY t AS x SET a = $1", writes: []string{"UPDATE t"}, params: 1},
	},
	{
		name: "delete from only",
		sql:  "DELETE FROM ONLY public.t WHERE id = $1",
		want: want{kind: Delete, target: "public.t", stmt: "DELETE FROM ONLY public.t WHERE id = $1", where: "id = $1", pinned: []string{"id"}, writes: []string{"DELETE public.t"}, params: 1},
	},
	{
		name: "table with a column of its own name",
		sql:  "UPDATE allergies SET allergies = $2 WHERE allergies.id = $1 RETURNING allergies.allergies",
		want: want{kind: Update, target: "allergies", stmt: "UPDATE allergies SET allergies = $2 WHERE allergies.id = $1 RETURNING allergies.allergies",
			returning: true, where: "allergies.id = $1", pinned: []string{"id"}, writes: []string{"UPDATE allergies"}, params: 2},
	},
	{
		name: "quoted identifiers",
		sql:  `UPDATE "Weird Table" AS "W" SET "ID" = $1 WHERE "W"."ID" = $2 RETURNING "W".*`,
		want: want{kind: Update, target: `"Weird Table"`, stmt: `UPDATE "Weird Table" AS "W" SET "ID" = $1 WHERE "W"."ID" = $2 RETURNING "W".*`,
			returning: true, where: `"W"."ID" = $2`, pinned: []string{"ID"}, writes: []string{`UPDATE "Weird Table"`}, params: 2},
	},
	{
		name: "case folding",
		sql:  `INSERT INTO Clinic."Patients" AS P (Name, "Ward") VALUES ($1, $2)`,
		want: want{kind: Insert, target: `clinic."Patients"`, stmt: `INSERT INTO Clinic."Patients" AS P (Name, "Ward") VALUES ($1, $2)`,
			writes: []string{`INSERT clinic."Patients"`}, params: 2, columns: []string{"name", "Ward"},
			values: "VALUES ($1, $2)", items: []string{"$1", "$2"}, itemParam: []int{1, 2}},
	},
	{
		name: "escape and dollar-quoted strings",
		sql:  "INSERT INTO notes (a, b, c) VALUES (E'it''s \\' $1', $tag$ $1 it's $2 $tag$, $3)",
		want: want{kind: Insert, target: "notes", stmt: "INSERT INTO notes (a, b, c) VALUES (E'it''s \\' $1', $tag$ $1 it's $2 $tag$, $3)",
			writes: []string{"INSERT notes"}, params: 3, columns: []string{"a", "b", "c"},
			values: "VALUES (E'it''s \\' $1', $tag$ $1 it's $2 $tag$, $3)", items: []string{"E'it''s \\' $1'", "$tag$ $1 it's $2 $tag$", "$3"}, itemParam: []int{0, 0, 3}},
	},
	{
		name: "comments in odd places",
		sql:  "/* lead */ UPDATE /* c */ t /* a /* nested */ b */ SET x = $1 -- end",
		want: want{kind: Update, target: "t", stmt: "UPDATE /* c */ t /* a /* nested */ b */ SET x = $1", writes: []string{"UPDATE t"}, params: 1},
	},
	{
		name: "casts",
		sql:  "INSERT INTO t (a, b, c, d) VALUES ($1::text, CAST($2 AS int), $3::text::json, ($4))",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t (a, b, c, d) VALUES ($1::text, CAST($2 AS int), $3::text::json, ($4))",
			writes: []string{"INSERT t"}, params: 4, columns: []string{"a", "b", "c", "d"},
			values: "VALUES ($1::text, CAST($2 AS int), $3::text::json, ($4))", items: []string{"$1::text", "CAST($2 AS int)", "$3::text::json", "($4)"}, itemParam: []int{0, 0, 0, 0}},
	},
	{
		name: "nested parentheses and arrays in items",
		sql:  "INSERT INTO t (a, b) VALUES (coalesce($1, (1 + 2) * 3), (ARRAY[$2, 4])[1])",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t (a, b) VALUES (coalesce($1, (1 + 2) * 3), (ARRAY[$2, 4])[1])",
			writes: []string{"INSERT t"}, params: 2, columns: []string{"a", "b"},
			values: "VALUES (coalesce($1, (1 + 2) * 3), (ARRAY[$2, 4])[1])", items: []string{"coalesce($1, (1 + 2) * 3)", "(ARRAY[$2, 4])[1]"}, itemParam: []int{0, 0}},
	},
	{
		name: "multi-row values",
		sql:  "INSERT INTO t (a) VALUES ($1), ($2)",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t (a) VALUES ($1), ($2)", writes: []string{"INSERT t"}, params: 2, columns: []string{"a"}},
	},
	{
		name: "insert select",
		sql:  "INSERT INTO t (a) SELECT a FROM u WHERE b = $1",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t (a) SELECT a FROM u WHERE b = $1", writes: []string{"INSERT t"}, params: 1, columns: []string{"a"}},
	},
	{
		name: "insert without column list",
		sql:  "INSERT INTO t VALUES ($1)",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t VALUES ($1)", writes: []string{"INSERT t"}, params: 1,
			values: "VALUES ($1)", items: []string{"$1"}, itemParam: []int{1}},
	},
	{
		name: "parenthesized values",
		sql:  "INSERT INTO t (a) (VALUES ($1)) RETURNING a AS values",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t (a) (VALUES ($1)) RETURNING a AS values", returning: true,
			writes: []string{"INSERT t"}, params: 1, columns: []string{"a"}},
	},
	{
		name: "alias named values",
		sql:  "INSERT INTO t AS values (values) VALUES ($1)",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t AS values (values) VALUES ($1)",
			writes: []string{"INSERT t"}, params: 1, columns: []string{"values"}, values: "VALUES ($1)", items: []string{"$1"}, itemParam: []int{1}},
	},
	{
		name: "default values",
		sql:  "INSERT INTO t DEFAULT VALUES RETURNING id",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t DEFAULT VALUES RETURNING id", returning: true, writes: []string{"INSERT t"}},
	},
	{
		name: "values with order by",
		sql:  "INSERT INTO t (a) VALUES ($1) ORDER BY 1",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t (a) VALUES ($1) ORDER BY 1", writes: []string{"INSERT t"}, params: 1, columns: []string{"a"}},
	},
	{
		name: "only with parentheses",
		sql:  "UPDATE ONLY (s.t) x SET a = 1",
		want: want{kind: Update, target: "s.t", stmt: "UPDATE ONLY (s.t) x SET a = 1", writes: []string{"UPDATE s.t"}},
	},
	{
		name: "descendants star",
		sql:  "DELETE FROM t * AS x",
		want: want{kind: Delete, target: "t", stmt: "DELETE FROM t * AS x", writes: []string{"DELETE t"}},
	},
	{
		name: "on conflict",
		sql:  "INSERT INTO t (id, a) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a RETURNING *",
		want: want{kind: Insert, target: "t", stmt: "INSERT INTO t (id, a) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a RETURNING *",
			returning: true, writes: []string{"INSERT t"}, params: 2, columns: []string{"id", "a"},
			values: "VALUES ($1, $2)", items: []string{"$1", "$2"}, itemParam: []int{1, 2}},
	},
	{
		name: "update from",
		sql:  "UPDATE t SET a = o.a FROM other o WHERE o.id = t.id AND o.k = $1",
		want: want{kind: Update, target: "t", stmt: "UPDATE t SET a = o.a FROM other o WHERE o.id = t.id AND o.k = $1", where: "o.id = t.id AND o.k = $1", writes: []string{"UPDATE t"}, params: 1},
	},
	{
		name: "delete using",
		sql:  "DELETE FROM t x USING other o WHERE o.id = x.id RETURNING x.id",
		want: want{kind: Delete, target: "t", stmt: "DELETE FROM t x USING other o WHERE o.id = x.id RETURNING x.id", returning: true, where: "o.id = x.id", writes: []string{"DELETE t"}},
	},
	{
		name: "where with or and subqueries",
		sql:  "UPDATE t SET a = (SELECT max(b) FROM u WHERE u.id = t.id) FROM (SELECT id FROM v WHERE k = $1) s WHERE t.id = s.id OR t.k IN (SELECT k FROM w WHERE w.r = 'RETURNING') /* WHERE */ RETURNING (SELECT 1 WHERE true)",
		want: want{kind: Update, target: "t", stmt: "UPDATE t SET a = (SELECT max(b) FROM u WHERE u.id = t.id) FROM (SELECT id FROM v WHERE k = $1) s WHERE t.id = s.id OR t.k IN (SELECT k FROM w WHERE w.r = 'RETURNING') /* WHERE */ RETURNING (SELECT 1 WHERE true)",
			returning: true, where: "t.id = s.id OR t.k IN (SELECT k FROM w WHERE w.r = 'RETURNING')", writes: []string{"UPDATE t"}, params: 1},
	},
	{
		name: "no where, returning",
		sql:  "UPDATE t SET a = (SELECT 1 WHERE false) -- all rows\n RETURNING a",
		want: want{kind: Update, target: "t", stmt: "UPDATE t SET a = (SELECT 1 WHERE false) -- all rows\n RETURNING a", returning: true, writes: []string{"UPDATE t"}},
	},
	{
		name: "where current of",
		sql:  "DELETE FROM t WHERE CURRENT OF c",
		want: want{kind: Delete, target: "t", stmt: "DELETE FROM t WHERE CURRENT OF c", where: "CURRENT OF c", currentOf: true, writes: []string{"DELETE t"}},
	},
	{
		name: "pinned columns",
		sql:  "DELETE FROM public.appointments WHERE public.appointments.id = $1::bigint AND 'x' = status AND (patient_id = $2 OR true) AND dentist_id = $3 + 1 AND clinic_id = other",
		want: want{kind: Delete, target: "public.appointments", stmt: "DELETE FROM public.appointments WHERE public.appointments.id = $1::bigint AND 'x' = status AND (patient_id = $2 OR true) AND dentist_id = $3 + 1 AND clinic_id = other",
			where:  "public.appointments.id = $1::bigint AND 'x' = status AND (patient_id = $2 OR true) AND dentist_id = $3 + 1 AND clinic_id = other",
			pinned: []string{"id", "status"}, writes: []string{"DELETE public.appointments"}, params: 3},
	},
	{
		name: "alias hides the table's name",
		sql:  "UPDATE appointments a SET status = 'x' WHERE appointments.id = $1 AND a.patient_id = $2",
		want: want{kind: Update, target: "appointments", stmt: "UPDATE appointments a SET status = 'x' WHERE appointments.id = $1 AND a.patient_id = $2",
			where: "appointments.id = $1 AND a.patient_id = $2", pinned: []string{"patient_id"}, writes: []string{"UPDATE appointments"}, params: 2},
	},
	{
		name: "merge",
		sql:  "MERGE INTO accounts a USING staged s ON a.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
		want: want{kind: Other, stmt: "MERGE INTO accounts a USING staged s ON a.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
			writes: []string{"MERGE accounts"}},
	},
	{
		name: "copy from",
		sql:  "COPY public.vitals (a, b) FROM STDIN",
		want: want{kind: Other, stmt: "COPY public.vitals (a, b) FROM STDIN", writes: []string{"COPY public.vitals"}},
	},
	{
		name: "copy to",
		sql:  "COPY vitals TO STDOUT",
		want: want{kind: Other, stmt: "COPY vitals TO STDOUT"},
	},
	{
		name: "truncate",
		sql:  "TRUNCATE a, s.b",
		want: want{kind: Other, stmt: "TRUNCATE a, s.b", writes: []string{"TRUNCATE a", "TRUNCATE s.b"}},
	},
	{
		name: "select",
		sql:  "SELECT * FROM appointments WHERE id = $1 FOR UPDATE",
		want: want{kind: Other, stmt: "SELECT * FROM appointments WHERE id = $1 FOR UPDATE", params: 1},
	},
	{
		name: "select with writing cte",
		sql:  "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d",
		want: want{kind: Other, stmt: "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d", nested: true, writes: []string{"DELETE t in WITH"}},
	},
	{
		name: "do block",
		sql:  "-- name: WipeAll :exec\n/* wipe */ DO $$ BEGIN DELETE FROM appointments; END $$;",
		want: want{kind: Other, stmt: "DO $$ BEGIN DELETE FROM appointments; END $$", hidden: []string{"DO"}},
	},
	{
		name: "execute",
		sql:  "execute wipe($1)",
		want: want{kind: Other, stmt: "execute wipe($1)", params: 1, hidden: []string{"EXECUTE"}},
	},
	{
		name: "explain execute",
		sql:  "EXPLAIN ANALYZE EXECUTE wipe",
		want: want{kind: Other, stmt: "EXPLAIN ANALYZE EXECUTE wipe", hidden: []string{"EXECUTE"}},
	},
	{
		name: "explain analyze",
		sql:  "EXPLAIN ANALYZE DELETE FROM appointments WHERE id = $1",
		want: want{kind: Other, stmt: "EXPLAIN ANALYZE DELETE FROM appointments WHERE id = $1", nested: true, writes: []string{"DELETE appointments in EXPLAIN ANALYZE"}, params: 1},
	},
	{
		name: "explain analyze option",
		sql:  "EXPLAIN (ANALYZE on, BUFFERS) UPDATE t SET a = 1",
		want: want{kind: Other, stmt: "EXPLAIN (ANALYZE on, BUFFERS) UPDATE t SET a = 1", nested: true, writes: []string{"UPDATE t in EXPLAIN ANALYZE"}},
	},
	{
		name: "explain without analyze",
		sql:  "EXPLAIN (ANALYZE false) INSERT INTO t VALUES (1)",
		want: want{kind: Other, stmt: "EXPLAIN (ANALYZE false) INSERT INTO t VALUES (1)", nested: true, writes: []string{"INSERT t in EXPLAIN"}},
	},
	{
		name: "call",
		sql:  "CALL wipe($1)",
		want: want{kind: Other, stmt: "CALL wipe($1)", params: 1},
	},
}

func TestParse(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(c.sql)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, s)
			if got := describe(s); !equalWant(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// describe turns a Statement into the test's terms.
func describe(s *Statement) want {
	text := s.Text
	w := want{kind: s.Kind, stmt: text[s.Start:s.End], returning: s.HasReturning,
		where: text[s.Cond.Start:s.Cond.End], currentOf: s.CurrentOf, pinned: s.Pinned, nested: !s.ReadOnlyCTEs, params: s.Params}
	if s.Kind != Other {
		w.target = s.Target.String()
	}
	for _, wr := range s.Writes {
		d := wr.Verb + " " + wr.Table.String()
		if !wr.TopLevel {
			d += " in " + wr.Within
		}
		w.writes = append(w.writes, d)
	}
	for _, h := range s.Hidden {
		w.hidden = append(w.hidden, h.Verb)
	}
	if in := s.Insert; in != nil {
		w.columns = in.Columns
		if v := in.Values; v != nil {
			w.values = text[v.Start:v.End]
			for i, it := range v.Items {
				w.items = append(w.items, text[it.Start:it.End])
				w.itemParam = append(w.itemParam, it.Param)
				if it.Default {
					w.defaults = append(w.defaults, i)
				}
			}
		}
	}
	return w
}

func equalWant(a, b want) bool {
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// checkInvariants checks what must hold of any parse: positions point at what they claim, and the
// statement range keeps the statement's meaning.
func checkInvariants(t *testing.T, s *Statement) {
	t.Helper()
	text := s.Text
	stmt := text[s.Start:s.End]
	if strings.TrimSpace(stmt) != stmt || strings.HasSuffix(stmt, ";") {
		t.Errorf("statement range %q has surrounding space or ';'", stmt)
	}
	if fp(t, stmt) != fp(t, text) {
		t.Errorf("statement range %q does not fingerprint as the text", stmt)
	}
	for _, h := range s.Hidden {
		if got := text[h.Pos:min(len(text), h.Pos+len(h.Verb))]; !strings.EqualFold(got, h.Verb) {
			t.Errorf("%s at %d is %q", h.Verb, h.Pos, got)
		}
	}
	for _, r := range s.ParamRefs {
		if got := text[r.Start:r.End]; got != "$"+strconv.Itoa(r.N) {
			t.Errorf("param ref %d at %d is %q", r.N, r.Start, got)
		}
	}
	if s.Kind != Other && !slices.ContainsFunc(s.Writes, func(w Write) bool { return w.TopLevel && w.Pos == s.TargetPos && w.Table == s.Target }) {
		t.Errorf("target %v at %d not among the writes %v", s.Target, s.TargetPos, s.Writes)
	}
	for _, w := range s.Writes {
		if w.Pos < s.Start || w.Pos >= s.End {
			t.Errorf("write %v outside the statement", w)
		}
	}
	if (s.Kind == Update || s.Kind == Delete) && !s.CurrentOf {
		c := s.Cond
		if (c.Start < c.End) != s.HasWhere || c.Start < s.Start || c.End > s.End {
			t.Errorf("WHERE condition %d:%d, has WHERE %v, statement %d:%d", c.Start, c.End, s.HasWhere, s.Start, s.End)
		}
		// The condition is one whole expression: in parentheses it parses to the same tree. Without one, a WHERE
		// clause fits where Cond points.
		spliced := text[s.Start:c.Start] + "(" + text[c.Start:c.End] + ")" + text[c.End:s.End]
		if !s.HasWhere {
			spliced = text[s.Start:c.Start] + " WHERE true" + text[c.End:s.End]
		}
		if r, err := Parse(spliced); err != nil {
			t.Errorf("condition spliced: %q: %v", spliced, err)
		} else if !r.HasWhere || s.HasWhere && fp(t, spliced) != fp(t, stmt) {
			t.Errorf("condition spliced: %q does not parse as %q", spliced, stmt)
		}
	}
	// Renaming every parameter must leave a statement that parses with the same parameters gone.
	renamed := ReplaceParams(text, s.Start, s.End, s.ParamRefs, func(n int) string { return fmt.Sprintf("ar_in.p%d", n) })
	if r, err := Parse(renamed); err != nil {
		t.Errorf("ReplaceParams output %q: %v", renamed, err)
	} else if r.Params != 0 {
		t.Errorf("ReplaceParams output %q still has $%d", renamed, r.Params)
	}
	if s.Insert == nil || s.Insert.Values == nil {
		return
	}
	v := s.Insert.Values
	if !strings.EqualFold(text[v.Start:v.Start+6], "values") || text[v.End-1] != ')' {
		t.Errorf("VALUES range %q", text[v.Start:v.End])
	}
	for _, it := range v.Items {
		if strings.TrimSpace(text[it.Start:it.End]) != text[it.Start:it.End] || it.Start < v.Start || it.End > v.End {
			t.Errorf("item range %q", text[it.Start:it.End])
		}
	}
}

func fp(t *testing.T, sql string) string {
	t.Helper()
	f, err := pg_query.Fingerprint(sql)
	if err != nil {
		t.Fatalf("fingerprint %q: %v", sql, err)
	}
	return f
}

func TestItemParams(t *testing.T) {
	sql := "INSERT INTO t (a, b) VALUES (coalesce($2, '$1'), $1 /* $3 */ + $2)"
	s, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, it := range s.Insert.Values.Items {
		var refs []string
		for _, r := range it.Params {
			refs = append(refs, fmt.Sprintf("%d:%s", r.N, sql[r.Start:r.End]))
		}
		got = append(got, refs)
	}
	if want := [][]string{{"2:$2"}, {"1:$1", "2:$2"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("item params %v, want %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		sql    string
		offset int
		msg    string
	}{
		{"UPDATE t SET a = WHERE id = 1", 17, "syntax error"},
		{"-- é\nUPDATE t SET a = 'é' WHER id = 1", 28, "syntax error"},
		{"UPDATE t SET a = 1 WHERE", 24, "end of input"},
		{"SELECT 1; /* x */ SELECT 2", 18, "more than one statement"},
		{"-- only a comment\n", 18, "no statement"},
		{"SELECT 'unterminated", 7, "unterminated"},
	} {
		_, err := Parse(c.sql)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v is not *Error", c.sql, err)
			continue
		}
		if pe.Offset != c.offset || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%q: got %q at %d, want %q at %d", c.sql, pe.Msg, pe.Offset, c.msg, c.offset)
		}
	}
}

func TestPosition(t *testing.T) {
	text := "ab\ncd\n\nxé"
	for _, c := range []struct{ offset, line, col int }{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {6, 3, 1}, {7, 4, 1}, {8, 4, 2}, {10, 4, 4}, {99, 4, 4}, {-1, 1, 1},
	} {
		if l, col := Position(text, c.offset); l != c.line || col != c.col {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", c.offset, l, col, c.line, c.col)
		}
	}
}

func TestReplaceParams(t *testing.T) {
	sql := `INSERT INTO "$1" (a, "$2") VALUES ($1, '$1' || $2 -- $1
	, $x$ $2 $x$, $10)`
	s, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	v := s.Insert.Values
	got := ReplaceParams(sql, v.Start, v.End, s.ParamRefs, func(n int) string { return fmt.Sprintf("ar_in.p%d", n) })
	want := "VALUES (ar_in.p1, '$1' || ar_in.p2 -- $1\n\t, $x$ $2 $x$, ar_in.p10)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestQuoteIdent: bare only what PostgreSQL reads back as written wherever a column or table name may stand.
// Unreserved and column-name key words stay bare (the generated triggers write o.type, n.time); reserved ones,
// and those reserved but for function or type names, are quoted.
func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{
		"appointments": "appointments", "patient_id": "patient_id", "_x1": "_x1", "a1_2": "a1_2",
		"Weird Table": `"Weird Table"`, "ID": `"ID"`, "Patient": `"Patient"`, "a\"b": `"a""b"`, "a-b": `"a-b"`,
		"1a": `"1a"`, "": `""`, "é": `"é"`, "_x1$": `"_x1$"`, "$1": `"$1"`,
		"name": "name", "type": "type", "role": "role", "password": "password", // unreserved
		"time": "time", "values": "values", "json_table": "json_table", // column-name key words
		"select": `"select"`, "user": `"user"`, "system_user": `"system_user"`, "table": `"table"`, // reserved
		"left": `"left"`, "join": `"join"`, "authorization": `"authorization"`, // reserved but for functions and types
	} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

// A schema in a type position (NULL::schema.t, DECLARE c schema.t) must parse back to the same name for every
// kind of word, the column-name key words included, which QuoteIdent leaves bare.
func TestQuoteTypeQualifier(t *testing.T) {
	for _, name := range []string{"public", "auditrepo", "type", "name", "time", "values", "int", "json_table",
		"user", "select", "left", "Audit Trail", "a\"b", "1a"} {
		q := QuoteTypeQualifier(name)
		tree, err := pg_query.Parse("SELECT NULL::" + q + ".claimed")
		if err != nil {
			t.Errorf("%s: NULL::%s.claimed does not parse: %v", name, q, err)
			continue
		}
		names := tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val.GetTypeCast().TypeName.Names
		if got := names[0].GetString_().Sval; got != name {
			t.Errorf("NULL::%s.claimed names schema %q, want %q", q, got, name)
		}
	}
	if got := QuoteTypeQualifier("time"); got != `"time"` {
		t.Errorf("QuoteTypeQualifier(time) = %s, want it quoted", got)
	}
}

// TestTail: the comments after the statement's last token, before a ';', are the statement's tail; what follows
// the ';' is not.
func TestTail(t *testing.T) {
	for _, c := range []struct{ text, tail string }{
		{"UPDATE t SET a = $1 WHERE id = $2", ""},
		{"UPDATE t SET a = $1 WHERE id = $2 -- only this one\n", " -- only this one"},
		{"-- name: X :exec\nDELETE FROM t WHERE id = $1 /* a */ -- b\n;", " /* a */ -- b"},
		{"DELETE FROM t WHERE id = $1; -- after the semicolon\n", ""},
		{"INSERT INTO t (a) VALUES ('-- not a comment') RETURNING * /* end */", " /* end */"},
	} {
		s, err := Parse(c.text)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if got := c.text[s.End:s.Tail]; got != c.tail {
			t.Errorf("%q: tail %q, want %q", c.text, got, c.tail)
		}
	}
}

func TestEndsInLineComment(t *testing.T) {
	for text, want := range map[string]bool{
		"-- lead":               true,
		"/* a */ -- b":          true,
		"-- a\n/* b */":         false,
		"/* -- not one */":      false,
		"":                      false,
		"'unterminated -- x":    true,
		"/* a */\n-- b /* c */": true,
	} {
		if got := EndsInLineComment(text); got != want {
			t.Errorf("EndsInLineComment(%q) = %v, want %v", text, got, want)
		}
	}
}
