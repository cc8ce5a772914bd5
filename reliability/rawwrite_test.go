package reliability_test

// Raw writes: a write to a PHI table that bypasses the generated repositories (raw SQL as auditrepo_app) is
// recorded by the same audit triggers as a repository's, one row per changed row with the true images, but with
// actor kind 'unattributed' (no claim was made for the statement): the actor columns are NULL and the server's
// facts (db_role, client_addr, application) say where it came from. TRUNCATE is refused. The repositories' own
// writes are recorded exactly once, attributed to their actor.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// rawCase is a hand-written change of two rows of one PHI table.
type rawCase struct {
	table    string
	insert   string                     // two rows, RETURNING id
	patients func(ids []int64) []*int64 // the patient of each inserted row
	update   string                     // a PHI change of the rows whose ids are in $1
	changed  []string                   // the changed_fields of that update
	nonPHI   string                     // a change of nonphi columns only of the rows in $1 ("" when the table has none)
	hidden   []string                   // columns the trail never names (excluded)
	redacted []string                   // columns the trail shows as [REDACTED]
	secrets  []string                   // values that must never reach the trail
}

func rawCases(c *clinictest.Clinic) []rawCase {
	p1, p2 := c.Patient1, c.Patient2
	same := func(ids []int64) []*int64 { return []*int64{&p1, &p2} }
	return []rawCase{{
		table: "users",
		insert: `INSERT INTO users (username, email, password, auth_token, user_type, first_name)
			VALUES ('raw-patient', 'rp@x.example', 'raw-secret-pw', 'raw-secret-token', 'patient', 'Raw'),
			       ('raw-staff', 'rs@x.example', 'raw-secret-pw', 'raw-secret-token', 'staff', 'Raw') RETURNING id`,
		patients: func(ids []int64) []*int64 { return []*int64{&ids[0], nil} }, // a staff row has no patient
		update:   "UPDATE users SET first_name = 'Changed', password = 'raw-secret-pw2', auth_token = 'raw-secret-token2' WHERE id = ANY($1)",
		changed:  []string{"first_name", "password", "auth_token"}, // excluded columns are named, never shown
		nonPHI:   "UPDATE users SET last_login = now(), updated_at = now() WHERE id = ANY($1)",
		hidden:   []string{"password", "auth_token"},
		secrets:  []string{"raw-secret-pw", "raw-secret-token"},
	}, {
		table: "appointments",
		insert: fmt.Sprintf(`INSERT INTO appointments (patient_id, dentist_id, clinic_id, date, time, type, notes)
			VALUES (%d, %d, %d, '2026-05-04', '10:00', 'raw', 'raw-secret-note'),
			       (%d, %[2]d, NULL, '2026-05-05', '11:00', 'raw', 'raw-secret-note') RETURNING id`, p1, c.Dentist, c.ClinicID, p2),
		patients: same,
		update:   "UPDATE appointments SET status = 'confirmed', notes = 'raw-secret-note2' WHERE id = ANY($1)",
		changed:  []string{"status", "notes"},
		nonPHI:   "UPDATE appointments SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
		redacted: []string{"notes"},
		secrets:  []string{"raw-secret-note"},
	}, {
		table: "dental_records",
		insert: fmt.Sprintf(`INSERT INTO dental_records (patient_id, dentist_id, diagnosis)
			VALUES (%d, %d, 'raw-dx'), (%d, %[2]d, 'raw-dx') RETURNING id`, p1, c.Dentist, p2),
		patients: same,
		update:   "UPDATE dental_records SET diagnosis = 'raw-dx2' WHERE id = ANY($1)",
		changed:  []string{"diagnosis"},
		nonPHI:   "UPDATE dental_records SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table:    "billings",
		insert:   fmt.Sprintf(`INSERT INTO billings (patient_id, amount, description) VALUES (%d, 10.50, 'raw'), (%d, 20, 'raw') RETURNING id`, p1, p2),
		patients: same,
		update:   "UPDATE billings SET amount = amount + 1 WHERE id = ANY($1)",
		changed:  []string{"amount"},
		nonPHI:   "UPDATE billings SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table: "invoices",
		insert: fmt.Sprintf(`INSERT INTO invoices (appointment_id, amount, due_date)
			VALUES (%d, 10, '2026-06-01'), (%d, 20, '2026-06-01') RETURNING id`, c.Appt1, c.Appt2),
		patients: same, // through the appointment
		update:   "UPDATE invoices SET status = 'paid' WHERE id = ANY($1)",
		changed:  []string{"status"},
		nonPHI:   "UPDATE invoices SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table: "treatment_plans",
		insert: fmt.Sprintf(`INSERT INTO treatment_plans (patient_id, dentist_id, title)
			VALUES (%d, %d, 'raw'), (%d, %[2]d, 'raw') RETURNING id`, p1, c.Dentist, p2),
		patients: same,
		update:   "UPDATE treatment_plans SET title = 'raw2', estimated_cost = 99 WHERE id = ANY($1)",
		changed:  []string{"title", "estimated_cost"},
		nonPHI:   "UPDATE treatment_plans SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table: "documents",
		insert: fmt.Sprintf(`INSERT INTO documents (patient_id, document_type, filename, storage_path)
			VALUES (%d, 'xray', 'r.png', 's3://b/r.png'), (%d, 'xray', 'r.png', 's3://b/r.png') RETURNING id`, p1, p2),
		patients: same,
		update:   "UPDATE documents SET filename = 'r2.png', uploaded_at = uploaded_at - interval '1 day' WHERE id = ANY($1)",
		changed:  []string{"filename", "uploaded_at"}, // when it was filed is clinical: audited
		// documents has no bookkeeping column: nothing to change without an audit row.
	}, {
		table: "patient_intake_forms",
		insert: fmt.Sprintf(`INSERT INTO patient_intake_forms (patient_id, allergies, insurance_policy)
			VALUES (%d, 'pollen', 'raw-secret-policy'), (%d, 'none', 'raw-secret-policy') RETURNING id`, p1, p2),
		patients: same,
		update:   "UPDATE patient_intake_forms SET allergies = 'nuts', insurance_policy = 'raw-secret-policy2' WHERE id = ANY($1)",
		changed:  []string{"allergies", "insurance_policy"},
		nonPHI:   "UPDATE patient_intake_forms SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
		redacted: []string{"insurance_policy"},
		secrets:  []string{"raw-secret-policy"},
	}}
}

