package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/testdb"
)

// fixture is one test's database with two patients, a dentist, a clinic and one appointment per patient.
type fixture struct {
	pool  *pgxpool.Pool
	q     *db.Queries
	r     *repo.Repos     // strict repositories on the pool
	ctx   context.Context // carries actor
	actor audit.Actor     // the staff user acting in ctx

	patient1, patient2, dentist int64
	clinic                      int64
	appt1, appt2                int64 // appointments of patient1 and patient2
}

// setup gives t its own migrated database and the fixture rows, written as a system actor.
func setup(t *testing.T) *fixture {
	t.Helper()
	pool := testdb.Pool(t)
	f := &fixture{pool: pool, q: db.New(pool), r: repo.New(pool)}
	sys := audit.WithSystem(t.Context(), "fixture")

	user := func(name, typ, role string) int64 {
		u, err := f.r.User.Create(sys, db.CreateUserParams{
			Username: name, Email: name + "@test.com", Password: "fixture-pass", UserType: typ, Role: role,
		})
		if err != nil {
			t.Fatalf("fixture user %s: %v", name, err)
		}
		return u.ID
	}
	f.patient1 = user("patient1", "patient", "")
	f.patient2 = user("patient2", "patient", "")
	f.dentist = user("dentist1", "staff", "dentist")
	c, err := f.q.CreateClinicLocation(t.Context(), db.CreateClinicLocationParams{Name: "Test Clinic", Address: "123 Test St"})
	if err != nil {
		t.Fatalf("fixture clinic: %v", err)
	}
	f.clinic = c.ID
	appt := func(patient int64) int64 {
		a, err := f.r.Appointment.Create(sys, db.CreateAppointmentParams{
			PatientID: patient, DentistID: f.dentist, ClinicID: some(f.clinic), Date: date(2026, 1, 5),
			Time: clock(9, 0), Type: "fixture", Status: "scheduled",
		})
		if err != nil {
			t.Fatalf("fixture appointment: %v", err)
		}
		return a.ID
	}
	f.appt1, f.appt2 = appt(f.patient1), appt(f.patient2)

	f.actor = audit.Actor{
		UserID: f.dentist, Kind: audit.KindUser, IP: netip.MustParseAddr("192.168.1.100"),
		UserAgent: "TestClient/1.0", RequestID: "req-42",
	}
	f.ctx = audit.WithActor(t.Context(), f.actor)
	return f
}

