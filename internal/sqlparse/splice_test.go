package sqlparse

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// spliceSeeds are the plain queries FuzzSplice decorates.
var spliceSeeds = []string{
	"UPDATE public.appointments SET status = $2 WHERE id = $1 RETURNING *",
	"INSERT INTO notes (patient_id, body, created_at) VALUES ($1, $2::text, now()) RETURNING id",
	"INSERT INTO public.appointments AS a (id, status, patient_id) VALUES ($1, CAST($2 AS text), $3) ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status WHERE a.status IS DISTINCT FROM EXCLUDED.status",
	"DELETE FROM ONLY appointments a USING notes n WHERE n.patient_id = a.patient_id AND a.id = $1 RETURNING a.*",
	`UPDATE "Weird Table" w SET v = 'it''s $1' || $tag$ $2 $tag$ WHERE w."ID" = $1`,
	"WITH t AS (SELECT id FROM appointments WHERE patient_id = $1) UPDATE appointments SET status = 'done' FROM t WHERE appointments.id = t.id RETURNING appointments.*",
	"WITH gone AS (DELETE FROM notes WHERE patient_id = $1 RETURNING id) INSERT INTO appointments (id, status) SELECT id, 'gone' FROM gone",
	`INSERT INTO notes (patient_id, body) OVERRIDING USER VALUE VALUES ($1, E'a\'b $2')`,
	"INSERT INTO appointments (id, status, patient_id) VALUES ($1, coalesce($2, 'new'), ($3::text)::int)",
	"INSERT INTO notes (patient_id, body, created_at) VALUES ($1, DEFAULT, $2)",
	"MERGE INTO appointments a USING notes n ON a.id = n.id WHEN MATCHED THEN UPDATE SET status = $1",
	"SELECT count(*) FROM appointments WHERE id = $1",
}

// decorations are what decorate inserts before a token; all of them are insignificant to
// PostgreSQL, and some hold text that a careless splitter would take for SQL.
var decorations = []string{"", " ", "\n\t", "/* c */", "-- c\n", "/* a /* nested; */ b */", "\n-- $1 'x' /*\n", "/* $2 -- ; */ "}

// decorate rewrites plain without changing its meaning, each byte of choices choosing (in turn) a
// decoration before the next token and a spelling of the token: identifiers quoted or upper-cased,
// keywords upper- or lower-cased. An empty choices returns plain.
func decorate(t *testing.T, plain string, choices []byte) string {
	scan, err := pg_query.Scan(plain)
	if err != nil {
		t.Fatal(err)
	}
	next := func() int {
		if len(choices) == 0 {
			return 0
		}
		b := choices[0]
		choices = choices[1:]
		return int(b)
	}
	var b strings.Builder
	at := 0
	for _, tok := range scan.Tokens {
		b.WriteString(plain[at:tok.Start])
		b.WriteString(decorations[next()%len(decorations)])
		text := plain[tok.Start:tok.End]
		switch {
		case !isASCIIWord(text):
		case tok.Token == pg_query.Token_IDENT:
			switch next() % 3 {
			case 1:
				text = `"` + strings.ToLower(text) + `"`
			case 2:
				text = strings.ToUpper(text)
			}
		case tok.KeywordKind != pg_query.KeywordKind_NO_KEYWORD:
			if next()%2 == 1 {
				text = strings.ToUpper(text)
			} else {
				text = strings.ToLower(text)
			}
		}
		b.WriteString(text)
		at = int(tok.End)
	}
	b.WriteString(plain[at:])
	b.WriteString(decorations[next()%len(decorations)])
	return b.String()
}

