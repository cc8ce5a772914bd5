package reliability_test

// Helpers of the role, backstop and audit-failure tests: a per-test database reached as the application role
// and as the owner, fixture rows in every PHI table, readers of the audit trail and of whole tables.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/testdb"
)

// phiTables are the tables of gen/repo's models; guardedTables adds the others the application may write.
var (
	phiTables = []string{"users", "appointments", "dental_records", "billings", "invoices", "treatment_plans",
		"documents", "patient_intake_forms"}
	guardedTables = append([]string{"clinic_locations", "audit_log"}, phiTables...)
)

// clinic is one test's database with a row in every PHI table, written through the repositories as a system
// actor. app and owner are connected as auditrepo_app and as the migrating role (a member of auditrepo_owner).
type clinic struct {
	app, owner *pgxpool.Pool
	r          *repo.Repos // strict repositories over app
	q          *db.Queries // sqlc over app
	sys, user  context.Context

	patient1, patient2, dentist, clinicID int64
	appt1, appt2                          int64 // of patient1 and patient2
	record, billing, invoice, plan, doc   int64 // of patient1 (the invoice through appt1)
	intake                                int64 // of patient1
}

func newClinic(t *testing.T) *clinic {
	t.Helper()
	d := testdb.New(t)
	c := &clinic{app: d.App, owner: d.Owner, r: repo.New(d.App), q: db.New(d.App)}
	c.sys = audit.WithSystem(t.Context(), "guard-fixture")
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fixture %s: %v", what, err)
		}
	}
	user := func(name, typ string) int64 {
		u, err := c.r.User.Create(c.sys, db.CreateUserParams{Username: name, Email: name + "@test.example",
			Password: "fixture-secret-pw", UserType: typ})
		must("user "+name, err)
		return u.ID
	}
	c.patient1, c.patient2, c.dentist = user("patient1", "patient"), user("patient2", "patient"), user("dentist", "staff")
	loc, err := c.q.CreateClinicLocation(t.Context(), db.CreateClinicLocationParams{Name: "Clinic", Address: "1 Test St"})
	must("clinic", err)
	c.clinicID = loc.ID
	appt := func(patient int64) int64 {
		a, err := c.r.Appointment.Create(c.sys, db.CreateAppointmentParams{PatientID: patient, DentistID: c.dentist,
			ClinicID: pgtype.Int8{Int64: c.clinicID, Valid: true}, Date: pgDate(2026, 3, 2), Time: pgTime(9), Type: "checkup",
			Status: "scheduled", Notes: "fixture-secret-note"})
		must("appointment", err)
		return a.ID
	}
	c.appt1, c.appt2 = appt(c.patient1), appt(c.patient2)
	rec, err := c.r.DentalRecord.Create(c.sys, db.CreateDentalRecordParams{PatientID: c.patient1, DentistID: c.dentist, Diagnosis: "caries"})
	must("dental record", err)
	bill, err := c.r.Billing.Create(c.sys, db.CreateBillingParams{PatientID: c.patient1, Amount: pgNumeric("80.00"), Status: "pending"})
	must("billing", err)
	inv, err := c.r.Invoice.Create(c.sys, db.CreateInvoiceParams{AppointmentID: c.appt1, Amount: pgNumeric("80.00"), Status: "open", DueDate: pgDate(2026, 4, 1)})
	must("invoice", err)
	plan, err := c.r.TreatmentPlan.Create(c.sys, db.CreateTreatmentPlanParams{PatientID: c.patient1, DentistID: c.dentist, Title: "filling", Status: "proposed"})
	must("treatment plan", err)
	doc, err := c.r.Document.Create(c.sys, db.CreateDocumentParams{PatientID: c.patient1, DocumentType: "xray", Filename: "a.png", StoragePath: "s3://b/a.png"})
	must("document", err)
	form, err := c.r.PatientIntakeForm.Create(c.sys, db.CreatePatientIntakeFormParams{PatientID: c.patient1, Allergies: "none", InsurancePolicy: "fixture-secret-policy"})
	must("intake form", err)
	c.record, c.billing, c.invoice, c.plan, c.doc, c.intake = rec.ID, bill.ID, inv.ID, plan.ID, doc.ID, form.ID
	c.user = audit.WithActor(t.Context(), audit.Actor{UserID: c.dentist, Kind: audit.KindUser, UserAgent: "guard/1"})
	return c
}