// session is what the server records of the application's session in the audit row's own columns.
type session struct {
	role, application string
	addr              *netip.Addr
}

func appSession(t *testing.T, q db.DBTX) session {
	t.Helper()
	var s session
	if err := q.QueryRow(context.Background(), "SELECT session_user, inet_client_addr(), current_setting('application_name')").Scan(&s.role, &s.addr, &s.application); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkUnattributed checks the actor and server columns of a raw write's audit row: kind unattributed, every
// actor column NULL (nothing the client said), and the session's role, address and application.
func checkUnattributed(t *testing.T, what string, r clinictest.Row, s session) {
	t.Helper()
	if r.ActorKind != string(audit.KindUnattributed) || r.ActorID != nil || r.IP != nil || r.UserAgent != nil || r.RequestID != nil || r.Method != nil {
		t.Errorf("%s: row %v: actor kind %s, id %s, ip %v, user agent %s, request %s, method %s; want unattributed and NULLs",
			what, r, r.ActorKind, ptrStr(r.ActorID), r.IP, ptrStr(r.UserAgent), ptrStr(r.RequestID), ptrStr(r.Method))
	}
	if r.DBRole != s.role || r.Application != s.application || !reflect.DeepEqual(r.ClientAddr, s.addr) {
		t.Errorf("%s: row %v: db_role %q, client_addr %v, application %q; want %q, %v, %q", what, r, r.DBRole, r.ClientAddr,
			r.Application, s.role, s.addr, s.application)
	}
}

// TestRawWrites runs INSERT, UPDATE, a nonphi-only UPDATE and DELETE by hand on every PHI table, as
// auditrepo_app: each changed row leaves exactly one unattributed row, with the images a repository's row has;
// the nonphi-only update leaves none; TRUNCATE is refused.
func TestRawWrites(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	sess := appSession(t, c.App)
	if sess.role != roleApp {
		t.Fatalf("the application pool connects as %s, want %s", sess.role, roleApp)
	}
	cases := rawCases(c)
	if got := len(cases); got != len(phiTables) {
		t.Fatalf("%d raw cases for %d PHI tables", got, len(phiTables))
	}
	for _, rc := range cases {
		t.Run(rc.table, func(t *testing.T) {
			mark := clinictest.MaxID(t, c.Reviewer)
			ids := queryIDs(t, c.App, rc.insert)
			pats := rc.patients(ids)
			step := func(what, action string, want int) []clinictest.Row {
				t.Helper()
				rows := clinictest.Since(t, c.Reviewer, mark)
				mark = clinictest.MaxID(t, c.Reviewer)
				if len(rows) != want {
					t.Fatalf("%s: %d audit rows, want %d: %v", what, len(rows), want, rows)
				}
				for _, r := range rows {
					i := slices.Index(ids, r.TargetID)
					if r.Action != action || r.TargetTable != rc.table || i < 0 {
						t.Errorf("%s: row %v, want %s of %s %v", what, r, action, rc.table, ids)
						continue
					}
					checkUnattributed(t, what, r, sess)
					if want := pats[i]; !eqPtr(r.PatientID, deref(want), want != nil) || r.PriorPatientID != nil {
						t.Errorf("%s: row %v: patient %s prior %s, want %s and NULL", what, r, ptrStr(r.PatientID), ptrStr(r.PriorPatientID), ptrStr(want))
					}
					checkImages(t, what, rc, r)
				}
				if got := distinctTargets(rows); want > 0 && got != len(ids) {
					t.Errorf("%s: audit rows name %d distinct rows, want %d", what, got, len(ids))
				}
				return rows
			}
			created := step("INSERT", "CREATE", 2)
			live := clinictest.LiveRows(t, c.App, rc.table, rc.redacted)
			for _, r := range created {
				checkTrueImage(t, "INSERT", rc, r.Image(), live[r.TargetID].Img)
			}

			if err := execAs(c.App, rc.update, ids); err != nil {
				t.Fatalf("UPDATE: %v", err)
			}
			live = clinictest.LiveRows(t, c.App, rc.table, rc.redacted)
			for _, r := range step("UPDATE", "UPDATE", 2) {
				if !sameSet(r.Changed(), rc.changed) {
					t.Errorf("UPDATE: changed_fields %v, want %v", r.Changed(), rc.changed)
				}
				before, _ := r.Ch["before"].(map[string]any)
				for _, cr := range created {
					if cr.TargetID == r.TargetID && !reflect.DeepEqual(before, cr.Image()) {
						t.Errorf("UPDATE: before %s is not the CREATE image %s", clinictest.Abbrev(before), clinictest.Abbrev(cr.Image()))
					}
				}
				checkTrueImage(t, "UPDATE", rc, r.Image(), live[r.TargetID].Img)
			}

			if rc.nonPHI != "" {
				if err := execAs(c.App, rc.nonPHI, ids); err != nil {
					t.Fatalf("nonphi UPDATE: %v", err)
				}
				step("nonphi-only UPDATE", "UPDATE", 0)
			}
			live = clinictest.LiveRows(t, c.App, rc.table, rc.redacted)

			if err := execAs(c.App, fmt.Sprintf("DELETE FROM %s WHERE id = ANY($1)", rc.table), ids); err != nil {
				t.Fatalf("DELETE: %v", err)
			}
			for _, r := range step("DELETE", "DELETE", 2) {
				checkTrueImage(t, "DELETE", rc, r.Image(), live[r.TargetID].Img)
			}

			// TRUNCATE: the application has no such privilege, and the owner's is refused by the audit_truncate
			// trigger, as no audit row could describe it.
			before := clinictest.Snapshot(t, c.Super, rc.table)
			if err := execAs(c.App, "TRUNCATE "+rc.table); pgtest.SQLState(err) != "42501" {
				t.Errorf("TRUNCATE %s as %s: %v, want SQLSTATE 42501", rc.table, roleApp, err)
			}
			if err := execAs(c.Owner, "TRUNCATE "+rc.table+" CASCADE"); pgtest.SQLState(err) != "42501" || !strings.Contains(err.Error(), "TRUNCATE on audited table") {
				t.Errorf("TRUNCATE %s as the owner: %v, want the audit_truncate trigger's refusal", rc.table, err)
			}
			clinictest.Unchanged(t, c.Super, before) // the refused TRUNCATEs changed nothing
			step("refused TRUNCATE", "", 0)
		})
	}
}

// checkTrueImage checks an unattributed row's image against the row as the database holds it (excluded columns
// dropped, redacted ones masked).
func checkTrueImage(t *testing.T, what string, rc rawCase, img, live map[string]any) {
	t.Helper()
	want := maps.Clone(live)
	for _, h := range rc.hidden {
		delete(want, h)
	}
	if !reflect.DeepEqual(img, want) {
		t.Errorf("%s: image %s, want the row as stored %s", what, clinictest.Abbrev(img), clinictest.Abbrev(want))
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func distinctTargets(rows []clinictest.Row) int {
	seen := map[int64]bool{}
	for _, r := range rows {
		seen[r.TargetID] = true
	}
	return len(seen)
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// checkImages checks the images of a raw write's row: the keys of its action, no excluded column, redacted ones
// masked, no secret anywhere.
func checkImages(t *testing.T, what string, rc rawCase, r clinictest.Row) {
	t.Helper()
	keys := map[string][]string{"CREATE": {"after"}, "UPDATE": {"after", "before", "changed_fields"}, "DELETE": {"deleted_record"}}[r.Action]
	if got := slices.Sorted(maps.Keys(r.Ch)); !slices.Equal(got, keys) {
		t.Errorf("%s: changes keys %v, want %v", what, got, keys)
	}
	for _, k := range []string{"after", "before", "deleted_record"} {
		img, ok := r.Ch[k].(map[string]any)
		if !ok {
			continue
		}
		if id := clinictest.JSONInt(img["id"]); id != r.TargetID {
			t.Errorf("%s: %s image of row %d has id %v", what, k, r.TargetID, img["id"])
		}
		for _, h := range rc.hidden {
			if _, ok := img[h]; ok {
				t.Errorf("%s: %s image names excluded column %s", what, k, h)
			}
		}
		for _, red := range rc.redacted {
			if img[red] != "[REDACTED]" {
				t.Errorf("%s: %s image: %s = %v, want [REDACTED]", what, k, red, img[red])
			}
		}
	}
	for _, s := range rc.secrets {
		if strings.Contains(string(r.Changes), s) {
			t.Errorf("%s: the trail holds %q: %s", what, s, string(r.Changes))
		}
	}
}

// TestOtherRawPaths: a change of patient and a change of id are raw writes too (COPY, upserts, MERGE and writing
// CTEs: TestOtherRawPathsEveryTable).
func TestOtherRawPaths(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	ctx := t.Context()
	sess := appSession(t, c.App)
	cases := map[string]rawCase{}
	for _, rc := range rawCases(c) {
		cases[rc.table] = rc
	}
	expect := func(what string, mark int64, want ...string) []clinictest.Row {
		t.Helper()
		rows := clinictest.Since(t, c.Reviewer, mark)
		var got []string
		for _, r := range rows {
			checkUnattributed(t, what, r, sess)
			if r.Action != "MOVE" {
				checkImages(t, what, cases[r.TargetTable], r)
			}
			got = append(got, r.Action+" "+r.TargetTable)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: audit rows %v, want %v", what, rows, want)
		}
		return rows
	}

	// A raw change of patient names both patients, as a repository's does.
	mark := clinictest.MaxID(t, c.Reviewer)
	if err := execAs(c.App, "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1); err != nil {
		t.Fatal(err)
	}
	// The invoice of that appointment moves with it: its row did not change, but a MOVE row says so.
	rows := expect("patient change", mark, "UPDATE appointments", "MOVE invoices")
	for _, r := range rows {
		if !eqPtr(r.PatientID, c.Patient2, true) || !eqPtr(r.PriorPatientID, c.Patient1, true) {
			t.Errorf("patient change: %v, want patient %d prior %d", r, c.Patient2, c.Patient1)
		}
	}

	// A new id cannot pair the old row with the new one: both halves are logged.
	mark = clinictest.MaxID(t, c.Reviewer)
	var newID int64
	if err := c.App.QueryRow(ctx, "UPDATE documents SET id = DEFAULT WHERE id = $1 RETURNING id", c.Doc).Scan(&newID); err != nil {
		t.Fatal(err)
	}
	rows = expect("id change", mark, "UPDATE documents", "UPDATE documents")
	if len(rows) == 2 {
		got := []int64{rows[0].TargetID, rows[1].TargetID}
		slices.Sort(got)
		if !slices.Equal(got, []int64{c.Doc, newID}) {
			t.Errorf("id change: rows for %v, want %d and %d", got, c.Doc, newID)
		}
	}
}

// TestOtherRawPathsEveryTable runs the other raw write paths on every PHI table, two rows each (the rows of
// rawCases: both patients, excluded and redacted values): COPY, INSERT ... ON CONFLICT DO NOTHING and DO UPDATE,
// MERGE inserting, updating and deleting, and writing CTEs updating and deleting. Each changed row leaves one
// unattributed row with the true image, the right patient and no excluded value, as TestRawWrites checks for
// plain INSERT, UPDATE and DELETE.
func TestOtherRawPathsEveryTable(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	ctx := t.Context()
	sess := appSession(t, c.App)
	columns := map[string][]string{}
	for _, m := range repo.AuditModels.Tables {
		columns[strings.TrimPrefix(m.Name, "public.")] = slices.DeleteFunc(slices.Clone(m.Columns), func(c string) bool { return c == "id" })
	}
	var version int
	if err := c.App.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	ptr := func(v int64) *int64 { return &v }
	apptPatient := map[int64]int64{c.Appt1: c.Patient1, c.Appt2: c.Patient2}
	// patientOf is the patient of a row as stored, read by each model's patient path independently of the
	// triggers: users are their own patient (staff none), invoices their appointment's, the rest patient_id.
	patientOf := func(table string, img map[string]any) *int64 {
		switch table {
		case "users":
			if img["user_type"] != "patient" {
				return nil
			}
			return ptr(clinictest.JSONInt(img["id"]))
		case "invoices":
			p, ok := apptPatient[clinictest.JSONInt(img["appointment_id"])]
			if !ok {
				t.Fatalf("invoice %v of an unknown appointment", img)
			}
			return &p
		}
		return ptr(clinictest.JSONInt(img["patient_id"]))
	}
	cases := rawCases(c)
	if got := len(cases); got != len(phiTables) {
		t.Fatalf("%d raw cases for %d PHI tables", got, len(phiTables))
	}
	for _, rc := range cases {
		t.Run(rc.table, func(t *testing.T) {
			tab := pgx.Identifier{rc.table}.Sanitize()
			cols := columns[rc.table]
			if len(cols) == 0 {
				t.Fatalf("no model columns for %s", rc.table)
			}
			// The copied rows' values: the same, but for a unique username (tagged per path).
			exprs := func(tag string) string {
				var out []string
				for _, col := range cols {
					e := pgx.Identifier{col}.Sanitize()
					if rc.table == "users" && col == "username" {
						e = "'" + tag + "-' || username"
					}
					out = append(out, e+" AS "+pgx.Identifier{col}.Sanitize())
				}
				return strings.Join(out, ", ")
			}
			colList := strings.Join(cols, ", ")
			set, ok := strings.CutPrefix(rc.update, "UPDATE "+rc.table+" SET ")
			set, _, ok2 := strings.Cut(set, " WHERE id = ANY($1)")
			if !ok || !ok2 {
				t.Fatalf("cannot take the SET list of %q", rc.update)
			}
			// The same SET list with the target's columns on the right qualified, as DO UPDATE needs them (the
			// proposed row, excluded, has the same names).
			word := regexp.MustCompile(`\b(` + strings.Join(cols, "|") + `)\b`)
			var assigns []string
			for _, a := range strings.Split(set, ", ") {
				col, expr, _ := strings.Cut(a, " = ")
				assigns = append(assigns, col+" = "+word.ReplaceAllString(expr, "x.$1"))
			}
			qualified := strings.Join(assigns, ", ")
			src := queryIDs(t, c.App, rc.insert)
			mark := clinictest.MaxID(t, c.Reviewer)

			// check reads the rows written since mark: one per id of want (nil: two new rows, CREATE), each of
			// action, unattributed, with the images the table holds (before: as it held them) and its patient.
			check := func(what, action string, want []int64, before map[int64]clinictest.Live) []int64 {
				t.Helper()
				rows := clinictest.Since(t, c.Reviewer, mark)
				mark = clinictest.MaxID(t, c.Reviewer)
				live := before
				if action != "DELETE" {
					live = clinictest.LiveRows(t, c.App, rc.table, rc.redacted)
				}
				var got []int64
				for _, r := range rows {
					got = append(got, r.TargetID)
					if r.Action != action || r.TargetTable != rc.table {
						t.Errorf("%s: row %v, want %s of %s", what, r, action, rc.table)
						continue
					}
					checkUnattributed(t, what, r, sess)
					checkImages(t, what, rc, r)
					l, ok := live[r.TargetID]
					if !ok {
						t.Errorf("%s: row %v names no row of %s", what, r, rc.table)
						continue
					}
					checkTrueImage(t, what, rc, r.Image(), l.Img)
					if action == "UPDATE" {
						if !sameSet(r.Changed(), rc.changed) {
							t.Errorf("%s: changed_fields %v, want %v", what, r.Changed(), rc.changed)
						}
						if b, _ := r.Ch["before"].(map[string]any); before != nil {
							checkTrueImage(t, what+" before", rc, b, before[r.TargetID].Img)
						}
					}
					if p := patientOf(rc.table, l.Img); !eqPtr(r.PatientID, deref(p), p != nil) || r.PriorPatientID != nil {
						t.Errorf("%s: row %v: patient %s prior %s, want %s and NULL", what, r, ptrStr(r.PatientID), ptrStr(r.PriorPatientID), ptrStr(p))
					}
				}
				slices.Sort(got)
				if want != nil && !slices.Equal(got, want) || want == nil && (len(got) != 2 || got[0] == got[1]) {
					t.Fatalf("%s: audit rows for %v, want one each for %v (nil: two new rows)", what, got, want)
				}
				return got
			}
			run := func(sql string, args ...any) {
				t.Helper()
				if err := execAs(c.App, sql, args...); err != nil {
					t.Fatalf("%s: %v", firstLine(sql), err)
				}
			}
			liveNow := func() map[int64]clinictest.Live { return clinictest.LiveRows(t, c.App, rc.table, rc.redacted) }

			// COPY: the source rows copied out and in again, as text.
			conn, err := c.App.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, err = conn.Conn().PgConn().CopyTo(ctx, &buf, fmt.Sprintf("COPY (SELECT %s FROM %s WHERE id IN (%d, %d) ORDER BY id) TO STDOUT", exprs("copy"), tab, src[0], src[1]))
			if err == nil {
				_, err = conn.Conn().PgConn().CopyFrom(ctx, &buf, fmt.Sprintf("COPY %s (%s) FROM STDIN", tab, colList))
			}
			conn.Release()
			if err != nil {
				t.Fatalf("COPY: %v", err)
			}
			copied := check("COPY", "CREATE", nil, nil)

			upserted := queryIDs(t, c.App, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %[1]s WHERE id = ANY($1) ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id",
				tab, colList, exprs("ups")), src)
			slices.Sort(upserted)
			check("upsert inserting", "CREATE", upserted, nil)

			before := liveNow()
			run(fmt.Sprintf("INSERT INTO %[1]s AS x OVERRIDING SYSTEM VALUE SELECT * FROM %[1]s WHERE id = ANY($1) ON CONFLICT (id) DO UPDATE SET %[2]s", tab, qualified), src)
			check("upsert updating", "UPDATE", src, before)

			before = liveNow()
			run(fmt.Sprintf("WITH w AS (%s RETURNING id) SELECT count(*) FROM w", rc.update), copied)
			check("writing CTE updating", "UPDATE", copied, before)

			if version >= 150000 { // MERGE came with PostgreSQL 15
				run(fmt.Sprintf("MERGE INTO %[1]s USING (SELECT %[2]s FROM %[1]s WHERE id = ANY($1)) s ON false WHEN NOT MATCHED THEN INSERT (%[3]s) VALUES (%[4]s)",
					tab, exprs("mrg"), colList, "s."+strings.Join(cols, ", s.")), src)
				check("MERGE inserting", "CREATE", nil, nil)

				before = liveNow()
				run(fmt.Sprintf("MERGE INTO %s USING (SELECT id AS sid FROM %[1]s WHERE id = ANY($1)) s ON %[1]s.id = s.sid WHEN MATCHED THEN UPDATE SET %s", tab, set), upserted)
				check("MERGE updating", "UPDATE", upserted, before)

				before = liveNow()
				run(fmt.Sprintf("MERGE INTO %s USING (SELECT id AS sid FROM %[1]s WHERE id = ANY($1)) s ON %[1]s.id = s.sid WHEN MATCHED THEN DELETE", tab), upserted)
				check("MERGE deleting", "DELETE", upserted, before)
			} else {
				t.Logf("PostgreSQL %d has no MERGE: its paths are not tried", version)
			}

			before = liveNow()
			run(fmt.Sprintf("WITH w AS (DELETE FROM %s WHERE id = ANY($1) RETURNING id) SELECT count(*) FROM w", tab), copied)
			check("writing CTE deleting", "DELETE", copied, before)
		})
	}
}

// repoStep is one repository write and how many audit rows it writes.
type repoStep struct {
	name string
	rows int
	run  func(ctx context.Context, r *repo.Repos) error
}

// repoSteps writes every model through every kind of generated method: Create, CreateMany, Update (PHI,
// nonphi-only, excluded-only, not found) and Delete (:exec).
func repoSteps(c *clinictest.Clinic, tag string) []repoStep {
	var user db.User
	var users []db.User
	var appt db.Appointment
	var inv db.Invoice
	var rec db.DentalRecord
	var bill db.Billing
	var plan db.TreatmentPlan
	var doc db.Document
	var form db.PatientIntakeForm
	var err error
	return []repoStep{
		{"User.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			user, err = r.User.Create(ctx, db.CreateUserParams{Username: tag + "-u", Email: "u@x", Password: "pw", UserType: "patient"})
			return err
		}},
		{"User.CreateMany", 3, func(ctx context.Context, r *repo.Repos) error {
			users, err = r.User.CreateMany(ctx, []db.CreateUserParams{
				{Username: tag + "-m1", Email: "m@x", Password: "pw", UserType: "patient"},
				{Username: tag + "-m2", Email: "m@x", Password: "pw", UserType: "staff"},
				{Username: tag + "-m3", Email: "m@x", Password: "pw", UserType: "patient"},
			})
			return err
		}},
		{"User.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.Update(ctx, db.UpdateUserParams{ID: user.ID, Email: "new@x", UserType: "patient", FirstName: "N"})
			return err
		}},
		{"User.UpdateLastLogin (nonphi only)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.UpdateLastLogin(ctx, db.UpdateUserLastLoginParams{ID: user.ID, LastLogin: pgtype.Timestamptz{Time: time.Now(), Valid: true}})
			return err
		}},
		{"User.UpdatePassword (excluded and nonphi only: named, not shown)", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.UpdatePassword(ctx, db.UpdateUserPasswordParams{ID: user.ID, Password: "pw2"})
			return err
		}},
		{"User.Update (not found)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.Update(ctx, db.UpdateUserParams{ID: -1, Email: "x", UserType: "staff"})
			if errors.Is(err, audit.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("want ErrNotFound, got %w", err)
		}},
		{"User.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.User.Delete(ctx, users[1].ID) }},
		{"Appointment.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			appt, err = r.Appointment.Create(ctx, db.CreateAppointmentParams{PatientID: c.Patient1, DentistID: c.Dentist,
				Date: pgDate(2026, 7, 1), Time: pgTime(8), Type: tag, Status: "scheduled", Notes: "n"})
			return err
		}},
		{"Appointment.CreateMany", 2, func(ctx context.Context, r *repo.Repos) error {
			p := db.CreateAppointmentParams{PatientID: c.Patient2, DentistID: c.Dentist, Date: pgDate(2026, 7, 2), Time: pgTime(8), Type: tag, Status: "scheduled"}
			_, err := r.Appointment.CreateMany(ctx, []db.CreateAppointmentParams{p, p})
			return err
		}},
		{"Appointment.CreateMany (empty)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.CreateMany(ctx, nil)
			return err
		}},
		{"Appointment.Update (moves patient)", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.Update(ctx, db.UpdateAppointmentParams{ID: appt.ID, PatientID: c.Patient2, DentistID: c.Dentist,
				Date: appt.Date, Time: appt.Time, Type: appt.Type, Status: "confirmed", Notes: "changed"})
			return err
		}},
		{"Appointment.UpdateStatus (same status: nonphi only)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.UpdateStatus(ctx, db.UpdateAppointmentStatusParams{ID: appt.ID, Status: "confirmed"})
			return err
		}},
		{"Appointment.UpdateStatus", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.UpdateStatus(ctx, db.UpdateAppointmentStatusParams{ID: appt.ID, Status: "completed"})
			return err
		}},
		{"Invoice.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			inv, err = r.Invoice.Create(ctx, db.CreateInvoiceParams{AppointmentID: appt.ID, Amount: pgNumeric("12.00"), Status: "open", DueDate: pgDate(2026, 8, 1)})
			return err
		}},
		{"Invoice.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Invoice.Update(ctx, db.UpdateInvoiceParams{ID: inv.ID, AppointmentID: c.Appt1, Amount: pgNumeric("13.00"), Status: "paid", DueDate: inv.DueDate})
			return err
		}},
		{"Invoice.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Invoice.Delete(ctx, inv.ID) }},
		{"Appointment.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Appointment.Delete(ctx, appt.ID) }},
		{"Appointment.Delete (not found)", 0, func(ctx context.Context, r *repo.Repos) error {
			if err := r.Appointment.Delete(ctx, appt.ID); !errors.Is(err, audit.ErrNotFound) {
				return fmt.Errorf("want ErrNotFound, got %w", err)
			}
			return nil
		}},
		{"DentalRecord.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			rec, err = r.DentalRecord.Create(ctx, db.CreateDentalRecordParams{PatientID: c.Patient1, DentistID: c.Dentist, Diagnosis: tag})
			return err
		}},
		{"DentalRecord.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.DentalRecord.Update(ctx, db.UpdateDentalRecordParams{ID: rec.ID, PatientID: c.Patient1, DentistID: c.Dentist, Diagnosis: tag + "2"})
			return err
		}},
		{"DentalRecord.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.DentalRecord.Delete(ctx, rec.ID) }},
		{"Billing.CreateMany", 2, func(ctx context.Context, r *repo.Repos) error {
			p := db.CreateBillingParams{PatientID: c.Patient1, Amount: pgNumeric("1.00"), Status: "pending"}
			bs, err := r.Billing.CreateMany(ctx, []db.CreateBillingParams{p, p})
			if err == nil {
				bill = bs[0]
			}
			return err
		}},
		{"Billing.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Billing.Update(ctx, db.UpdateBillingParams{ID: bill.ID, PatientID: c.Patient1, Amount: pgNumeric("2.00"), Status: "paid"})
			return err
		}},
		{"Billing.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Billing.Delete(ctx, bill.ID) }},
		{"TreatmentPlan.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			plan, err = r.TreatmentPlan.Create(ctx, db.CreateTreatmentPlanParams{PatientID: c.Patient1, DentistID: c.Dentist, Title: tag, Status: "proposed"})
			return err
		}},
		{"TreatmentPlan.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.TreatmentPlan.Update(ctx, db.UpdateTreatmentPlanParams{ID: plan.ID, PatientID: c.Patient1, DentistID: c.Dentist, Title: tag, Status: "accepted"})
			return err
		}},
		{"TreatmentPlan.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.TreatmentPlan.Delete(ctx, plan.ID) }},
		{"Document.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			doc, err = r.Document.Create(ctx, db.CreateDocumentParams{PatientID: c.Patient1, DocumentType: "scan", Filename: tag, StoragePath: "s3://" + tag})
			return err
		}},
		{"Document.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Document.Update(ctx, db.UpdateDocumentParams{ID: doc.ID, PatientID: c.Patient2, DocumentType: "scan", Filename: tag, StoragePath: "s3://" + tag})
			return err
		}},
		{"Document.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Document.Delete(ctx, doc.ID) }},
		{"PatientIntakeForm.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			form, err = r.PatientIntakeForm.Create(ctx, db.CreatePatientIntakeFormParams{PatientID: c.Patient2, Allergies: tag, InsurancePolicy: "p"})
			return err
		}},
		{"PatientIntakeForm.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.PatientIntakeForm.Update(ctx, db.UpdatePatientIntakeFormParams{ID: form.ID, Allergies: tag, InsurancePolicy: "q", Smoker: true})
			return err
		}},
		{"PatientIntakeForm.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.PatientIntakeForm.Delete(ctx, form.ID) }},
		{"User.Delete (patient)", 1, func(ctx context.Context, r *repo.Repos) error { return r.User.Delete(ctx, users[0].ID) }},
	}
}

