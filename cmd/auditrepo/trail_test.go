package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/jsontree"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

var updateGoldens = flag.Bool("update", false, "rewrite the golden files in testdata")

// roleURL is db's database as role, without a password (the test server trusts 127.0.0.1).
func roleURL(db *pgxpool.Pool, role string) string {
	c := db.Config().ConnConfig
	u := url.URL{Scheme: "postgres", User: url.User(role), Host: net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))),
		Path: "/" + c.Database, RawQuery: "sslmode=disable"}
	return u.String()
}

// seed writes audit rows with every column fixed, the server's facts included, so the outputs are stable.
const seed = `
INSERT INTO auditrepo.audit_log (occurred_at, transaction_id, db_role, client_addr, application, actor_kind, actor_id, ip, user_agent,
	request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes) VALUES
('2026-01-10 09:00:00.25+00', '1001', 'auditrepo_app', '10.0.0.2', 'clinic', 'user', 7, '203.0.113.5', 'Mozilla/5.0 (X11)', 'req-1', 'CreateVisit',
	'CREATE', 'visits', 1, 42, NULL, '{"after": {"id": 1, "patient_id": 42, "note": "[REDACTED]", "tooth": "upper, left \"3\"\nmolar", "fee": 120.5}}'),
('2026-02-11 14:03:22+00', '1002', 'auditrepo_app', '10.0.0.2', 'clinic', 'user', 8, '2001:db8::1', '=HYPERLINK("http://x")', 'req-2', 'UpdateVisit',
	'UPDATE', 'visits', 1, 43, 42, '{"before": {"id": 1, "patient_id": 42, "note": "[REDACTED]", "tooth": "3", "fee": 120.5}, "after": {"id": 1, "patient_id": 43, "note": "[REDACTED]", "tooth": "4", "fee": 120.5}, "changed_fields": ["patient_id", "note", "tooth", "xray"]}'),
('2026-03-01 00:00:00+00', '1003', 'postgres', NULL, 'psql', 'unattributed', NULL, NULL, NULL, NULL, NULL,
	'DELETE', 'visits', 1, 43, NULL, '{"deleted_record": {"id": 1, "patient_id": 43, "note": "[REDACTED]", "tooth": "4", "fee": 120.5}}'),
('2026-01-20 08:30:00+00', '1004', 'auditrepo_app', '10.0.0.3', 'billing', 'system', NULL, NULL, 'nightly-billing', NULL, 'MoveInvoice',
	'MOVE', 'invoices', 9, 44, 42, '{"from_patient": 42, "to_patient": 44}'),
('2026-01-15 10:00:00+00', '1005', 'auditrepo_app', '10.0.0.2', 'clinic', 'user', 7, NULL, NULL, NULL, 'CreateVisit',
	'CREATE', 'visits', 2, 99, NULL, '{"after": {"id": 2, "patient_id": 99}}');
CREATE TABLE staff (id bigint PRIMARY KEY, name text, role text);
INSERT INTO staff VALUES (7, 'Dr. Ana Ruiz', 'dentist'), (8, 'Ben Ode', 'hygienist');
GRANT SELECT ON staff TO auditrepo_reviewer;`

const actorQuery = "SELECT name, role FROM public.staff WHERE id = $1"

