package integration_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// An invoice's patient is its appointment's: moving the appointment to another patient moves the invoice, and
// the same statement writes a MOVE row for it, filed under the new patient with the old one as prior patient,
// by the repository (with the claim's actor) and by raw SQL (unattributed): one MOVE row per invoice, each
// statement. Both patients' trails show them.
func TestDerivedPatientMoves(t *testing.T) {
	c := clinictest.New(t)
	// Three invoices of the appointment that moves, one of an appointment that stays.
	var moved []int64
	for _, amount := range []string{"90.00", "15.50", "0.01"} {
		inv, err := c.R.Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num(amount), Status: "open",
			DueDate: date(2026, 2, 1)})
		if err != nil {
			t.Fatal(err)
		}
		moved = append(moved, inv.ID)
	}
	other, err := c.R.Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt2, Amount: num("7.00"), Status: "open",
		DueDate: date(2026, 2, 1)})
	if err != nil {
		t.Fatal(err)
	}
	appt, err := c.Q.GetAppointment(t.Context(), c.Appt1)
	if err != nil {
		t.Fatal(err)
	}
	appt.PatientID = c.Patient2
	m := clinictest.MaxID(t, c.Reviewer)
	if _, err := c.R.Appointment.Update(c.Ctx, db.UpdateAppointmentParams{ID: appt.ID, PatientID: appt.PatientID, DentistID: appt.DentistID,
		ClinicID: appt.ClinicID, Date: appt.Date, Time: appt.Time, Type: appt.Type, Status: appt.Status, Notes: appt.Notes}); err != nil {
		t.Fatal(err)
	}
	m2 := clinictest.MaxID(t, c.Reviewer)
	if _, err := c.App.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient1, c.Appt1); err != nil {
		t.Fatal(err)
	}
	// Each statement wrote its appointment's UPDATE row and one MOVE row per invoice of it, no more.
	for i, span := range [][]clinictest.Row{clinictest.Trail(t, c.Reviewer, "id > $1 AND id <= $2", m, m2), clinictest.Since(t, c.Reviewer, m2)} {
		var got []string
		for _, r := range span {
			got = append(got, fmt.Sprintf("%s %s %d", r.Action, r.TargetTable, r.TargetID))
		}
		want := []string{fmt.Sprintf("UPDATE appointments %d", c.Appt1)}
		for _, id := range moved {
			want = append(want, fmt.Sprintf("MOVE invoices %d", id))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("move %d wrote %v, want %v", i+1, got, want)
		}
	}
	for _, id := range moved {
		rows := clinictest.Trail(t, c.Reviewer, "target_table = 'invoices' AND target_id = $1 AND action = 'MOVE'", id)
		if len(rows) != 2 {
			t.Errorf("invoice %d has %d MOVE rows, want 2: %v", id, len(rows), rows)
			continue
		}
		for i, want := range []struct {
			kind     string
			to, from int64
		}{{"user", c.Patient2, c.Patient1}, {"unattributed", c.Patient1, c.Patient2}} {
			r := rows[i]
			if r.ActorKind != want.kind || r.PatientID == nil || *r.PatientID != want.to || r.PriorPatientID == nil || *r.PriorPatientID != want.from {
				t.Errorf("MOVE row %d of invoice %d: %s, patient %v, prior %v; want %s from %d to %d", r.ID, id, r.ActorKind, r.PatientID, r.PriorPatientID, want.kind, want.from, want.to)
			}
			by, _ := r.Ch["moved_by"].(map[string]any)
			if by["table"] != "appointments" || by["column"] != "patient_id" || fmt.Sprint(by["id"]) != fmt.Sprint(c.Appt1) {
				t.Errorf("MOVE row %d of invoice %d: moved_by %v, want appointments.patient_id of %d", r.ID, id, by, c.Appt1)
			}
		}
	}
	if n := clinictest.Count(t, c.Reviewer, "target_table = 'invoices' AND target_id = $1 AND action = 'MOVE'", other.ID); n != 0 {
		t.Errorf("invoice %d of an appointment that did not move has %d MOVE rows", other.ID, n)
	}
	// Each patient's accounting finds every invoice's two moves.
	for _, p := range []int64{c.Patient1, c.Patient2} {
		n := map[int64]int{}
		for _, r := range clinictest.Patient(t, c.Reviewer, p) {
			if r.TargetTable == "invoices" && r.Action == "MOVE" {
				n[r.TargetID]++
			}
		}
		for _, id := range moved {
			if n[id] != 2 {
				t.Errorf("patient %d's trail has %d MOVE rows of invoice %d, want 2", p, n[id], id)
			}
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