// TestRepositoryWritesLoggedOnce: every kind of repository write leaves exactly its own audit rows, attributed
// to the actor, and no unattributed one. In a transaction, a raw write right after each repository write is
// still unattributed: a claim covers its own statement only.
func TestRepositoryWritesLoggedOnce(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)

	attributed := func(t *testing.T, step repoStep, rows []clinictest.Row) {
		t.Helper()
		if len(rows) != step.rows {
			t.Errorf("%s: %d audit rows, want %d: %v", step.name, len(rows), step.rows, rows)
		}
		for _, r := range rows {
			method := strings.Replace(strings.Fields(step.name)[0], ".", "Repo.", 1) // User.Create: UserRepo.Create
			if r.ActorKind != string(audit.KindUser) || !eqPtr(r.ActorID, c.Dentist, true) || r.Method == nil || *r.Method != method {
				t.Errorf("%s: %v is not the actor's, by the step's method (%s)", step.name, r, ptrStr(r.Method))
			}
		}
	}

	t.Run("autocommit", func(t *testing.T) {
		for _, step := range repoSteps(c, "auto") {
			mark := clinictest.MaxID(t, c.Reviewer)
			if err := step.run(c.Ctx, c.R); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			attributed(t, step, clinictest.Since(t, c.Reviewer, mark))
		}
	})

	t.Run("transaction", func(t *testing.T) {
		// The trail of a transaction is visible once it commits; the audit ids of one transaction follow the
		// order of its statements, so each step's rows are read back in order after the commit.
		mark := clinictest.MaxID(t, c.Reviewer)
		tx, err := c.App.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(context.Background())
		r := repo.New(tx)
		steps := repoSteps(c, "tx")
		for _, step := range steps {
			if err := step.run(c.Ctx, r); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			// A raw write right after, in the same transaction, is the application's, unattributed.
			if err := execAs(tx, "UPDATE dental_records SET treatment = treatment || '.' WHERE id = $1", c.DentalRecord); err != nil {
				t.Fatalf("raw write after %s: %v", step.name, err)
			}
		}
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		rows := clinictest.Since(t, c.Reviewer, mark)
		for _, step := range steps {
			if len(rows) < step.rows+1 {
				t.Fatalf("%s: only %d audit rows left, want %d and the raw write's", step.name, len(rows), step.rows)
			}
			attributed(t, step, rows[:step.rows])
			raw := rows[step.rows]
			if raw.ActorKind != "unattributed" || raw.TargetTable != "dental_records" || raw.TargetID != c.DentalRecord {
				t.Errorf("raw write after %s: %v, want one unattributed row for dental record %d", step.name, raw, c.DentalRecord)
			}
			rows = rows[step.rows+1:]
		}
		if len(rows) != 0 {
			t.Errorf("%d audit rows beyond the steps': %v", len(rows), rows)
		}
	})

	if got, want := clinictest.Count(t, c.Reviewer, "actor_kind = 'unattributed'"), len(repoSteps(c, "")); got != want {
		t.Errorf("%d unattributed rows in all, want %d (the raw writes of the transaction)", got, want)
	}
	if got := clinictest.Count(t, c.Reviewer, "actor_kind = 'user' AND transaction_id IS NOT NULL"); got == 0 {
		t.Error("no attributed row at all")
	}
}