// seeded is a seeded database's reviewer URL and superuser pool.
func seeded(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	db := pgtest.Audited(t, auditschema.Config{})
	if _, err := db.Exec(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	return roleURL(db, "auditrepo_reviewer"), db
}

// runCmd runs auditrepo in-process with DATABASE_URL set to dbURL.
func runCmd(t *testing.T, dbURL string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cli{t, map[string]string{"DATABASE_URL": dbURL}}.run(args...)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGoldens {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTrailGolden(t *testing.T) {
	reviewer, _ := seeded(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"trail.txt", []string{"trail", "--patient", "42", "--actor-query", actorQuery}},
		{"trail.csv", []string{"trail", "--patient", "42", "--format", "csv", "--actor-query", actorQuery}},
		{"trail.jsonl", []string{"trail", "--patient", "42", "--format", "json", "--actor-query", actorQuery}},
		{"trail_range.txt", []string{"trail", "--patient", "42", "--from", "2026-01-11", "--to", "2026-01-31"}},
		{"record.txt", []string{"record", "--table", "visits", "--id", "1", "--actor-query", actorQuery}},
		{"record.csv", []string{"record", "--table", "visits", "--id", "1", "--format", "csv"}},
		{"record.jsonl", []string{"record", "--table", "visits", "--id", "1", "--format", "json"}},
		{"record_move.txt", []string{"record", "--table", "invoices", "--id", "9"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCmd(t, reviewer, c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			golden(t, c.name, out)
		})
	}
}

func TestTrailCSVRoundTrips(t *testing.T) {
	reviewer, _ := seeded(t)
	code, out, errs := runCmd(t, reviewer, "trail", "--patient", "42", "--format", "csv", "--bom", "--progress")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "3 events, done") {
		t.Errorf("--progress: stderr %q has no final count", errs)
	}
	body, ok := strings.CutPrefix(out, "\uFEFF")
	if !ok {
		t.Fatal("--bom: no byte order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want a header and 3 events", len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if got := recs[1][col["after"]]; !strings.Contains(got, `"tooth":"upper, left \"3\"\nmolar"`) || !strings.Contains(got, `"note":"[REDACTED]"`) {
		t.Errorf("after image %q lost its quotes, comma, newline or redaction", got)
	}
	if got := recs[2][col["user_agent"]]; got != `'=HYPERLINK("http://x")` {
		t.Errorf("user agent cell %q: want the formula defused with a leading quote", got)
	}
	if got := recs[2][col["excluded_fields"]]; got != "xray" {
		t.Errorf("excluded fields %q, want xray", got)
	}
	if got := recs[3][col["changes"]]; got != `{"to_patient": 44, "from_patient": 42}` {
		t.Errorf("MOVE changes %q", got)
	}
}

func TestTrailNoEvents(t *testing.T) {
	reviewer, _ := seeded(t)
	code, out, errs := runCmd(t, reviewer, "trail", "--patient", "1000", "--format", "csv")
	if code != 0 || !strings.Contains(errs, "no events for patient 1000") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if recs, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil || len(recs) != 1 {
		t.Errorf("csv for no events = %q (%v), want the header alone", out, err)
	}
	code, out, _ = runCmd(t, reviewer, "record", "--table", "visits", "--id", "77", "--format", "json")
	if code != 0 || out != "" {
		t.Errorf("record without events: exit %d, output %q", code, out)
	}
}

func TestTrailErrors(t *testing.T) {
	reviewer, db := seeded(t)
	for _, c := range []struct {
		name, db string
		args     []string
		want     string
	}{
		{"bad date", reviewer, []string{"trail", "--patient", "42", "--from", "2026-13-01"}, `--from "2026-13-01" is not a date: use YYYY-MM-DD`},
		{"bad end", reviewer, []string{"trail", "--patient", "42", "--to", "yesterday"}, `--to "yesterday" is not a date`},
		{"empty range", reviewer, []string{"trail", "--patient", "42", "--from", "2026-02-01", "--to", "2026-01-01"}, "is not before --to"},
		{"no patient", reviewer, []string{"trail"}, "--patient ID is required"},
		{"bad format", reviewer, []string{"trail", "--patient", "42", "--format", "xml"}, "want table, csv or json"},
		{"bom without csv", reviewer, []string{"trail", "--patient", "42", "--bom"}, "--bom applies to --format csv only, not table"},
		{"unknown table", reviewer, []string{"record", "--table", "vistis", "--id", "1"}, `unknown table "vistis": no audit row names it and it is not an audited table; the tables here: invoices, visits`},
		{"other schema", reviewer, []string{"record", "--table", "billing.visits", "--id", "1"}, `unknown table "billing.visits": no audit row names it and it is not an audited table; the tables here: invoices, visits`},
		{"app role", roleURL(db, "auditrepo_app"), []string{"trail", "--patient", "42"}, "permission denied reading the audit trail: connect as the reviewer role (auditrepo_reviewer"},
		{"app role record", roleURL(db, "auditrepo_app"), []string{"record", "--table", "visits", "--id", "1"}, "connect as the reviewer role"},
		{"no server", "postgres://auditrepo_reviewer@127.0.0.1:1/x?connect_timeout=5", []string{"trail", "--patient", "42"}, "cannot connect to the database (check --db or $DATABASE_URL)"},
		{"no database", "", []string{"trail", "--patient", "42"}, "set $DATABASE_URL or pass --db URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCmd(t, c.db, c.args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, c.want)
			}
			if out != "" && !strings.HasPrefix(out, "TIME") {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

// TestTrailProgress checks the progress lines of an export longer than progressEvery.
func TestTrailProgress(t *testing.T) {
	reviewer, db := seeded(t)
	_, err := db.Exec(context.Background(), fmt.Sprintf(`INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
		SELECT 'system', 'CREATE', 'visits', g, 5, '{"after": {}}' FROM generate_series(1, %d) g`, progressEvery+5))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, reviewer, "trail", "--patient", "5", "--format", "json", "--progress")
	if code != 0 || errs != fmt.Sprintf("auditrepo: %d events\nauditrepo: %d events, done\n", progressEvery, progressEvery+5) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if n := strings.Count(out, "\n"); n != progressEvery+5 {
		t.Errorf("%d lines of JSON, want %d", n, progressEvery+5)
	}
}

// TestActorNamesCached checks --actor-query runs once per actor: each run of this query names differently.
func TestActorNamesCached(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.Audited(t, auditschema.Config{}).Config().Copy()
	cfg.MaxConns = 1 // the run count is the session's: the query runs read-only
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &actorNames{db: db, query: `SELECT 'run ' || set_config('test.runs', (coalesce(nullif(current_setting('test.runs', true), ''), '0')::int + 1)::text, false)
		|| ' for ' || $1::bigint, 'staff'`, cache: map[int64]actorName{}}
	var got []string
	for _, id := range []int64{7, 8, 7, 8} {
		n, err := a.lookup(ctx, &id)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n.name)
	}
	if n, err := a.lookup(ctx, nil); err != nil || n != (actorName{}) {
		t.Errorf("an actor without id was looked up: %+v, %v", n, err)
	}
	if want := "[run 1 for 7 run 2 for 8 run 1 for 7 run 2 for 8]"; fmt.Sprint(got) != want {
		t.Errorf("names %v, want %s", got, want)
	}
}

// A table cell keeps all of a long value (a 70,000-byte note): the table cuts nothing, and drops only controls
// and invisible characters.
func TestCellKeepsLongValues(t *testing.T) {
	long := strings.Repeat("x", 70000)
	if got := cell(long + "\n\x1b[2Jend"); got != long+" [2Jend" {
		t.Fatalf("cell kept %d of %d bytes, ending %q", len(got), len(long)+9, got[max(0, len(got)-10):])
	}
}

// JSON output escapes what could take over the reviewer's terminal (the C1 CSI, DEL, a bidi override, a tag
// character) and still decodes to the value as stored.
func TestJSONEscapesHidden(t *testing.T) {
	value := "Eve\u009b31m\x7f\u202eevil\U000E0041ok é"
	var b strings.Builder
	w := newJSONWriter(&b)
	if err := w.write(audit.Event{Action: audit.ActionCreate, After: map[string]any{"notes": value}}, actorName{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`\u009b31m`, `\u007f`, `\u202eevil`, `\udb40\udc41ok é`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON %s lacks %s", out, want)
		}
	}
	for _, r := range out {
		if r >= 0x7f && audit.Hidden(r) {
			t.Errorf("JSON %q holds %U raw", out, r)
		}
	}
	var got struct{ After map[string]any }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.After["notes"] != value {
		t.Errorf("decoded %q (%v), want %q", got.After["notes"], err, value)
	}
}

// Every numeric id flag reads decimal, leading zeros included (a zero-padded MRN means what it says, not octal),
// refuses anything else with exit 2, and takes 0 for an id the audit columns can hold.
func TestIDFlagsDecimal(t *testing.T) {
	reviewer, db := seeded(t)
	super := db.Config().ConnString()
	same := func(want []string, args ...string) {
		t.Helper()
		code, got, errs := runCmd(t, reviewer, args...)
		_, out, _ := runCmd(t, reviewer, want...)
		if code != 0 || got != out || out == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want the output of %v: %q", args, code, got, errs, want, out)
		}
	}
	same([]string{"trail", "--patient", "42", "--format", "json"}, "trail", "--patient", "042", "--format", "json")
	same([]string{"trail", "--patient", "99", "--format", "json"}, "trail", "--patient", "0099", "--format", "json")
	same([]string{"record", "--table", "visits", "--id", "1", "--format", "json"}, "record", "--table", "visits", "--id", "01", "--format", "json")
	for _, args := range [][]string{{"trail", "--patient", "0"}, {"record", "--table", "visits", "--id", "0"}} {
		if code, out, errs := runCmd(t, reviewer, args...); code != 0 || !strings.Contains(errs, "no events for") {
			t.Errorf("%v: exit %d, %q %q; want 0 and no events", args, code, out, errs)
		}
	}

	for _, c := range []struct{ args, want string }{
		{"--hold-patient 0100 --reason x", "placed legal hold 1 on patient 100\n"},
		{"--hold-patient 09 --reason x", "placed legal hold 2 on patient 9\n"},
		{"--hold-patient 0 --reason x", "placed legal hold 3 on patient 0\n"},
		{"--release 02 --reason x", "released legal hold 2\n"},
	} {
		if code, out, errs := runCmd(t, super, append([]string{"retention"}, strings.Fields(c.args)...)...); code != 0 || out != c.want {
			t.Errorf("retention %s: exit %d, %q %q; want %q", c.args, code, out, errs, c.want)
		}
	}
	for _, args := range []string{"trail --patient 0x2a", "trail --patient 1e3", "trail --patient 4_2", "trail --patient=",
		"record --table visits --id 0b1", "retention --hold-patient 0x3 --reason x", "retention --release 0x1",
		"verify --pub k --checkpoints d --patient 0x1"} {
		code, _, errs := runCmd(t, super, strings.Fields(args)...)
		if code != 2 || !strings.Contains(errs, "want a decimal integer (leading zeros are decimal: 0100 is 100)") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and the decimal rule", args, code, errs)
		}
	}
	if code, _, errs := runCmd(t, super, "trail", "--patient", "99999999999999999999"); code != 2 || !strings.Contains(errs, "out of range: ids are bigints") {
		t.Errorf("--patient 99999999999999999999: exit %d, stderr %q; want 2, out of range", code, errs)
	}
	if code, _, errs := runCmd(t, super, "retention", "--release", "0", "--reason", "x"); code != 2 || !strings.Contains(errs, "legal hold ids are positive") {
		t.Errorf("--release 0: exit %d, stderr %q", code, errs)
	}
}

// A model tagged with its table's schema (table:"public.billings", as in testdata/golden/ok_schema_qualified)
// writes target_table public.billings: record finds its rows as billings and as public.billings, and a table
// tagged without schema as public.visits too.
func TestRecordSchemaQualified(t *testing.T) {
	reviewer, db := seeded(t)
	mustExec(t, db, `INSERT INTO auditrepo.audit_log (occurred_at, transaction_id, db_role, application, actor_kind, actor_id, action,
		target_table, target_id, patient_id, changes)
		VALUES ('2026-01-12 10:00:00+00', '1006', 'auditrepo_app', 'clinic', 'user', 7, 'CREATE', 'public.billings', 3, 42, '{"after": {"id": 3, "amount": 80}}')`)
	for _, c := range []struct{ table, id, want string }{
		{"billings", "3", `"table":"public.billings","record_id":3`},
		{"public.billings", "3", `"table":"public.billings","record_id":3`},
		{"public.visits", "1", `"table":"visits","record_id":1`},
	} {
		code, out, errs := runCmd(t, reviewer, "record", "--table", c.table, "--id", c.id, "--format", "json")
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("record --table %s: exit %d, stdout %q, stderr %q; want %s", c.table, code, out, errs, c.want)
		}
	}
	// An audited table outside public, with no audit row yet: found by its qualified name only (the trail is
	// searched under that), and named back when given without its schema.
	mustExec(t, db, `CREATE SCHEMA clinic; CREATE TABLE clinic.rooms (id bigint PRIMARY KEY);
		INSERT INTO auditrepo.audited_tables VALUES ('clinic.rooms', 'auditrepo.refuse_truncate()', 'clinic.rooms', '{}', '{}', '[]')`)
	if code, _, errs := runCmd(t, reviewer, "record", "--table", "rooms", "--id", "1"); code != 2 || !strings.Contains(errs, "name it --table clinic.rooms") {
		t.Errorf("record --table rooms: exit %d, stderr %q; want 2 naming clinic.rooms", code, errs)
	}
	if code, _, errs := runCmd(t, reviewer, "record", "--table", "clinic.rooms", "--id", "1"); code != 0 || !strings.Contains(errs, "no events") {
		t.Errorf("record --table clinic.rooms: exit %d, stderr %q; want 0, no events", code, errs)
	}
	// An unknown table is answered with the tables there are: audited, or named by audit rows (a table of schema
	// public without its schema, as record finds it either way).
	if code, _, errs := runCmd(t, reviewer, "record", "--table", "room", "--id", "1"); code != 2 ||
		!strings.Contains(errs, `unknown table "room": no audit row names it and it is not an audited table; the tables here: billings, clinic.rooms, invoices, visits (`) {
		t.Errorf("record --table room: exit %d, stderr %q; want 2 listing the tables", code, errs)
	}
}

// The outputs give values as stored: JSON and the CSV images without HTML escaping (& < >), and the CSV formula
// guard leaves numbers such as -5 alone while still defusing -5+1.
func TestValuesAsStored(t *testing.T) {
	reviewer, db := seeded(t)
	mustExec(t, db, `INSERT INTO auditrepo.audit_log (occurred_at, transaction_id, db_role, application, actor_kind, actor_id, user_agent, action,
		target_table, target_id, patient_id, changes)
		VALUES ('2026-01-12 10:00:00+00', '1006', 'auditrepo_app', 'clinic', 'user', -5, '-5+1', 'CREATE', 'visits', 8, 50,
			'{"after": {"id": 8, "note": "a & b <c>", "tags": ["<x>"], "fee": -5}}')`)
	_, out, _ := runCmd(t, reviewer, "trail", "--patient", "50", "--format", "json")
	if !strings.Contains(out, `"note":"a & b <c>"`) || !strings.Contains(out, `"tags":["<x>"]`) {
		t.Errorf("json %q escapes & < >", out)
	}
	_, out, _ = runCmd(t, reviewer, "trail", "--patient", "50")
	if !strings.Contains(out, `tags=["<x>"]`) {
		t.Errorf("table %q escapes < >", out)
	}
	_, out, _ = runCmd(t, reviewer, "trail", "--patient", "50", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv %q: %v", out, err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for name, want := range map[string]string{"actor_id": "-5", "user_agent": "'-5+1",
		"after": `{"fee":-5,"id":8,"note":"a & b <c>","tags":["<x>"]}`} {
		if got := recs[1][col[name]]; got != want {
			t.Errorf("csv %s %q, want %q", name, got, want)
		}
	}
	for s, want := range map[string]string{"-5": "-5", "-0.5": "-0.5", "+1e3": "+1e3", "-": "'-", "-5+1": "'-5+1", "=1": "'=1",
		"-1e": "'-1e", "@x": "'@x", "\t1": "'\t1", "5": "5"} {
		if got := csvSafe(s); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", s, got, want)
		}
	}
}

// An unattributed row names no actor, so the table shows what the server recorded of its writer: the database
// role, the client address and the application.
func TestTableUnattributed(t *testing.T) {
	reviewer, db := seeded(t)
	mustExec(t, db, `INSERT INTO auditrepo.audit_log (occurred_at, transaction_id, db_role, client_addr, application, actor_kind, action,
		target_table, target_id, patient_id, changes)
		VALUES ('2026-01-12 10:00:00+00', '1006', 'mallory', '192.0.2.9', 'psql', 'unattributed', 'UPDATE', 'visits', 2, 99,
			'{"before": {"id": 2, "fee": 1}, "after": {"id": 2, "fee": 0}, "changed_fields": ["fee"]}')`)
	_, out, _ := runCmd(t, reviewer, "trail", "--patient", "99")
	if !strings.Contains(out, `unattributed (db role "mallory", client 192.0.2.9, application "psql")`) {
		t.Errorf("trail table %q does not attribute the unattributed row", out)
	}
	_, out, _ = runCmd(t, reviewer, "record", "--table", "visits", "--id", "1")
	if !strings.Contains(out, `by unattributed (db role "postgres", application "psql")  patient 43`) {
		t.Errorf("record table %q does not attribute the unattributed row", out)
	}
}

// A function or operator that another role put in public, matching its arguments more exactly than the built-in
// the tool means (|| of a name and a text), does not run as the reviewer: the tool's search_path is pg_catalog.
func TestShadowedOperatorNotRun(t *testing.T) {
	reviewer, db := seeded(t)
	mustExec(t, db, `CREATE FUNCTION public.rt_cat(name, text) RETURNS text LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$$;
		CREATE OPERATOR public.|| (leftarg = name, rightarg = text, function = public.rt_cat);
		CREATE TABLE public.rooms (id bigint PRIMARY KEY);
		INSERT INTO auditrepo.audited_tables VALUES ('public.rooms', 'auditrepo.refuse_truncate()', 'public.rooms', '{}', '{}', '[]')`)
	for _, args := range [][]string{{"record", "--table", "visits", "--id", "1"}, {"record", "--table", "nosuch", "--id", "1"}, {"trail", "--patient", "42"}} {
		if code, _, errs := runCmd(t, reviewer, args...); strings.Contains(errs, "ran as") {
			t.Errorf("%v: exit %d, stderr %q: the shadowing operator ran", args, code, errs)
		}
	}
}

// --actor-query reads tables of another role's: a row-level security policy of theirs must not run its function
// as the reviewer, who may read the trail. The query runs with row_security off, so the policy fails it instead.
func TestActorQueryRunsNoPolicy(t *testing.T) {
	reviewer, db := seeded(t)
	mustExec(t, db, `CREATE FUNCTION public.rt_peek() RETURNS boolean LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$$;
		ALTER TABLE public.staff ENABLE ROW LEVEL SECURITY;
		CREATE POLICY rt_peek ON public.staff FOR SELECT USING (public.rt_peek())`)
	code, _, errs := runCmd(t, reviewer, "trail", "--patient", "42", "--actor-query", actorQuery)
	if strings.Contains(errs, "ran as") || code == 0 || !strings.Contains(errs, "row-level security") {
		t.Errorf("trail --actor-query over a policy: exit %d, stderr %q; want it refused by row_security, the policy's function not run", code, errs)
	}
}

// --actor-db runs --actor-query as a login of its own, which reads the actors' table and not the trail; it is no
// flag without --actor-query.
func TestActorDB(t *testing.T) {
	reviewer, db := seeded(t)
	directory := fmt.Sprintf("rt_directory_%d", rand.Uint32())
	mustExec(t, db, "CREATE ROLE "+directory+" LOGIN; REVOKE SELECT ON public.staff FROM auditrepo_reviewer; GRANT SELECT ON public.staff TO "+directory)
	t.Cleanup(func() { db.Exec(context.Background(), "DROP OWNED BY "+directory+"; DROP ROLE "+directory) })
	code, out, errs := runCmd(t, reviewer, "trail", "--patient", "42", "--actor-query", actorQuery, "--actor-db", roleURL(db, directory))
	if code != 0 || !strings.Contains(out, "Dr. Ana Ruiz") {
		t.Errorf("trail --actor-db: exit %d, stderr %q; want the actors named through the directory login", code, errs)
	}
	if code, _, errs := runCmd(t, reviewer, "trail", "--patient", "42", "--actor-db", roleURL(db, directory)); code != 2 || !strings.Contains(errs, "--actor-db applies to --actor-query only") {
		t.Errorf("--actor-db alone: exit %d, stderr %q; want a usage error", code, errs)
	}
}

// A value cannot pass for other changes in the table views: every string is quoted as a JSON string, so a value
// holding ", status: a -> b" (with quotes, a backslash or a line break around it) stays inside its own field, and
// the markers ([REDACTED], (excluded)) print unquoted, as no string does. Each seeded row changed type alone, or
// created a record of two fields: its CHANGES cell must parse back to exactly that.
func TestTableQuotesValues(t *testing.T) {
	reviewer, db := seeded(t)
	spoofs := []string{
		"checkup, status: a -> b, notes: [REDACTED] -> [REDACTED]",
		`checkup", status: "a" -> "b`,
		"checkup\\\", status: a -> b\nnotes: [REDACTED] -> [REDACTED], x=1",
		"[REDACTED] -> [REDACTED], status: a",
	}
	for i, s := range spoofs {
		before := map[string]any{"id": 100 + i, "type": "filling", "status": "scheduled", "notes": audit.Redacted}
		after := map[string]any{"id": 100 + i, "type": s, "status": "scheduled", "notes": audit.Redacted}
		update, _ := json.Marshal(map[string]any{"before": before, "after": after, "changed_fields": []string{"type"}})
		create, _ := json.Marshal(map[string]any{"after": map[string]any{"id": 200 + i, "type": s}})
		mustExec(t, db, `INSERT INTO auditrepo.audit_log (occurred_at, transaction_id, db_role, application, actor_kind, actor_id, action,
			target_table, target_id, patient_id, changes) VALUES
			('2026-01-12 10:00:00+00', '1006', 'auditrepo_app', 'clinic', 'user', 7, 'UPDATE', 'appointments', $1, $3, $4),
			('2026-01-12 10:00:01+00', '1006', 'auditrepo_app', 'clinic', 'user', 7, 'CREATE', 'appointments', $2, $3, $5)`,
			100+i, 200+i, 60+i, update, create)
	}
	for i, s := range spoofs {
		_, out, errs := runCmd(t, reviewer, "trail", "--patient", strconv.Itoa(60+i))
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("trail of patient %d: %q (stderr %q), want a header and 2 rows", 60+i, out, errs)
		}
		col := strings.Index(lines[0], "CHANGES")
		for j, want := range [][][]string{{{"type", "filling", s}}, {{"id", strconv.Itoa(200 + i)}, {"type", s}}} {
			cellText := lines[1+j][col:]
			got, err := changeList(cellText, j == 0)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("CHANGES %s reads as %q (%v), want %q", cellText, got, err, want)
			}
		}

		// The record view: type alone marked changed, its value read back whole, then the one it replaced.
		_, out, _ = runCmd(t, reviewer, "record", "--table", "appointments", "--id", strconv.Itoa(100+i))
		_, typeLine, _ := strings.Cut(out, "\n  * type")
		typeLine, _, _ = strings.Cut(typeLine, "\n")
		got, rest, err := cutValue(strings.TrimLeft(typeLine, " "))
		if n := strings.Count(out, "\n  * "); n != 1 || err != nil || got != s || rest != `  (was "filling")` ||
			!strings.Contains(out, "\n    notes   [REDACTED]\n") {
			t.Errorf("record view marks %d changed fields, type reads %q then %q (%v); want type alone, its value whole, notes redacted:\n%s",
				n, got, rest, err, out)
		}
	}
}