// adminConn connects to t's database as the superuser (the pool connects as pgtestdb's unprivileged owner role).
func adminConn(t *testing.T, f *fixture) *pgx.Conn {
	t.Helper()
	cfg := f.pool.Config().ConnConfig.Copy()
	cfg.User = cmpOr(os.Getenv("PGUSER"), "postgres")
	cfg.Password = os.Getenv("PGPASSWORD")
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// auditRow is an audit_log row with its changes decoded (numbers kept as json.Number).
type auditRow struct {
	db.AuditLog
	Ch map[string]any
}

func decodeRows(t *testing.T, rows []db.AuditLog) []auditRow {
	t.Helper()
	out := make([]auditRow, len(rows))
	for i, r := range rows {
		out[i].AuditLog = r
		d := json.NewDecoder(bytes.NewReader(r.Changes))
		d.UseNumber()
		if err := d.Decode(&out[i].Ch); err != nil {
			t.Fatalf("audit row %d: changes %s: %v", r.ID, r.Changes, err)
		}
	}
	return out
}

// trail returns the audit rows of one record, oldest first.
func trail(t *testing.T, f *fixture, table string, id int64) []auditRow {
	t.Helper()
	rows, err := f.q.ListRecordAudit(t.Context(), db.ListRecordAuditParams{TargetTable: table, TargetID: id})
	if err != nil {
		t.Fatalf("ListRecordAudit(%s, %d): %v", table, id, err)
	}
	return decodeRows(t, rows)
}

// patientTrail returns db.ListPatientAudit for a patient.
func patientTrail(t *testing.T, f *fixture, patient int64) []auditRow {
	t.Helper()
	rows, err := f.q.ListPatientAudit(t.Context(), some(patient))
	if err != nil {
		t.Fatalf("ListPatientAudit(%d): %v", patient, err)
	}
	return decodeRows(t, rows)
}

// allAudit returns every audit row, oldest first.
func allAudit(t *testing.T, q db.DBTX) []auditRow {
	t.Helper()
	rows, err := q.Query(t.Context(), "SELECT * FROM audit_log ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	logs, err := pgx.CollectRows(rows, pgx.RowToStructByName[db.AuditLog])
	if err != nil {
		t.Fatal(err)
	}
	return decodeRows(t, logs)
}

func count(t *testing.T, q db.DBTX, table string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(t.Context(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// snapshot is the whole content of a table as text, to compare before and after a failed write.
func snapshot(t *testing.T, q db.DBTX, table string) string {
	t.Helper()
	var s string
	err := q.QueryRow(t.Context(), fmt.Sprintf("SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.id), '[]')::text FROM %s x",
		pgx.Identifier{table}.Sanitize())).Scan(&s)
	if err != nil {
		t.Fatalf("snapshot %s: %v", table, err)
	}
	return s
}

func exists(t *testing.T, q db.DBTX, table string, id int64) bool {
	t.Helper()
	var ok bool
	err := q.QueryRow(t.Context(), fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE id = $1)", pgx.Identifier{table}.Sanitize()), id).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// checkRow checks an audit row's action, target and patients.
func checkRow(t *testing.T, r auditRow, action, table string, id int64, patient, prior pgtype.Int8) {
	t.Helper()
	if r.Action != action || r.TargetTable != table || r.TargetID != id {
		t.Errorf("audit row %d: %s %s/%d, want %s %s/%d", r.ID, r.Action, r.TargetTable, r.TargetID, action, table, id)
	}
	if r.PatientID != patient {
		t.Errorf("audit row %d (%s): patient_id = %s, want %s", r.ID, r.Action, i8(r.PatientID), i8(patient))
	}
	if r.PriorPatientID != prior {
		t.Errorf("audit row %d (%s): prior_patient_id = %s, want %s", r.ID, r.Action, i8(r.PriorPatientID), i8(prior))
	}
}

// checkActor checks the five actor columns against what Writer stores for a.
func checkActor(t *testing.T, r auditRow, a audit.Actor) {
	t.Helper()
	wantID := pgtype.Int8{}
	if a.Kind == audit.KindUser {
		wantID = some(a.UserID)
	}
	if r.ActorID != wantID || r.ActorKind != string(a.Kind) {
		t.Errorf("audit row %d: actor %s/%s, want %s/%s", r.ID, r.ActorKind, i8(r.ActorID), a.Kind, i8(wantID))
	}
	var gotIP netip.Addr
	if r.Ip != nil {
		gotIP = *r.Ip
	}
	if gotIP != a.IP {
		t.Errorf("audit row %d: ip = %v, want %v", r.ID, gotIP, a.IP)
	}
	if r.UserAgent != text(a.UserAgent) {
		t.Errorf("audit row %d: user_agent = %q (valid %v), want %q", r.ID, r.UserAgent.String, r.UserAgent.Valid, a.UserAgent)
	}
	if r.RequestID != text(a.RequestID) {
		t.Errorf("audit row %d: request_id = %q (valid %v), want %q", r.ID, r.RequestID.String, r.RequestID.Valid, a.RequestID)
	}
}

// image is the expected JSON image of a row: column -> value. Values are nil, string, bool, int/int64,
// json.Number (numeric columns, compared textually so the scale matters) or time.Time (compared as an instant).
type image map[string]any

func (m image) with(kv ...any) image {
	out := make(image, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// checkImage checks that got is exactly want: same keys, equal values.
func checkImage(t *testing.T, what string, got any, want image) {
	t.Helper()
	m, ok := got.(map[string]any)
	if !ok {
		t.Errorf("%s = %#v, want an object", what, got)
		return
	}
	for k, v := range m {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected key %q = %#v", what, k, v)
		}
	}
	for k, w := range want {
		g, ok := m[k]
		if !ok {
			t.Errorf("%s: missing key %q", what, k)
		} else if !jsonEq(g, w) {
			t.Errorf("%s[%q] = %#v, want %#v", what, k, g, w)
		}
	}
}

func jsonEq(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		s, ok := got.(string)
		if !ok {
			return false
		}
		g, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && g.Equal(w)
	case int64:
		n, ok := got.(json.Number)
		return ok && n.String() == strconv.FormatInt(w, 10)
	case int:
		return jsonEq(got, int64(w))
	case json.Number:
		n, ok := got.(json.Number)
		return ok && n == w
	default:
		return reflect.DeepEqual(got, want)
	}
}

// checkChanged checks changes.changed_fields as a set.
func checkChanged(t *testing.T, r auditRow, want []string) {
	t.Helper()
	raw, ok := r.Ch["changed_fields"].([]any)
	if !ok {
		t.Errorf("audit row %d: changed_fields = %#v, want a list", r.ID, r.Ch["changed_fields"])
		return
	}
	var got []string
	for _, v := range raw {
		s, _ := v.(string)
		got = append(got, s)
	}
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("audit row %d: changed_fields = %q, want %q", r.ID, got, want)
	}
}

// checkKeys checks the top-level keys of changes.
func checkKeys(t *testing.T, r auditRow, want ...string) {
	t.Helper()
	var got []string
	for k := range r.Ch {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("audit row %d: changes keys = %q, want %q", r.ID, got, want)
	}
}

func some(v int64) pgtype.Int8 { return pgtype.Int8{Int64: v, Valid: true} }

func i8(v pgtype.Int8) string {
	if !v.Valid {
		return "NULL"
	}
	return strconv.FormatInt(v.Int64, 10)
}

func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

func date(y int, m time.Month, d int) pgtype.Date {
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}

func clock(h, m int) pgtype.Time {
	return pgtype.Time{Microseconds: int64(h*3600+m*60) * 1e6, Valid: true}
}

func num(s string) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		panic(err)
	}
	return n
}

// ts is the JSON expectation of a timestamptz: its instant, or nil for NULL.
func ts(v pgtype.Timestamptz) any {
	if !v.Valid {
		return nil
	}
	return v.Time
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