// TestClaimStaysInItsStatement: a claim covers its own statement and table only. A repository write on
// another table, a repository write that failed inside a savepoint, and a repository write on the same table
// in an earlier statement of the transaction leave nothing that could attribute a later raw write.
func TestClaimStaysInItsStatement(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	ctx := t.Context()
	mark := clinictest.MaxID(t, c.Reviewer)
	tx, err := c.App.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	r := repo.New(tx)
	var raws []string
	raw := func(what string) {
		t.Helper()
		if err := execAs(tx, "UPDATE appointments SET type = type || '.' WHERE id = $1", c.Appt2); err != nil {
			t.Fatalf("%s: raw write: %v", what, err)
		}
		raws = append(raws, what)
	}

	// A claim names its table: a repository write on users cannot cover a raw write on appointments.
	if _, err := r.User.Create(c.Ctx, db.CreateUserParams{Username: "claim-u", Email: "x", Password: "p", UserType: "staff"}); err != nil {
		t.Fatal(err)
	}
	raw("after a write on users")

	// A repository write that fails at the end of its statement (the foreign key check of the changed row runs
	// after its audit row), in a savepoint: nothing of it remains.
	if _, err := tx.Exec(ctx, "SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Appointment.Update(c.Ctx, db.UpdateAppointmentParams{ID: c.Appt1, PatientID: c.Patient1, DentistID: -1,
		Date: pgDate(2026, 3, 2), Time: pgTime(9), Type: "checkup", Status: "scheduled"})
	if pgtest.SQLState(err) != "23503" {
		t.Fatalf("update with a missing dentist: %v, want a foreign key violation", err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	raw("after a failed write")

	// A claim names its statement: a successful repository write on appointments does not cover the raw
	// write of the next statement, though the claim's setting lasts until the transaction ends.
	if _, err := r.Appointment.UpdateStatus(c.Ctx, db.UpdateAppointmentStatusParams{ID: c.Appt1, Status: "confirmed"}); err != nil {
		t.Fatal(err)
	}
	raw("after a write on appointments")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, row := range clinictest.Since(t, c.Reviewer, mark) {
		if row.TargetTable == "appointments" && row.TargetID == c.Appt2 {
			got = append(got, row.ActorKind)
		}
	}
	if want := slices.Repeat([]string{"unattributed"}, len(raws)); !slices.Equal(got, want) {
		t.Errorf("raw writes %q left rows of kinds %q, want %q", raws, got, want)
	}
	if n := clinictest.Count(t, c.Reviewer, "id > $1 AND target_table = 'appointments' AND target_id = $2", mark, c.Appt1); n != 1 {
		t.Errorf("appointment %d: %d audit rows, want the UpdateStatus's only (the failed update's rolled back)", c.Appt1, n)
	}
}

// TestRawMatchesRepository: a raw write and the repository's write of the same change leave the same audit row
// (patients, action, images, changed fields), but for the actor and the record's own id. Both run in one
// transaction, so now() is the same for both; the rows are compared once it commits.
func TestRawMatchesRepository(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	ctx := t.Context()
	tx, err := c.App.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	r := repo.New(tx)

	// pair is a repository row and a raw row to compare: the n-th audit row of each record.
	type pair struct {
		what, table string
		a, b        int64
		n           int
		self        bool // the table's rows are their own patient (users)
		ignore      []string
	}
	var pairs []pair
	mustID := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := tx.QueryRow(ctx, sql, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", firstLine(sql), err)
		}
		return id
	}
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if err := execAs(tx, sql, args...); err != nil {
			t.Fatalf("%s: %v", firstLine(sql), err)
		}
	}

	// Appointments: a redacted column, a direct patient column, a change of patient.
	ap := db.CreateAppointmentParams{PatientID: c.Patient1, DentistID: c.Dentist, ClinicID: pgtype.Int8{Int64: c.ClinicID, Valid: true},
		Date: pgDate(2026, 9, 1), Time: pgTime(14), Type: "cleaning", Status: "scheduled", Notes: "secret"}
	a, err := r.Appointment.Create(c.Ctx, ap)
	if err != nil {
		t.Fatal(err)
	}
	b := mustID(`INSERT INTO appointments (patient_id, dentist_id, clinic_id, date, time, type, status, notes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, ap.PatientID, ap.DentistID, ap.ClinicID, ap.Date, ap.Time, ap.Type, ap.Status, ap.Notes)
	pairs = append(pairs, pair{what: "appointment create", table: "appointments", a: a.ID, b: b, n: 0})
	up := db.UpdateAppointmentParams{ID: a.ID, PatientID: c.Patient2, DentistID: c.Dentist, ClinicID: ap.ClinicID, Date: ap.Date,
		Time: ap.Time, Type: "filling", Status: "confirmed", Notes: "other secret"}
	if _, err := r.Appointment.Update(c.Ctx, up); err != nil {
		t.Fatal(err)
	}
	mustExec(`UPDATE appointments SET patient_id = $2, dentist_id = $3, clinic_id = $4, date = $5, time = $6, type = $7, status = $8,
		notes = $9, updated_at = now() WHERE id = $1`, b, up.PatientID, up.DentistID, up.ClinicID, up.Date, up.Time, up.Type, up.Status, up.Notes)
	pairs = append(pairs, pair{what: "appointment update", table: "appointments", a: a.ID, b: b, n: 1})

	// Invoices: the patient through the appointment, before and after a move to another appointment.
	inv, err := r.Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: pgNumeric("40.00"), Status: "open", DueDate: pgDate(2026, 10, 1)})
	if err != nil {
		t.Fatal(err)
	}
	invB := mustID("INSERT INTO invoices (appointment_id, amount, status, due_date) VALUES ($1, $2, $3, $4) RETURNING id",
		c.Appt1, pgNumeric("40.00"), "open", pgDate(2026, 10, 1))
	pairs = append(pairs, pair{what: "invoice create", table: "invoices", a: inv.ID, b: invB, n: 0})
	if _, err := r.Invoice.Update(c.Ctx, db.UpdateInvoiceParams{ID: inv.ID, AppointmentID: c.Appt2, Amount: pgNumeric("41.00"), Status: "paid", DueDate: inv.DueDate}); err != nil {
		t.Fatal(err)
	}
	mustExec("UPDATE invoices SET appointment_id = $2, amount = $3, status = $4, due_date = $5, updated_at = now() WHERE id = $1",
		invB, c.Appt2, pgNumeric("41.00"), "paid", inv.DueDate)
	pairs = append(pairs, pair{what: "invoice update", table: "invoices", a: inv.ID, b: invB, n: 1})
	if err := r.Invoice.Delete(c.Ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	mustExec("DELETE FROM invoices WHERE id = $1", invB)
	pairs = append(pairs, pair{what: "invoice delete", table: "invoices", a: inv.ID, b: invB, n: 2})

	// Users: excluded columns, a patient only when user_type = 'patient'.
	u, err := r.User.Create(c.Ctx, db.CreateUserParams{Username: "same-a", Email: "s@x", Password: "pw-a", AuthToken: pgtype.Text{String: "tok", Valid: true}, UserType: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	uB := mustID("INSERT INTO users (username, email, password, auth_token, user_type) VALUES ('same-b', 's@x', 'pw-b', 'tok', 'staff') RETURNING id")
	pairs = append(pairs, pair{what: "user create", table: "users", a: u.ID, b: uB, n: 0, self: true, ignore: []string{"username"}})
	if _, err := r.User.Update(c.Ctx, db.UpdateUserParams{ID: u.ID, Email: "t@x", UserType: "patient", Role: "", FirstName: "F", LastName: "L"}); err != nil {
		t.Fatal(err)
	}
	mustExec("UPDATE users SET email = 't@x', user_type = 'patient', role = '', first_name = 'F', last_name = 'L', updated_at = now() WHERE id = $1", uB)
	pairs = append(pairs, pair{what: "user update", table: "users", a: u.ID, b: uB, n: 1, self: true, ignore: []string{"username"}})
	// An excluded column: the password change is named the same way.
	if _, err := r.User.UpdatePassword(c.Ctx, db.UpdateUserPasswordParams{ID: u.ID, Password: "pw-a2"}); err != nil {
		t.Fatal(err)
	}
	mustExec("UPDATE users SET password = 'pw-b2', auth_token = NULL, updated_at = now() WHERE id = $1", uB)
	pairs = append(pairs, pair{what: "user password", table: "users", a: u.ID, b: uB, n: 2, self: true, ignore: []string{"username"}})
	if err := r.User.Delete(c.Ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	mustExec("DELETE FROM users WHERE id = $1", uB)
	pairs = append(pairs, pair{what: "user delete", table: "users", a: u.ID, b: uB, n: 3, self: true, ignore: []string{"username"}})

	// Intake forms: a redacted column among many.
	fp := db.CreatePatientIntakeFormParams{PatientID: c.Patient2, Allergies: "latex", Medications: "none", InsurancePolicy: "POL-1", Smoker: true,
		Pregnant: pgtype.Bool{Bool: false, Valid: true}}
	f, err := r.PatientIntakeForm.Create(c.Ctx, fp)
	if err != nil {
		t.Fatal(err)
	}
	fB := mustID(`INSERT INTO patient_intake_forms (patient_id, allergies, medications, insurance_policy, smoker, pregnant)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, fp.PatientID, fp.Allergies, fp.Medications, fp.InsurancePolicy, fp.Smoker, fp.Pregnant)
	pairs = append(pairs, pair{what: "intake form create", table: "patient_intake_forms", a: f.ID, b: fB, n: 0})
	if err := r.PatientIntakeForm.Delete(c.Ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	mustExec("DELETE FROM patient_intake_forms WHERE id = $1", fB)
	pairs = append(pairs, pair{what: "intake form delete", table: "patient_intake_forms", a: f.ID, b: fB, n: 1})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	sess := appSession(t, c.App)
	for _, p := range pairs {
		ta, tb := clinictest.Record(t, c.Reviewer, p.table, p.a), clinictest.Record(t, c.Reviewer, p.table, p.b)
		if len(ta) <= p.n || len(tb) <= p.n {
			t.Errorf("%s: trails of %d audit rows (repository) and %d (raw), want more than %d", p.what, len(ta), len(tb), p.n)
			continue
		}
		ra, rb := ta[p.n], tb[p.n]
		if ra.ActorKind != "user" {
			t.Errorf("%s: the repository's row is %s's, want the user's", p.what, ra.ActorKind)
		}
		checkUnattributed(t, p.what, rb, sess)
		// Both rows carry the same server facts: one transaction, one session.
		if ra.TransactionID != rb.TransactionID || ra.DBRole != rb.DBRole || ra.Application != rb.Application || !reflect.DeepEqual(ra.ClientAddr, rb.ClientAddr) {
			t.Errorf("%s: server facts differ: %v/%s/%s/%v and %v/%s/%s/%v", p.what, ra.TransactionID, ra.DBRole, ra.Application, ra.ClientAddr,
				rb.TransactionID, rb.DBRole, rb.Application, rb.ClientAddr)
		}
		// A row that is its own patient (users) names itself.
		pat := func(r clinictest.Row, v *int64) string {
			if p.self && v != nil && *v == r.TargetID {
				return "self"
			}
			return ptrStr(v)
		}
		if ra.Action != rb.Action || pat(ra, ra.PatientID) != pat(rb, rb.PatientID) || pat(ra, ra.PriorPatientID) != pat(rb, rb.PriorPatientID) {
			t.Errorf("%s: repository %v\nraw        %v", p.what, ra, rb)
		}
		norm := func(ch map[string]any) string {
			for _, k := range []string{"after", "before", "deleted_record"} {
				if img, ok := ch[k].(map[string]any); ok {
					for _, i := range append([]string{"id"}, p.ignore...) {
						delete(img, i)
					}
				}
			}
			b, _ := json.Marshal(ch)
			return string(b)
		}
		if na, nb := norm(ra.Ch), norm(rb.Ch); na != nb {
			t.Errorf("%s: changes differ:\nrepository %s\nraw        %s", p.what, na, nb)
		}
	}
	// Both password changes name the excluded columns (compared above), and only them: updated_at = now() is
	// the transaction's start, unchanged within it.
	if rows := clinictest.Record(t, c.Reviewer, "users", uB); len(rows) != 4 || !sameSet(rows[2].Changed(), []string{"password", "auth_token"}) {
		t.Errorf("raw password change: trail %v, want its UPDATE naming password and auth_token", rows)
	}
}