// A client's free text (user agent, request id, application name) is quoted in the record view's header and the
// trail's USER AGENT column: a user agent ending "  request r  patient 99" does not read as another request and
// patient.
func TestTableQuotesClientText(t *testing.T) {
	reviewer, db := seeded(t)
	const agent, request, app = "Mozilla  request r-9  patient 99", `r-1"  patient 98`, "psql, client 10.0.0.9"
	mustExec(t, db, `INSERT INTO auditrepo.audit_log (occurred_at, transaction_id, db_role, application, actor_kind, actor_id, user_agent,
		request_id, action, target_table, target_id, patient_id, changes) VALUES
		('2026-01-13 10:00:00+00', '1007', 'auditrepo_app', 'clinic', 'user', 9, $1, $2, 'CREATE', 'appointments', 300, 70, '{"after": {"id": 300}}'),
		('2026-01-13 10:00:01+00', '1007', 'auditrepo_app', $3, 'unattributed', NULL, NULL, NULL, 'CREATE', 'appointments', 301, 70, '{"after": {"id": 301}}')`,
		agent, request, app)
	_, out, errs := runCmd(t, reviewer, "record", "--table", "appointments", "--id", "300")
	if want := `  agent "Mozilla  request r-9  patient 99"  request "r-1\"  patient 98"  patient 70`; !strings.Contains(out, want) {
		t.Errorf("record header:\n%s(stderr %q)\nwant it to hold %s", out, errs, want)
	}
	// An actor's name is the application's data, which a user may edit: quoted too.
	_, out, errs = runCmd(t, reviewer, "record", "--table", "appointments", "--id", "300", "--actor-query",
		`SELECT 'Alice, dentist)  ip 10.0.0.1  patient 1  (x', 'dentist' WHERE $1::bigint = 9`)
	if want := `by user 9 ("Alice, dentist)  ip 10.0.0.1  patient 1  (x", "dentist")`; !strings.Contains(out, want) {
		t.Errorf("record with an actor's name:\n%s(stderr %q)\nwant it to hold %s", out, errs, want)
	}
	_, out, errs = runCmd(t, reviewer, "trail", "--patient", "70")
	for _, want := range []string{`"Mozilla  request r-9  patient 99"`, `application "psql, client 10.0.0.9")`} {
		if !strings.Contains(out, want) {
			t.Errorf("trail:\n%s(stderr %q)\nwant it to hold %s", out, errs, want)
		}
	}
}

