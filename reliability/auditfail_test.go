package reliability_test

// Audit write failure: when the audit insert fails, every repository write that would write an audit row
// fails with audit.ErrAuditWrite, no PHI row changes, and nothing panics. Raw writes fail too: the same
// triggers write their unattributed rows. Only the superuser can break the audit table: nobody else may touch it.

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/migrations"
)

func TestAuditWriteFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		breakSQL string // run as the superuser
		state    string // SQLSTATE of the failure
		// nonPHIFails: a nonphi-only update, which writes no audit row, fails too: the trigger's INSERT runs
		// (inserting no row), and its privilege is checked before it runs.
		nonPHIFails bool
	}{
		{"check constraint", "ALTER TABLE " + migrations.Audit.QualifiedTable() + " ADD CONSTRAINT audit_log_refuse_all CHECK (false) NOT VALID", "23514", false},
		// The trigger functions run as the writer role: take its INSERT away (on the view it inserts through).
		{"revoked insert", "REVOKE INSERT ON " + migrations.Audit.QualifiedWritesView() + " FROM " + migrations.Audit.Writer, "42501", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := clinictest.New(t).AddRecords(t)
			// Every write kind of the repositories, each of which writes an audit row when it succeeds.
			writes := []struct {
				name string
				run  func() error
			}{
				{"User.Create", func() error {
					_, err := c.R.User.Create(c.Ctx, db.CreateUserParams{Username: "new", Email: "n@x", Password: "pw", UserType: "patient"})
					return err
				}},
				{"User.CreateMany", func() error {
					_, err := c.R.User.CreateMany(c.Ctx, []db.CreateUserParams{
						{Username: "m1", Email: "m@x", Password: "pw", UserType: "patient"},
						{Username: "m2", Email: "m@x", Password: "pw", UserType: "staff"}})
					return err
				}},
				{"User.Update", func() error {
					_, err := c.R.User.Update(c.Ctx, db.UpdateUserParams{ID: c.Patient1, Email: "changed@x", UserType: "patient"})
					return err
				}},
				{"Appointment.Create", func() error {
					_, err := c.R.Appointment.Create(c.Ctx, db.CreateAppointmentParams{PatientID: c.Patient1, DentistID: c.Dentist,
						Date: pgDate(2026, 5, 1), Time: pgTime(10), Type: "x", Status: "scheduled"})
					return err
				}},
				{"Appointment.CreateMany", func() error {
					p := db.CreateAppointmentParams{PatientID: c.Patient1, DentistID: c.Dentist, Date: pgDate(2026, 5, 1), Time: pgTime(10), Type: "x", Status: "scheduled"}
					_, err := c.R.Appointment.CreateMany(c.Ctx, []db.CreateAppointmentParams{p, p, p})
					return err
				}},
				{"Appointment.Update", func() error {
					_, err := c.R.Appointment.Update(c.Ctx, db.UpdateAppointmentParams{ID: c.Appt1, PatientID: c.Patient2, DentistID: c.Dentist,
						Date: pgDate(2026, 3, 2), Time: pgTime(9), Type: "checkup", Status: "confirmed", Notes: "changed"})
					return err
				}},
				{"Appointment.UpdateStatus", func() error {
					_, err := c.R.Appointment.UpdateStatus(c.Ctx, db.UpdateAppointmentStatusParams{ID: c.Appt2, Status: "cancelled"})
					return err
				}},
				{"Invoice.Update", func() error {
					_, err := c.R.Invoice.Update(c.Ctx, db.UpdateInvoiceParams{ID: c.Invoice, AppointmentID: c.Appt2, Amount: pgNumeric("1.00"), Status: "void", DueDate: pgDate(2026, 4, 1)})
					return err
				}},
				{"Invoice.Delete", func() error { return c.R.Invoice.Delete(c.Ctx, c.Invoice) }},
				{"DentalRecord.Delete", func() error { return c.R.DentalRecord.Delete(c.Ctx, c.DentalRecord) }},
				{"Billing.CreateMany", func() error {
					_, err := c.R.Billing.CreateMany(c.Ctx, []db.CreateBillingParams{{PatientID: c.Patient1, Amount: pgNumeric("5.00"), Status: "pending"}})
					return err
				}},
				{"TreatmentPlan.Update", func() error {
					_, err := c.R.TreatmentPlan.Update(c.Ctx, db.UpdateTreatmentPlanParams{ID: c.Plan, PatientID: c.Patient1, DentistID: c.Dentist, Title: "t2", Status: "accepted"})
					return err
				}},
				{"Document.Delete", func() error { return c.R.Document.Delete(c.Ctx, c.Doc) }},
				{"PatientIntakeForm.Update", func() error {
					_, err := c.R.PatientIntakeForm.Update(c.Ctx, db.UpdatePatientIntakeFormParams{ID: c.Intake, Allergies: "nuts", InsurancePolicy: "p2"})
					return err
				}},
				{"PatientIntakeForm.Delete", func() error { return c.R.PatientIntakeForm.Delete(c.Ctx, c.Intake) }},
			}

			before := clinictest.Snapshot(t, c.Super, guardedTables...)
			if err := execAs(c.Super, tc.breakSQL); err != nil {
				t.Fatalf("breaking the audit table: %v", err)
			}
			for _, w := range writes {
				err := noPanic(w.run)
				var ae *audit.Error
				switch {
				case !errors.Is(err, audit.ErrAuditWrite):
					t.Errorf("%s: %v, want an error matching audit.ErrAuditWrite", w.name, err)
				case !errors.As(err, &ae) || pgtest.SQLState(err) != tc.state:
					t.Errorf("%s: %v: want an *audit.Error with the cause's SQLSTATE %s, got %q", w.name, err, tc.state, pgtest.SQLState(err))
				}
			}
			// In a transaction the failure aborts it; nothing is committed.
			tx, err := c.App.Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			_, err = repo.New(tx).Appointment.UpdateStatus(c.Ctx, db.UpdateAppointmentStatusParams{ID: c.Appt1, Status: "completed"})
			if !errors.Is(err, audit.ErrAuditWrite) {
				t.Errorf("in a transaction: %v, want audit.ErrAuditWrite", err)
			}
			_ = tx.Rollback(t.Context())

			// A raw write cannot slip past either: its unattributed row fails the same way.
			for _, sql := range []string{
				fmt.Sprintf("UPDATE appointments SET status = 'completed' WHERE id = %d", c.Appt1),
				fmt.Sprintf("DELETE FROM documents WHERE id = %d", c.Doc),
				fmt.Sprintf("INSERT INTO billings (patient_id, amount) VALUES (%d, 1)", c.Patient1),
				"INSERT INTO users (username, email, password, user_type) VALUES ('patient1', 'x', 'y', 'patient') ON CONFLICT (username) DO UPDATE SET first_name = 'Upserted'",
				fmt.Sprintf(`MERGE INTO treatment_plans p USING (VALUES (%d::bigint)) AS s(id) ON p.id = s.id
					WHEN MATCHED THEN UPDATE SET title = 'merged'`, c.Plan),
			} {
				if err := execAs(c.App, sql); pgtest.SQLState(err) != tc.state {
					t.Errorf("raw %s: %v, want SQLSTATE %s", firstLine(sql), err, tc.state)
				}
			}
			_, err = c.App.CopyFrom(t.Context(), pgx.Identifier{"dental_records"}, []string{"patient_id", "dentist_id", "diagnosis"},
				pgx.CopyFromRows([][]any{{c.Patient1, c.Dentist, "copied"}}))
			if pgtest.SQLState(err) != tc.state {
				t.Errorf("raw COPY: %v, want SQLSTATE %s", err, tc.state)
			}
			// Nothing changed, as no audit row could be written.
			clinictest.Unchanged(t, c.Super, before)

			// A nonphi-only change writes no audit row: a failing constraint does not stop it.
			_, err = c.R.User.UpdateLastLogin(c.Ctx, db.UpdateUserLastLoginParams{ID: c.Patient1})
			if tc.nonPHIFails != errors.Is(err, audit.ErrAuditWrite) || (!tc.nonPHIFails && err != nil) {
				t.Errorf("nonphi-only update: %v; want audit.ErrAuditWrite: %v", err, tc.nonPHIFails)
			}
		})
	}
}