func pgDate(y, m, d int) pgtype.Date {
	var v pgtype.Date
	_ = v.Scan(fmt.Sprintf("%04d-%02d-%02d", y, m, d))
	return v
}

func pgTime(hour int) pgtype.Time {
	return pgtype.Time{Microseconds: int64(hour) * 3600e6, Valid: true}
}

func pgNumeric(s string) pgtype.Numeric {
	var v pgtype.Numeric
	_ = v.Scan(s)
	return v
}

// logRow is one audit_log row; Ch is its changes, decoded.
type logRow struct {
	ID             int64
	ActorID        *int64
	ActorKind      string
	IP, UserAgent  *string
	RequestID      *string
	Action         string
	TargetTable    string
	TargetID       int64
	PatientID      *int64
	PriorPatientID *int64
	Raw            string
	Ch             map[string]any
}

// logSince returns the audit rows with an id above after, in id order.
func logSince(t *testing.T, q db.DBTX, after int64) []logRow {
	t.Helper()
	rows, err := q.Query(context.Background(), `SELECT id, actor_id, actor_kind, host(ip), user_agent, request_id, action,
		target_table, target_id, patient_id, prior_patient_id, changes::text FROM audit_log WHERE id > $1 ORDER BY id`, after)
	if err != nil {
		t.Fatalf("reading audit_log: %v", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (logRow, error) {
		var r logRow
		err := row.Scan(&r.ID, &r.ActorID, &r.ActorKind, &r.IP, &r.UserAgent, &r.RequestID, &r.Action, &r.TargetTable,
			&r.TargetID, &r.PatientID, &r.PriorPatientID, &r.Raw)
		if err == nil {
			err = json.Unmarshal([]byte(r.Raw), &r.Ch)
		}
		return r, err
	})
	if err != nil {
		t.Fatalf("reading audit_log: %v", err)
	}
	return out
}

// lastLogID is the highest audit_log id (0 when empty): pass it to logSince to see what a step wrote.
func lastLogID(t *testing.T, q db.DBTX) int64 {
	t.Helper()
	var id int64
	if err := q.QueryRow(context.Background(), "SELECT coalesce(max(id), 0) FROM audit_log").Scan(&id); err != nil {
		t.Fatalf("max audit id: %v", err)
	}
	return id
}

func (r logRow) String() string {
	return fmt.Sprintf("#%d %s %s/%d kind=%s patient=%s prior=%s %s", r.ID, r.Action, r.TargetTable, r.TargetID, r.ActorKind,
		ptrStr(r.PatientID), ptrStr(r.PriorPatientID), r.Raw)
}

func ptrStr[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

func eqPtr(p *int64, want int64, valid bool) bool {
	if !valid {
		return p == nil
	}
	return p != nil && *p == want
}

// tableImages returns the whole content of every table in tables, as JSON text per table.
func tableImages(t *testing.T, q db.DBTX, tables []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tab := range tables {
		var s string
		err := q.QueryRow(context.Background(), fmt.Sprintf(
			"SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.id), '[]')::text FROM %s x", pgx.Identifier{tab}.Sanitize())).Scan(&s)
		if err != nil {
			t.Fatalf("reading %s: %v", tab, err)
		}
		out[tab] = s
	}
	return out
}

// sqlState is the SQLSTATE of err, or "" when err carries none.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// execAs runs one statement on q and returns its error.
func execAs(q db.DBTX, sql string, args ...any) error {
	_, err := q.Exec(context.Background(), sql, args...)
	return err
}

// queryIDs runs a statement that returns ids (INSERT ... RETURNING id).
func queryIDs(t *testing.T, q db.DBTX, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := q.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", firstLine(sql), err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", firstLine(sql), err)
	}
	return ids
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