// changeList parses a table's CHANGES cell: NAME: VALUE -> VALUE, ... for an update, NAME=VALUE, ... for a created
// or deleted record. A VALUE is a JSON string, read to its closing quote and decoded, or a bare token (a number, a
// marker) up to the next ", " or " -> ".
func changeList(s string, update bool) ([][]string, error) {
	sep := "="
	if update {
		sep = ": "
	}
	var out [][]string
	for {
		name, rest, ok := strings.Cut(s, sep)
		if !ok {
			return out, fmt.Errorf("no %q in %q", sep, s)
		}
		entry := []string{name}
		for {
			v, r, err := cutValue(rest)
			if err != nil {
				return out, err
			}
			entry, rest = append(entry, v), r
			if !update || len(entry) == 3 {
				break
			}
			if rest, ok = strings.CutPrefix(rest, " -> "); !ok {
				return out, fmt.Errorf("no arrow before %q", rest)
			}
		}
		out = append(out, entry)
		if rest == "" {
			return out, nil
		}
		if s, ok = strings.CutPrefix(rest, ", "); !ok {
			return out, fmt.Errorf("%q follows a value", rest)
		}
	}
}

func cutValue(s string) (v, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		dec := json.NewDecoder(strings.NewReader(s))
		if err := dec.Decode(&v); err != nil {
			return "", "", fmt.Errorf("value %q: %w", s, err)
		}
		return v, s[dec.InputOffset():], nil
	}
	end := len(s)
	for _, stop := range []string{", ", " -> "} {
		if i := strings.Index(s, stop); i >= 0 && i < end {
			end = i
		}
	}
	return s[:end], s[end:], nil
}