// noPanic runs f and turns a panic into an error, so one panicking write kind does not hide the others.
func noPanic(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}

// A table whose audit triggers were never installed (a new model deployed before repo.Install ran) has no claim
// function either: its repository writes fail with audit.ErrNotInstalled, changing nothing, instead of writing no
// audit row.
func TestTriggersNotInstalled(t *testing.T) {
	t.Parallel()
	c := clinictest.New(t).AddRecords(t)
	before := clinictest.Snapshot(t, c.Super, guardedTables...)
	m := clinictest.MaxID(t, c.Reviewer)
	if err := execAs(c.Super, `DROP TRIGGER audit_insert ON billings; DROP TRIGGER audit_update ON billings; DROP TRIGGER audit_delete ON billings;
		DROP FUNCTION auditrepo_claim.claim_public_billings(text, text)`); err != nil {
		t.Fatal(err)
	}
	_, err := c.R.Billing.Create(c.Ctx, db.CreateBillingParams{PatientID: c.Patient1, Amount: pgNumeric("5.00"), Status: "pending"})
	if !errors.Is(err, audit.ErrNotInstalled) || errors.Is(err, audit.ErrAuditWrite) {
		t.Errorf("Billing.Create without triggers: %v, want audit.ErrNotInstalled", err)
	}
	_, err = c.R.Billing.CreateMany(c.Ctx, []db.CreateBillingParams{{PatientID: c.Patient1, Amount: pgNumeric("5.00"), Status: "pending"}})
	if !errors.Is(err, audit.ErrNotInstalled) {
		t.Errorf("Billing.CreateMany without triggers: %v, want audit.ErrNotInstalled", err)
	}
	clinictest.Unchanged(t, c.Super, before)
	if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 0 {
		t.Errorf("%d audit rows", len(rows))
	}
	// Installing the models puts both back.
	if err := repo.Install(t.Context(), c.Super, migrations.Audit); err != nil {
		t.Fatal(err)
	}
	if _, err := c.R.Billing.Create(c.Ctx, db.CreateBillingParams{PatientID: c.Patient1, Amount: pgNumeric("5.00"), Status: "pending"}); err != nil {
		t.Errorf("Billing.Create after installing: %v", err)
	}
	if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 1 {
		t.Errorf("%d audit rows after installing, want 1", len(rows))
	}
}
