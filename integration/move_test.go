package integration_test

import (
	"fmt"
	"testing"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// An invoice's patient is its appointment's: moving the appointment to another patient moves the invoice, and
// the same statement writes a MOVE row for it, filed under the new patient with the old one as prior patient,
// by the repository (with the claim's actor) and by raw SQL (unattributed). Both patients' trails show it.
func TestDerivedPatientMoves(t *testing.T) {
	c := clinictest.New(t)
	inv, err := c.R.Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("90.00"), Status: "open",
		DueDate: date(2026, 2, 1)})
	if err != nil {
		t.Fatal(err)
	}
	appt, err := c.Q.GetAppointment(t.Context(), c.Appt1)
	if err != nil {
		t.Fatal(err)
	}
	appt.PatientID = c.Patient2
	if _, err := c.R.Appointment.Update(c.Ctx, db.UpdateAppointmentParams{ID: appt.ID, PatientID: appt.PatientID, DentistID: appt.DentistID,
		ClinicID: appt.ClinicID, Date: appt.Date, Time: appt.Time, Type: appt.Type, Status: appt.Status, Notes: appt.Notes}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.App.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient1, c.Appt1); err != nil {
		t.Fatal(err)
	}
	rows := clinictest.Trail(t, c.Reviewer, "target_table = 'invoices' AND target_id = $1 AND action = 'MOVE'", inv.ID)
	if len(rows) != 2 {
		t.Fatalf("invoice %d has %d MOVE rows, want 2: %v", inv.ID, len(rows), rows)
	}
	for i, want := range []struct {
		kind     string
		to, from int64
	}{{"user", c.Patient2, c.Patient1}, {"unattributed", c.Patient1, c.Patient2}} {
		r := rows[i]
		if r.ActorKind != want.kind || r.PatientID == nil || *r.PatientID != want.to || r.PriorPatientID == nil || *r.PriorPatientID != want.from {
			t.Errorf("MOVE row %d: %s, patient %v, prior %v; want %s from %d to %d", r.ID, r.ActorKind, r.PatientID, r.PriorPatientID, want.kind, want.from, want.to)
		}
		by, _ := r.Ch["moved_by"].(map[string]any)
		if by["table"] != "appointments" || by["column"] != "patient_id" || fmt.Sprint(by["id"]) != fmt.Sprint(c.Appt1) {
			t.Errorf("MOVE row %d: moved_by %v, want appointments.patient_id of %d", r.ID, by, c.Appt1)
		}
	}
	// Each patient's accounting finds the invoice's move.
	for _, p := range []int64{c.Patient1, c.Patient2} {
		n := 0
		for _, r := range clinictest.Patient(t, c.Reviewer, p) {
			if r.TargetTable == "invoices" && r.Action == "MOVE" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("patient %d's trail has %d MOVE rows of the invoice, want 2", p, n)
		}
	}
	// A status change moves nothing.
	before := len(clinictest.All(t, c.Reviewer))
	if _, err := c.App.Exec(t.Context(), "UPDATE appointments SET status = 'confirmed' WHERE id = $1", c.Appt1); err != nil {
		t.Fatal(err)
	}
	if got := len(clinictest.All(t, c.Reviewer)) - before; got != 1 {
		t.Errorf("a status change wrote %d rows, want 1 (its UPDATE)", got)
	}
}
