package integration_test

import (
	"context"
	"slices"
	"testing"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// A query that changes many rows (sqlc :many) locks and audits each row like a single update does, returns the
// changed rows, and finding none is not an error.
func TestUpdateManyAuditsEachRow(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	second := f.Appointment(t, f.Ctx, db.CreateAppointmentParams{Type: "cleaning", Status: "scheduled"}).ID
	done := f.Appointment(t, f.Ctx, db.CreateAppointmentParams{Type: "cleaning", Status: "completed"}).ID

	got, err := f.R.Appointment.CancelScheduled(f.Ctx, f.Patient1)
	mustNil(t, "CancelScheduled", err)
	var ids []int64
	for _, a := range got {
		ids = append(ids, a.ID)
		if a.Status != "cancelled" {
			t.Errorf("returned appointment %d has status %q, want cancelled", a.ID, a.Status)
		}
	}
	slices.Sort(ids)
	if want := []int64{f.Appt1, second}; !slices.Equal(ids, want) {
		t.Fatalf("CancelScheduled returned appointments %v, want %v", ids, want)
	}
	for _, id := range ids {
		rows := clinictest.Record(t, f.Reviewer, "appointments", id)
		if len(rows) != 2 {
			t.Errorf("appointment %d: %d audit rows, want CREATE and UPDATE", id, len(rows))
			continue
		}
		r := rows[1]
		checkRow(t, r, "UPDATE", "appointments", id, some(f.Patient1), null)
		checkActor(t, r, f.Actor)
		checkChanged(t, r, []string{"status", "updated_at"})
		before, _ := r.Ch["before"].(map[string]any)
		after, _ := r.Ch["after"].(map[string]any)
		if before["status"] != "scheduled" || after["status"] != "cancelled" {
			t.Errorf("appointment %d: status %v -> %v, want scheduled -> cancelled", id, before["status"], after["status"])
		}
	}
	for _, id := range []int64{done, f.Appt2} {
		if rows := clinictest.Record(t, f.Reviewer, "appointments", id); len(rows) != 1 {
			t.Errorf("appointment %d was not to be cancelled but has %d audit rows, want its CREATE only", id, len(rows))
		}
	}

	before := clinictest.Count(t, f.Reviewer, "true")
	got, err = f.R.Appointment.CancelScheduled(f.Ctx, f.Patient1)
	if err != nil || len(got) != 0 {
		t.Errorf("CancelScheduled with nothing left = %v, %v; want no rows and no error", got, err)
	}
	if n := clinictest.Count(t, f.Reviewer, "true"); n != before {
		t.Errorf("CancelScheduled with nothing left wrote %d audit rows", n-before)
	}
}

// A second session cancelling the same patient's appointments while the first holds them: it waits for the
// first's row locks, then finds the rows no longer scheduled, so each appointment is cancelled and audited once.
func TestUpdateManyWaitsForLockedRows(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	const n = 5
	for range n - 1 { // appt1 is the first
		f.Appointment(t, f.Ctx, db.CreateAppointmentParams{Type: "checkup", Status: "scheduled"})
	}
	before := clinictest.Count(t, f.Reviewer, "true")
	tx, err := f.App.Begin(f.Ctx)
	mustNil(t, "Begin", err)
	defer tx.Rollback(context.Background())
	first, err := repo.New(tx).Appointment.CancelScheduled(f.Ctx, f.Patient1)
	mustNil(t, "CancelScheduled in the transaction", err)
	if len(first) != n {
		t.Fatalf("first CancelScheduled changed %d appointments, want %d", len(first), n)
	}

	type result struct {
		rows []db.Appointment
		err  error
	}
	second := make(chan result, 1)
	go func() {
		rows, err := f.R.Appointment.CancelScheduled(f.Ctx, f.Patient1)
		second <- result{rows, err}
	}()
	// Commit only once the second statement waits for the row locks, so the test covers that path.
	pgtest.WaitLockWaits(t, f.App, 0, 1, nil)
	mustNil(t, "Commit", tx.Commit(f.Ctx))
	r := <-second
	if r.err != nil || len(r.rows) != 0 {
		t.Errorf("second CancelScheduled = %d rows, %v; want none, no error", len(r.rows), r.err)
	}
	if got := clinictest.Count(t, f.Reviewer, "true") - before; got != n {
		t.Errorf("%d audit rows, want one per appointment (%d)", got, n)
	}
}