// isASCIIWord reports whether s is an unquoted identifier or keyword whose case can change.
func isASCIIWord(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// wrap builds the audited statement the generator emits for s (internal/templates' "audited"): the claim ANDed to
// an UPDATE's or DELETE's WHERE condition (once: as an uncorrelated subquery); an INSERT of one VALUES row without
// DEFAULT as INSERT ... SELECT its items WHERE the claim; any other INSERT in a CTE under the claim.
func wrap(s *Statement, claim string, once bool) string {
	if once {
		claim = "(SELECT " + claim + ")"
	}
	t := s.Text
	switch {
	case s.Kind == Update || s.Kind == Delete:
		c := s.Cond
		if !s.HasWhere {
			return t[s.Start:c.Start] + " WHERE " + claim + t[c.End:s.End]
		}
		return t[s.Start:c.Start] + "(" + t[c.Start:c.End] + ") AND " + claim + t[c.End:s.End]
	case canSelect(s):
		v := s.Insert.Values
		return t[s.Start:v.Start] + "SELECT " + t[v.Items[0].Start:v.Items[len(v.Items)-1].End] + "\nWHERE " + claim + t[v.End:s.End]
	}
	body := t[s.Start:s.End]
	if !s.HasReturning {
		body += " RETURNING true"
	}
	return "WITH ar_write AS (\n" + body + "\n)\nSELECT ar_write.* FROM ar_write\nWHERE (SELECT " + claim + ")"
}

// many builds the bulk form of an INSERT whose VALUES row has no DEFAULT, each $n read from column pn of
// unnest($n::types[n-1][]), with the claim evaluated once in its WHERE.
func many(s *Statement, types []string, claim string) string {
	v := s.Insert.Values
	var items, arrays, cols []string
	for _, it := range v.Items {
		items = append(items, ReplaceParams(s.Text, it.Start, it.End, it.Params, func(n int) string { return fmt.Sprintf("ar_in.p%d", n) }))
	}
	for n := 1; n <= s.Params; n++ {
		arrays = append(arrays, fmt.Sprintf("$%d::%s[]", n, types[n-1]))
		cols = append(cols, fmt.Sprintf("p%d", n))
	}
	return s.Text[s.Start:v.Start] + "SELECT " + strings.Join(items, ", ") + " FROM unnest(" + strings.Join(arrays, ", ") +
		") AS ar_in(" + strings.Join(cols, ", ") + ")\nWHERE (SELECT " + claim + ")" + s.Text[v.End:s.End]
}

// canSelect reports whether s is an INSERT of one VALUES row without DEFAULT, which a SELECT can replace.
func canSelect(s *Statement) bool {
	return s.Insert != nil && s.Insert.Values != nil &&
		!slices.ContainsFunc(s.Insert.Values.Items, func(it Item) bool { return it.Default })
}

// canMany reports whether many applies to s.
func canMany(s *Statement) bool {
	return canSelect(s) && s.Params > 0
}

// shape is what decoration must not change.
func shape(s *Statement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %v ret=%v where=%v pinned=%q ro=%v params=%d", s.Kind, s.Target,
		s.HasReturning, s.HasWhere, s.Pinned, s.ReadOnlyCTEs, s.Params)
	for _, w := range s.Writes {
		fmt.Fprintf(&b, " %s:%v:%v", w.Verb, w.Table, w.TopLevel)
	}
	for _, r := range s.ParamRefs {
		fmt.Fprintf(&b, " $%d", r.N)
	}
	if in := s.Insert; in != nil {
		fmt.Fprintf(&b, " cols=%q", in.Columns)
		if v := in.Values; v != nil {
			for _, it := range v.Items {
				fmt.Fprintf(&b, " item(%v,%d,%d)", it.Default, it.Param, len(it.Params))
			}
		}
	}
	return b.String()
}

func FuzzSplice(f *testing.F) {
	for i := range spliceSeeds {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
		f.Add(uint8(i), []byte(strings.Repeat("\x04\x01\x06\x02\x05\x07\x03", 12)))
	}
	f.Fuzz(func(t *testing.T, pick uint8, choices []byte) {
		plain := spliceSeeds[int(pick)%len(spliceSeeds)]
		decorated := decorate(t, plain, choices)
		p, err := Parse(plain)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(decorated)
		if err != nil {
			t.Fatalf("%q: %v", decorated, err)
		}
		if shape(d) != shape(p) {
			t.Fatalf("%q:\n got %s\nwant %s", decorated, shape(d), shape(p))
		}
		checkInvariants(t, d)
		if p.Kind == Other {
			return
		}
		for _, once := range []bool{false, true} {
			if pw, dw := wrap(p, "true", once), wrap(d, "true", once); fp(t, dw) != fp(t, pw) {
				t.Errorf("wrapped %q differs from\n%q", dw, pw)
			}
		}
		if canMany(p) {
			types := slices.Repeat([]string{"text"}, p.Params)
			pw, dw := many(p, types, "true"), many(d, types, "true")
			if fp(t, dw) != fp(t, pw) {
				t.Errorf("bulk %q differs from\n%q", dw, pw)
			}
		}
	})
}

