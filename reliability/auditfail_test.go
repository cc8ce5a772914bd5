package reliability_test

// Audit write failure: when the audit insert fails, every repository write that would write an audit row
// fails with audit.ErrAuditWrite, no PHI row changes, and nothing panics. Raw writes fail too: the backstop
// inserts into the same table.

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
)

func TestAuditWriteFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		breakSQL string // run as the owner
		state    string // SQLSTATE of the failure
		// nonPHIFails: a nonphi-only update, which writes no audit row, fails too: the privilege is checked
		// for every table the statement names, before it runs.
		nonPHIFails bool
	}{
		{"check constraint", "ALTER TABLE audit_log ADD CONSTRAINT audit_log_refuse_all CHECK (false) NOT VALID", "23514", false},
		{"revoked insert", "REVOKE INSERT ON audit_log FROM auditrepo_app", "42501", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClinic(t)
			// Every write kind of the repositories, each of which writes an audit row when it succeeds.
			writes := []struct {
				name string
				run  func() error
			}{
				{"User.Create", func() error {
					_, err := c.r.User.Create(c.user, db.CreateUserParams{Username: "new", Email: "n@x", Password: "pw", UserType: "patient"})
					return err
				}},
				{"User.CreateMany", func() error {
					_, err := c.r.User.CreateMany(c.user, []db.CreateUserParams{
						{Username: "m1", Email: "m@x", Password: "pw", UserType: "patient"},
						{Username: "m2", Email: "m@x", Password: "pw", UserType: "staff"}})
					return err
				}},
				{"User.Update", func() error {
					_, err := c.r.User.Update(c.user, db.UpdateUserParams{ID: c.patient1, Email: "changed@x", UserType: "patient"})
					return err
				}},
				{"Appointment.Create", func() error {
					_, err := c.r.Appointment.Create(c.user, db.CreateAppointmentParams{PatientID: c.patient1, DentistID: c.dentist,
						Date: pgDate(2026, 5, 1), Time: pgTime(10), Type: "x", Status: "scheduled"})
					return err
				}},
				{"Appointment.CreateMany", func() error {
					p := db.CreateAppointmentParams{PatientID: c.patient1, DentistID: c.dentist, Date: pgDate(2026, 5, 1), Time: pgTime(10), Type: "x", Status: "scheduled"}
					_, err := c.r.Appointment.CreateMany(c.user, []db.CreateAppointmentParams{p, p, p})
					return err
				}},
				{"Appointment.Update", func() error {
					_, err := c.r.Appointment.Update(c.user, db.UpdateAppointmentParams{ID: c.appt1, PatientID: c.patient2, DentistID: c.dentist,
						Date: pgDate(2026, 3, 2), Time: pgTime(9), Type: "checkup", Status: "confirmed", Notes: "changed"})
					return err
				}},
				{"Appointment.UpdateStatus", func() error {
					_, err := c.r.Appointment.UpdateStatus(c.user, db.UpdateAppointmentStatusParams{ID: c.appt2, Status: "cancelled"})
					return err
				}},
				{"Invoice.Update", func() error {
					_, err := c.r.Invoice.Update(c.user, db.UpdateInvoiceParams{ID: c.invoice, AppointmentID: c.appt2, Amount: pgNumeric("1.00"), Status: "void", DueDate: pgDate(2026, 4, 1)})
					return err
				}},
				{"Invoice.Delete", func() error { return c.r.Invoice.Delete(c.user, c.invoice) }},
				{"DentalRecord.Delete", func() error { return c.r.DentalRecord.Delete(c.user, c.record) }},
				{"Billing.CreateMany", func() error {
					_, err := c.r.Billing.CreateMany(c.user, []db.CreateBillingParams{{PatientID: c.patient1, Amount: pgNumeric("5.00"), Status: "pending"}})
					return err
				}},
				{"TreatmentPlan.Update", func() error {
					_, err := c.r.TreatmentPlan.Update(c.user, db.UpdateTreatmentPlanParams{ID: c.plan, PatientID: c.patient1, DentistID: c.dentist, Title: "t2", Status: "accepted"})
					return err
				}},
				{"Document.Delete", func() error { return c.r.Document.Delete(c.user, c.doc) }},
				{"PatientIntakeForm.Update", func() error {
					_, err := c.r.PatientIntakeForm.Update(c.user, db.UpdatePatientIntakeFormParams{ID: c.intake, Allergies: "nuts", InsurancePolicy: "p2"})
					return err
				}},
				{"PatientIntakeForm.Delete", func() error { return c.r.PatientIntakeForm.Delete(c.user, c.intake) }},
			}

			before := tableImages(t, c.owner, guardedTables)
			if err := execAs(c.owner, tc.breakSQL); err != nil {
				t.Fatalf("breaking the audit table: %v", err)
			}
			for _, w := range writes {
				err := noPanic(w.run)
				var ae *audit.Error
				switch {
				case !errors.Is(err, audit.ErrAuditWrite):
					t.Errorf("%s: %v, want an error matching audit.ErrAuditWrite", w.name, err)
				case !errors.As(err, &ae) || sqlState(err) != tc.state:
					t.Errorf("%s: %v: want an *audit.Error with the cause's SQLSTATE %s, got %q", w.name, err, tc.state, sqlState(err))
				}
			}
			// In a transaction the failure aborts it; nothing is committed.
			tx, err := c.app.Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			_, err = repo.New(tx).Appointment.UpdateStatus(c.user, db.UpdateAppointmentStatusParams{ID: c.appt1, Status: "completed"})
			if !errors.Is(err, audit.ErrAuditWrite) {
				t.Errorf("in a transaction: %v, want audit.ErrAuditWrite", err)
			}
			_ = tx.Rollback(t.Context())

			// A raw write cannot slip past either: its backstop row fails the same way.
			for _, sql := range []string{
				fmt.Sprintf("UPDATE appointments SET status = 'completed' WHERE id = %d", c.appt1),
				fmt.Sprintf("DELETE FROM documents WHERE id = %d", c.doc),
				fmt.Sprintf("INSERT INTO billings (patient_id, amount) VALUES (%d, 1)", c.patient1),
			} {
				if err := execAs(c.app, sql); sqlState(err) != tc.state {
					t.Errorf("raw %s: %v, want SQLSTATE %s", sql, err, tc.state)
				}
			}
			if after := tableImages(t, c.owner, guardedTables); !maps.Equal(before, after) {
				for _, tab := range guardedTables {
					if before[tab] != after[tab] {
						t.Errorf("%s changed although no audit row could be written:\nbefore %s\nafter  %s", tab, before[tab], after[tab])
					}
				}
			}

			// A nonphi-only change writes no audit row: a failing constraint does not stop it.
			_, err = c.r.User.UpdateLastLogin(c.user, db.UpdateUserLastLoginParams{ID: c.patient1})
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
