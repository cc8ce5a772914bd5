// Package clinictest is the clinic's test kit: one fixture builder and one trail reader for every test of the
// clinic (integration/, reliability/, cmd/). Tests get their own migrated database (internal/testdb), reach it as
// the role whose powers they exercise, and read the trail as the reviewer role would.
package clinictest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/testdb"
	"github.com/auditrepo/auditrepo/migrations"
)

// Row is one audit row with its changes decoded (numbers as json.Number).
type Row struct {
	ID             int64
	OccurredAt     time.Time
	TransactionID  uint64
	DBRole         string
	ClientAddr     *netip.Addr
	Application    string
	ActorKind      string
	ActorID        *int64
	IP             *netip.Addr
	UserAgent      *string
	RequestID      *string
	Method         *string
	Action         string
	TargetTable    string
	TargetID       int64
	PatientID      *int64
	PriorPatientID *int64
	Changes        []byte         // as PostgreSQL returned them
	Ch             map[string]any // decoded
}

// Image returns the record image the row describes: after for CREATE/UPDATE, deleted_record for DELETE.
func (r Row) Image() map[string]any {
	key := "after"
	if r.Action == "DELETE" {
		key = "deleted_record"
	}
	m, _ := r.Ch[key].(map[string]any)
	return m
}

func (r Row) String() string {
	p := func(v *int64) string {
		if v == nil {
			return "NULL"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("#%d %s %s/%d kind=%s patient=%s prior=%s %s", r.ID, r.Action, r.TargetTable, r.TargetID, r.ActorKind,
		p(r.PatientID), p(r.PriorPatientID), r.Changes)
}

// Changed returns the row's changed_fields.
func (r Row) Changed() []string {
	var out []string
	for _, f := range asSlice(r.Ch["changed_fields"]) {
		s, _ := f.(string)
		out = append(out, s)
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

const columns = `id, occurred_at, transaction_id::text::numeric::bigint, db_role, client_addr, application, actor_kind, actor_id, ip,
	user_agent, request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes::text`

// Trail returns the audit rows that match where (SQL over the audit table's columns, with args), in id order.
// q should connect as the reviewer (or a superuser).
func Trail(t testing.TB, q audit.DBTX, where string, args ...any) []Row {
	t.Helper()
	rows, err := q.Query(context.Background(), "SELECT "+columns+" FROM "+migrations.Audit.QualifiedTable()+" WHERE "+where+" ORDER BY id", args...)
	if err != nil {
		t.Fatalf("reading the trail (%s): %v", where, err)
	}
	out, err := scan(rows)
	if err != nil {
		t.Fatalf("reading the trail (%s): %v", where, err)
	}
	return out
}

// Record returns the audit rows of one record, oldest first.
func Record(t testing.TB, q audit.DBTX, table string, id int64) []Row {
	t.Helper()
	return Trail(t, q, "target_table = $1 AND target_id = $2", table, id)
}

// Patient returns a patient's trail: rows filed under them and rows of records moved away from them.
func Patient(t testing.TB, q audit.DBTX, patient int64) []Row {
	t.Helper()
	return Trail(t, q, "patient_id = $1 OR prior_patient_id = $1", patient)
}

// All returns every audit row.
func All(t testing.TB, q audit.DBTX) []Row {
	t.Helper()
	return Trail(t, q, "true")
}

func scan(rows pgx.Rows) ([]Row, error) {
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var tx int64
		var ch string
		if err := rows.Scan(&r.ID, &r.OccurredAt, &tx, &r.DBRole, &r.ClientAddr, &r.Application, &r.ActorKind, &r.ActorID, &r.IP,
			&r.UserAgent, &r.RequestID, &r.Method, &r.Action, &r.TargetTable, &r.TargetID, &r.PatientID, &r.PriorPatientID, &ch); err != nil {
			return nil, err
		}
		r.TransactionID, r.Changes = uint64(tx), []byte(ch)
		d := json.NewDecoder(bytes.NewReader(r.Changes))
		d.UseNumber()
		if err := d.Decode(&r.Ch); err != nil {
			return nil, fmt.Errorf("audit row %d: changes %s: %w", r.ID, ch, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Clinic is one test's database with two patients, a dentist, a clinic and one appointment per patient, all
// created through the repositories as a system actor.
type Clinic struct {
	*testdb.DB
	Q     *db.Queries // plain sqlc on the application role's pool
	R     *repo.Repos // strict repositories on the application role's pool
	Ctx   context.Context
	Actor audit.Actor     // the staff user acting in Ctx
	Sys   context.Context // a system actor ("fixture"), as the fixture rows were written

	Patient1, Patient2, Dentist int64
	ClinicID                    int64
	Appt1, Appt2                int64 // appointments of Patient1 and Patient2

	// Set by AddRecords: one record of Patient1 in each other PHI table (the invoice through Appt1).
	DentalRecord, Billing, Invoice, Plan, Doc, Intake int64
}

// Option configures New.
type Option func(*options)

type options struct {
	maxConns int32
	tweaks   []func(*pgxpool.Config)
}

// PoolSize makes App (and R, Q over it) a pool of maxConns connections with tweaks applied to its
// configuration, for tests that need more connections than the default or other session settings.
func PoolSize(maxConns int32, tweaks ...func(*pgxpool.Config)) Option {
	return func(o *options) { o.maxConns, o.tweaks = maxConns, tweaks }
}

// New gives t its own migrated database and the fixture rows.
func New(t testing.TB, opts ...Option) *Clinic {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	d := testdb.New(t)
	c := &Clinic{DB: d}
	if o.maxConns > 0 {
		d.App = c.AppPool(t, o.maxConns, o.tweaks...)
	}
	c.Q, c.R = db.New(d.App), repo.New(d.App)
	sys := audit.WithSystem(context.Background(), "fixture")
	c.Sys = sys
	user := func(name, typ, role string) int64 {
		u, err := c.R.User.Create(sys, db.CreateUserParams{
			Username: name, Email: name + "@test.com", Password: "fixture-pass", UserType: typ, Role: role,
		})
		if err != nil {
			t.Fatalf("fixture user %s: %v", name, err)
		}
		return u.ID
	}
	c.Patient1 = user("patient1", "patient", "")
	c.Patient2 = user("patient2", "patient", "")
	c.Dentist = user("dentist1", "staff", "dentist")
	loc, err := c.Q.CreateClinicLocation(context.Background(), db.CreateClinicLocationParams{Name: "Test Clinic", Address: "123 Test St"})
	if err != nil {
		t.Fatalf("fixture clinic: %v", err)
	}
	c.ClinicID = loc.ID
	c.Appt1 = c.Appointment(t, sys, db.CreateAppointmentParams{PatientID: c.Patient1}).ID
	c.Appt2 = c.Appointment(t, sys, db.CreateAppointmentParams{PatientID: c.Patient2}).ID
	c.Actor = audit.Actor{
		UserID: c.Dentist, Kind: audit.KindUser, IP: netip.MustParseAddr("192.168.1.100"),
		UserAgent: "TestClient/1.0", RequestID: "req-42",
	}
	c.Ctx = audit.WithActor(context.Background(), c.Actor)
	return c
}

// Appointment creates an appointment through the repositories as ctx's actor (c.Sys writes as the fixture, c.Ctx
// as the staff user) and fails t if it cannot: the one builder of appointments for New and the tests. Fields p
// leaves zero are the fixture's: Patient1, the dentist and the clinic, 2026-01-05 at 09:00, type "fixture",
// status "scheduled" (so the clinic cannot be left NULL); notes stay as p has them.
func (c *Clinic) Appointment(t testing.TB, ctx context.Context, p db.CreateAppointmentParams) db.Appointment {
	t.Helper()
	if p.PatientID == 0 {
		p.PatientID = c.Patient1
	}
	if p.DentistID == 0 {
		p.DentistID = c.Dentist
	}
	if !p.ClinicID.Valid {
		p.ClinicID = pgtype.Int8{Int64: c.ClinicID, Valid: true}
	}
	if !p.Date.Valid {
		p.Date = pgtype.Date{Time: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Valid: true}
	}
	if !p.Time.Valid {
		p.Time = pgtype.Time{Microseconds: 9 * 3600e6, Valid: true}
	}
	if p.Type == "" {
		p.Type = "fixture"
	}
	if p.Status == "" {
		p.Status = "scheduled"
	}
	a, err := c.R.Appointment.Create(ctx, p)
	if err != nil {
		t.Fatalf("creating an appointment of patient %d: %v", p.PatientID, err)
	}
	return a
}

// AddRecords writes, through the repositories as the fixture's system actor, one record of Patient1 in each
// PHI table New leaves empty: a dental record, a billing, an invoice (of Appt1), a treatment plan, a document and
// an intake form (with a redacted insurance policy). It returns c.
func (c *Clinic) AddRecords(t testing.TB) *Clinic {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fixture %s: %v", what, err)
		}
	}
	num := func(s string) pgtype.Numeric {
		var n pgtype.Numeric
		must("numeric "+s, n.Scan(s))
		return n
	}
	rec, err := c.R.DentalRecord.Create(c.Sys, db.CreateDentalRecordParams{PatientID: c.Patient1, DentistID: c.Dentist, Diagnosis: "caries"})
	must("dental record", err)
	bill, err := c.R.Billing.Create(c.Sys, db.CreateBillingParams{PatientID: c.Patient1, Amount: num("80.00"), Status: "pending"})
	must("billing", err)
	inv, err := c.R.Invoice.Create(c.Sys, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("80.00"), Status: "open",
		DueDate: pgtype.Date{Time: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Valid: true}})
	must("invoice", err)
	plan, err := c.R.TreatmentPlan.Create(c.Sys, db.CreateTreatmentPlanParams{PatientID: c.Patient1, DentistID: c.Dentist, Title: "filling", Status: "proposed"})
	must("treatment plan", err)
	doc, err := c.R.Document.Create(c.Sys, db.CreateDocumentParams{PatientID: c.Patient1, DocumentType: "xray", Filename: "a.png", StoragePath: "s3://b/a.png"})
	must("document", err)
	form, err := c.R.PatientIntakeForm.Create(c.Sys, db.CreatePatientIntakeFormParams{PatientID: c.Patient1, Allergies: "none", InsurancePolicy: "fixture-secret-policy"})
	must("intake form", err)
	c.DentalRecord, c.Billing, c.Invoice, c.Plan, c.Doc, c.Intake = rec.ID, bill.ID, inv.ID, plan.ID, doc.ID, form.ID
	return c
}