// TestSpliceRuns executes decorated, wrapped and bulk statements on PostgreSQL.
func TestSpliceRuns(t *testing.T) {
	const addr = "127.0.0.1:5432"
	if c, err := net.DialTimeout("tcp", addr, time.Second); err != nil {
		t.Skipf("no PostgreSQL at %s: %v", addr, err)
	} else {
		c.Close()
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, ddl := range []string{
		"CREATE SCHEMA ar_sqlparse_test",
		"SET LOCAL search_path = ar_sqlparse_test",
		"CREATE TABLE appointments (id int PRIMARY KEY, status text, patient_id int)",
		"CREATE TABLE notes (id int GENERATED BY DEFAULT AS IDENTITY, patient_id int, body text DEFAULT 'none', created_at timestamptz)",
		`CREATE TABLE "Weird Table" ("ID" int, v text)`,
		"CREATE FUNCTION claim() RETURNS boolean LANGUAGE sql AS 'SELECT true'",
		"INSERT INTO appointments VALUES (1, 'new', 7), (2, 'new', 8)",
		`INSERT INTO "Weird Table" VALUES (1, 'x')`,
	} {
		if _, err := tx.Exec(ctx, ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	choices := []byte(strings.Repeat("\x04\x01\x06\x02\x05\x07\x03\x00", 40))
	for _, c := range []struct {
		sql      string
		args     []any
		rows     int
		types    []string // for the bulk form
		manyArgs []any
	}{
		{sql: "UPDATE ar_sqlparse_test.appointments SET status = $2 WHERE id = $1 RETURNING *", args: []any{1, "seen"}, rows: 1},
		{sql: spliceSeeds[1], args: []any{7, "hello"}, rows: 1, types: []string{"int", "text"},
			manyArgs: []any{[]int{7, 8}, []string{"a", "b"}}},
		{sql: "INSERT INTO ar_sqlparse_test.appointments AS a (id, status, patient_id) VALUES ($1, CAST($2 AS text), $3) ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status WHERE a.status IS DISTINCT FROM EXCLUDED.status", args: []any{2, "moved", 8}, rows: 1, types: []string{"int", "text", "int"},
			manyArgs: []any{[]int{2, 3}, []string{"x", "y"}, []int{8, 9}}},
		{sql: spliceSeeds[4], args: []any{1}, rows: 1},
		{sql: spliceSeeds[5], args: []any{7}, rows: 1},
		{sql: spliceSeeds[8], args: []any{5, nil, "9"}, rows: 1, types: []string{"int", "text", "text"},
			manyArgs: []any{[]int{10, 11}, []string{"a", "b"}, []string{"1", "2"}}},
		{sql: spliceSeeds[3], args: []any{1}, rows: 1}, // notes has patient 7 by now
	} {
		s, err := Parse(decorate(t, c.sql, choices))
		if err != nil {
			t.Fatal(err)
		}
		run := func(q pgx.Tx, sql string, args []any, want int) {
			t.Helper()
			rows, err := q.Query(ctx, sql, args...)
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			if !s.HasReturning { // the rows changed (or the CTE's rows selected)
				n = int(rows.CommandTag().RowsAffected())
			}
			if n != want {
				t.Errorf("%s: %d rows, want %d", sql, n, want)
			}
		}
		const claim = "ar_sqlparse_test.claim()"
		if s.Kind != Insert { // the claim evaluated once, in a savepoint rolled back: the same rows change
			sp, err := tx.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			run(sp, wrap(s, claim, true), c.args, c.rows)
			if err := sp.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
		}
		run(tx, wrap(s, claim, false), c.args, c.rows)
		if c.types != nil {
			run(tx, many(s, c.types, claim), c.manyArgs, 2)
		}
	}
}