// value quotes every string but the redaction marker, leaves the other JSON values readable, and escapes the
// control and invisible characters inside the quotes rather than dropping them; a field an image lacks is
// (absent), not null.
func TestTableValue(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{audit.Redacted, `[REDACTED]`},
		{"[REDACTED] ", `"[REDACTED] "`},
		{"(excluded)", `"(excluded)"`},
		{"", `""`},
		{"3", `"3"`},
		{json.Number("3"), `3`},
		{json.Number("-0.5e3"), `-0.5e3`},
		{true, `true`},
		{nil, `null`},
		{"null", `"null"`},
		{"a & <b>", `"a & <b>"`},
		{[]any{"x, y", json.Number("1")}, `["x, y",1]`},
		{map[string]any{"k": "v"}, `{"k":"v"}`},
		{"tab\there\r\nline \x1b[2J\x7f\u009b\u202eevil\u200b\u2028\U000E0041", `"tab\there\r\nline \u001b[2J\u007f\u009b\u202eevil\u200b\u2028\udb40\udc41"`},
	} {
		if got := value(c.v); got != c.want {
			t.Errorf("value(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	m := map[string]any{"a": nil}
	if got := imageValue(m, "a") + " " + imageValue(m, "b"); got != "null (absent)" {
		t.Errorf("imageValue: %s, want null (absent)", got)
	}
}

// Every format prints a value too deep for encoding/json (audit.Event holds it as its JSON text, a
// json.RawMessage): the table as that text, CSV's and JSON's images with it as a JSON value, which json.Marshal
// would refuse (it re-validates a RawMessage, to 10,000 levels).
func TestFormatsPrintDeepJSON(t *testing.T) {
	const n = 30000
	deep := strings.Repeat(`{"k":[`, n) + `"＂x″"` + strings.Repeat(`]}`, n)
	escaped := strings.Repeat(`{"k":[`, n) + `"\uff02x\u2033"` + strings.Repeat(`]}`, n)
	ev := audit.Event{ID: 7, Action: audit.ActionUpdate, Table: "visits", RecordID: 1, ChangedFields: []string{"intake"},
		Before: map[string]any{"id": json.Number("1"), "intake": json.RawMessage(deep)},
		After:  map[string]any{"id": json.Number("1"), "intake": "none"}}
	if got := changesText(ev); got != `intake: `+escaped+` -> "none"` {
		t.Errorf("table changes: %.80s...", got)
	}
	var b strings.Builder
	if err := newJSONWriter(&b).write(ev, actorName{}); err != nil {
		t.Fatal(err)
	}
	line := b.String()
	if _, err := jsontree.Parse([]byte(line)); err != nil || !strings.HasSuffix(line, "}\n") ||
		!strings.Contains(line, `"before":{"id":1,"intake":`+escaped+`},"after":{"id":1,"intake":"none"}}`) {
		t.Errorf("JSON line (%v): %.200s", err, line)
	}
	b.Reset()
	w, err := newCSVWriter(&b, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.write(ev, actorName{}); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][21] != `{"id":1,"intake":`+deep+`}` || rows[1][22] != `{"id":1,"intake":"none"}` {
		t.Errorf("CSV (%v): %d rows", err, len(rows))
	}
}
