package integration_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
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

// A dependent written while another transaction moves its hop row to another patient (READ COMMITTED, each on
// its own connection) is recorded under the patient it ends with: the one that commits second waits for the
// first. Dependent after mover: the invoice's CREATE row names the new patient. Mover after dependent: the move
// writes a MOVE row for the invoice the other transaction added, and one for the invoice it changed.
func TestDerivedMoveRaces(t *testing.T) {
	t.Run("dependent waits for the move", func(t *testing.T) {
		c := clinictest.New(t, clinictest.PoolSize(4))
		kept := c.AddRecords(t).Invoice
		mover, err := c.App.Begin(t.Context())
		mustNil(t, "begin", err)
		defer mover.Rollback(t.Context())
		_, err = mover.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
		mustNil(t, "move", err)
		var created db.Invoice
		done := make(chan error, 2)
		go func() {
			var err error
			created, err = c.R.Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("12.00"),
				Status: "open", DueDate: date(2026, 3, 1)})
			done <- err
		}()
		go func() {
			_, err := c.R.Invoice.Update(c.Ctx, paid(kept, c.Appt1))
			done <- err
		}()
		pgtest.WaitLockWaits(t, c.Super, 0, 2, ended(done))
		mustNil(t, "commit the move", mover.Commit(t.Context()))
		for range 2 {
			mustNil(t, "the invoice writes", <-done)
		}
		for id, action := range map[int64]string{created.ID: "CREATE", kept: "UPDATE"} {
			rows := clinictest.Trail(t, c.Reviewer, "target_table = 'invoices' AND target_id = $1 AND action = $2", id, action)
			if len(rows) == 0 || rows[len(rows)-1].PatientID == nil || *rows[len(rows)-1].PatientID != c.Patient2 {
				t.Errorf("invoice %d written while its appointment moved to patient %d: %s rows %v", id, c.Patient2, action, rows)
			}
		}
	})
	t.Run("move waits for the dependent", func(t *testing.T) {
		c := clinictest.New(t, clinictest.PoolSize(4))
		kept := c.AddRecords(t).Invoice
		writer, err := c.App.Begin(t.Context())
		mustNil(t, "begin", err)
		defer writer.Rollback(t.Context())
		r := repo.New(writer)
		added, err := r.Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("12.00"),
			Status: "open", DueDate: date(2026, 3, 1)})
		mustNil(t, "add an invoice", err)
		_, err = r.Invoice.Update(c.Ctx, paid(kept, c.Appt1))
		mustNil(t, "update an invoice", err)
		done := make(chan error, 1)
		go func() {
			_, err := c.App.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
			done <- err
		}()
		pgtest.WaitLockWaits(t, c.Super, 0, 1, ended(done))
		mustNil(t, "commit the invoices", writer.Commit(t.Context()))
		mustNil(t, "the move", <-done)
		for _, id := range []int64{added.ID, kept} {
			rows := clinictest.Trail(t, c.Reviewer, "target_table = 'invoices' AND target_id = $1 AND action = 'MOVE'", id)
			if len(rows) != 1 || p8(rows[0].PatientID) != some(c.Patient2) || p8(rows[0].PriorPatientID) != some(c.Patient1) {
				t.Errorf("invoice %d of the moved appointment: MOVE rows %v, want one from %d to %d", id, rows, c.Patient1, c.Patient2)
			}
		}
	})
}

// Under REPEATABLE READ and SERIALIZABLE a transaction reads from its snapshot, even after waiting for another's
// lock, so neither side of a move can rely on reading what the other committed (and SERIALIZABLE's checks cover
// only SERIALIZABLE transactions). A move is refused (0A000, ErrAuditWrite through a repository): it would not see
// dependents committed after its snapshot. A dependent written after its hop row changed in a transaction
// committed since its snapshot is refused (40001), as a locking read of a row changed since then is; one written
// first makes a READ COMMITTED move wait, and the move then lists it.
func TestDerivedMoveSnapshotIsolation(t *testing.T) {
	for _, level := range []pgx.TxIsoLevel{pgx.RepeatableRead, pgx.Serializable} {
		t.Run(string(level), func(t *testing.T) { snapshotIsolation(t, pgx.TxOptions{IsoLevel: level}) })
	}
}

// READ UNCOMMITTED runs as READ COMMITTED in PostgreSQL, with a snapshot per statement: a move there is not
// refused, and writes its MOVE rows.
func TestDerivedMoveReadUncommitted(t *testing.T) {
	c := clinictest.New(t)
	inv := c.AddRecords(t).Invoice
	tx, err := c.App.BeginTx(t.Context(), pgx.TxOptions{IsoLevel: pgx.ReadUncommitted})
	mustNil(t, "begin", err)
	defer tx.Rollback(t.Context())
	_, err = tx.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
	mustNil(t, "a move under READ UNCOMMITTED", err)
	mustNil(t, "commit", tx.Commit(t.Context()))
	rows := clinictest.Trail(t, c.Reviewer, "target_table = 'invoices' AND target_id = $1 AND action = 'MOVE'", inv)
	if len(rows) != 1 || p8(rows[0].PatientID) != some(c.Patient2) {
		t.Errorf("invoice %d of the moved appointment: MOVE rows %v, want one to patient %d", inv, rows, c.Patient2)
	}
}

func snapshotIsolation(t *testing.T, rr pgx.TxOptions) {
	t.Run("move refused", func(t *testing.T) {
		c := clinictest.New(t)
		c.AddRecords(t)
		tx, err := c.App.BeginTx(t.Context(), rr)
		mustNil(t, "begin", err)
		defer tx.Rollback(t.Context())
		// A change that moves no patient is not refused.
		_, err = tx.Exec(t.Context(), "UPDATE appointments SET status = 'confirmed' WHERE id = $1", c.Appt1)
		mustNil(t, "a status change", err)
		_, err = tx.Exec(t.Context(), "SAVEPOINT s")
		mustNil(t, "savepoint", err)
		_, err = tx.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
		if pgtest.SQLState(err) != "0A000" {
			t.Fatalf("a raw move under %s: %v, want 0A000", rr.IsoLevel, err)
		}
		_, err = tx.Exec(t.Context(), "ROLLBACK TO SAVEPOINT s")
		mustNil(t, "rollback to savepoint", err)
		appt, err := c.Q.GetAppointment(t.Context(), c.Appt1)
		mustNil(t, "the appointment", err)
		appt.PatientID = c.Patient2
		_, err = repo.New(tx).Appointment.Update(c.Ctx, db.UpdateAppointmentParams{ID: appt.ID, PatientID: appt.PatientID,
			DentistID: appt.DentistID, ClinicID: appt.ClinicID, Date: appt.Date, Time: appt.Time, Type: appt.Type,
			Status: appt.Status, Notes: appt.Notes})
		if !errors.Is(err, audit.ErrAuditWrite) || pgtest.SQLState(err) != "0A000" {
			t.Fatalf("a repository move under %s: %v, want ErrAuditWrite (0A000)", rr.IsoLevel, err)
		}
	})
	t.Run("dependent after a committed move refused", func(t *testing.T) {
		c := clinictest.New(t, clinictest.PoolSize(4))
		kept := c.AddRecords(t).Invoice
		for name, write := range map[string]func(r *repo.Repos) error{
			"create": func(r *repo.Repos) error {
				_, err := r.Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("12.00"),
					Status: "open", DueDate: date(2026, 3, 1)})
				return err
			},
			"update": func(r *repo.Repos) error { _, err := r.Invoice.Update(c.Ctx, paid(kept, c.Appt1)); return err },
		} {
			writer, err := c.App.BeginTx(t.Context(), rr)
			mustNil(t, "begin", err)
			var one int
			mustNil(t, "the snapshot", writer.QueryRow(t.Context(), "SELECT 1").Scan(&one))
			to := c.Patient2
			if a, err := c.Q.GetAppointment(t.Context(), c.Appt1); err == nil && a.PatientID == c.Patient2 {
				to = c.Patient1
			}
			_, err = c.App.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", to, c.Appt1)
			mustNil(t, "the move", err)
			err = write(repo.New(writer))
			writer.Rollback(t.Context())
			if pgtest.SQLState(err) != "40001" {
				t.Errorf("%s an invoice of an appointment moved since the snapshot: %v, want 40001", name, err)
			}
		}
	})
	// Each transaction's share lock on the appointment holds back the other's update of it: PostgreSQL aborts one
	// (40P01, or 40001 under SERIALIZABLE), and the other goes on.
	t.Run("add then update, two transactions", func(t *testing.T) {
		c := clinictest.New(t, clinictest.PoolSize(4))
		txs := twoAddingInvoices(t, c, rr)
		done := make(chan error, 2)
		for i, status := range []string{"confirmed", "completed"} {
			go func() {
				_, err := txs[i].Exec(t.Context(), "UPDATE appointments SET status = $1 WHERE id = $2", status, c.Appt1)
				if err != nil {
					txs[i].Rollback(t.Context())
				} else {
					err = txs[i].Commit(t.Context())
				}
				done <- err
			}()
		}
		var codes []string
		for range 2 {
			codes = append(codes, pgtest.SQLState(<-done))
		}
		slices.Sort(codes)
		if codes[0] != "" || codes[1] != "40P01" && codes[1] != "40001" {
			t.Errorf("two transactions that added an invoice and updated its appointment: SQLSTATEs %q, want one committed and one 40P01 or 40001", codes)
		}
	})
	// Any change of the hop row since the snapshot refuses the dependent's write, not only a move: PostgreSQL
	// cannot tell them apart.
	t.Run("dependent after a committed status change refused", func(t *testing.T) {
		c := clinictest.New(t, clinictest.PoolSize(4))
		writer, err := c.App.BeginTx(t.Context(), rr)
		mustNil(t, "begin", err)
		defer writer.Rollback(t.Context())
		var one int
		mustNil(t, "the snapshot", writer.QueryRow(t.Context(), "SELECT 1").Scan(&one))
		_, err = c.App.Exec(t.Context(), "UPDATE appointments SET status = 'confirmed' WHERE id = $1", c.Appt1)
		mustNil(t, "the status change", err)
		_, err = repo.New(writer).Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("12.00"),
			Status: "open", DueDate: date(2026, 3, 1)})
		if pgtest.SQLState(err) != "40001" {
			t.Errorf("an invoice of an appointment changed since the snapshot: %v, want 40001", err)
		}
	})
	// A READ COMMITTED transaction changes the appointment, a snapshot one then waits to add an invoice, and
	// the first moves the appointment: no deadlock; the move goes through, and the invoice is refused (40001).
	t.Run("move while a dependent waits", func(t *testing.T) {
		c := clinictest.New(t, clinictest.PoolSize(4))
		mover, err := c.App.Begin(t.Context())
		mustNil(t, "begin", err)
		defer mover.Rollback(t.Context())
		_, err = mover.Exec(t.Context(), "UPDATE appointments SET status = 'confirmed' WHERE id = $1", c.Appt1)
		mustNil(t, "the status change", err)
		writer, err := c.App.BeginTx(t.Context(), rr)
		mustNil(t, "begin", err)
		defer writer.Rollback(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := repo.New(writer).Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("12.00"),
				Status: "open", DueDate: date(2026, 3, 1)})
			done <- err
		}()
		pgtest.WaitLockWaits(t, c.Super, 0, 1, ended(done))
		// Bounded: a move that waited for the dependent's transaction would deadlock with it, and the test would hang.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err = mover.Exec(ctx, "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
		mustNil(t, "the move", err)
		mustNil(t, "commit the move", mover.Commit(t.Context()))
		if err := <-done; pgtest.SQLState(err) != "40001" {
			t.Errorf("an invoice added while its appointment moved: %v, want 40001", err)
		}
	})
	t.Run("dependent first, move waits", func(t *testing.T) {
		c := clinictest.New(t, clinictest.PoolSize(4))
		c.AddRecords(t)
		writer, err := c.App.BeginTx(t.Context(), rr)
		mustNil(t, "begin", err)
		defer writer.Rollback(t.Context())
		added, err := repo.New(writer).Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("12.00"),
			Status: "open", DueDate: date(2026, 3, 1)})
		mustNil(t, "add an invoice", err)
		done := make(chan error, 1)
		go func() {
			_, err := c.App.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
			done <- err
		}()
		pgtest.WaitLockWaits(t, c.Super, 0, 1, ended(done))
		mustNil(t, "commit the invoice", writer.Commit(t.Context()))
		mustNil(t, "the move", <-done)
		rows := clinictest.Trail(t, c.Reviewer, "target_table = 'invoices' AND target_id = $1 AND action = 'MOVE'", added.ID)
		if len(rows) != 1 || p8(rows[0].PatientID) != some(c.Patient2) || p8(rows[0].PriorPatientID) != some(c.Patient1) {
			t.Errorf("invoice %d of the moved appointment: MOVE rows %v, want one from %d to %d", added.ID, rows, c.Patient1, c.Patient2)
		}
	})
}

// paid is the update that marks invoice id (of appointment appt) paid.
func paid(id, appt int64) db.UpdateInvoiceParams {
	return db.UpdateInvoiceParams{ID: id, AppointmentID: appt, Amount: num("10.00"), Status: "paid", DueDate: date(2026, 3, 1)}
}

// Two transactions that each add an invoice to the same appointment and then update it (its status) do not
// deadlock: the second update waits for the first transaction, as any two updates of one row do.
func TestAddInvoiceThenUpdateAppointment(t *testing.T) {
	c := clinictest.New(t, clinictest.PoolSize(4))
	txs := twoAddingInvoices(t, c, pgx.TxOptions{})
	// In a goroutine: were the update to wait for the other transaction's lock, the test fails, not hangs.
	first := make(chan error, 1)
	go func() {
		_, err := txs[0].Exec(t.Context(), "UPDATE appointments SET status = 'confirmed' WHERE id = $1", c.Appt1)
		first <- err
	}()
	pgtest.WaitLockWaits(t, c.Super, 0, 1, ended(first))
	if len(first) == 0 {
		t.Fatal("an update that moves no patient waits for another transaction that added an invoice")
	}
	mustNil(t, "first update", <-first)
	done := make(chan error, 1)
	go func() {
		_, err := txs[1].Exec(t.Context(), "UPDATE appointments SET status = 'completed' WHERE id = $1", c.Appt1)
		done <- err
	}()
	pgtest.WaitLockWaits(t, c.Super, 0, 1, ended(done))
	mustNil(t, "first commit", txs[0].Commit(t.Context()))
	mustNil(t, "second update", <-done)
	mustNil(t, "second commit", txs[1].Commit(t.Context()))
}

// twoAddingInvoices begins two transactions (opts) on the application's pool that have each added an invoice to
// c.Appt1 through the repositories; they roll back at the test's end unless committed.
func twoAddingInvoices(t *testing.T, c *clinictest.Clinic, opts pgx.TxOptions) [2]pgx.Tx {
	t.Helper()
	var txs [2]pgx.Tx
	for i := range txs {
		tx, err := c.App.BeginTx(t.Context(), opts)
		mustNil(t, "begin", err)
		t.Cleanup(func() { tx.Rollback(context.Background()) })
		_, err = repo.New(tx).Invoice.Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: num("5.00"),
			Status: "open", DueDate: date(2026, 3, 1)})
		mustNil(t, "add an invoice", err)
		txs[i] = tx
	}
	return txs
}

// The locks that order moves and dependents' writes are bounded: a transaction that writes dependents of 1,000
// appointments, and then moves them, holds at most 64 advisory lock keys per table of the path (each in both
// modes, here), not one per row: PostgreSQL's lock table, shared by every session, holds a few thousand.
func TestDerivedMoveLocksBounded(t *testing.T) {
	c := clinictest.New(t)
	const n, buckets = 1000, 64
	appts := make([]db.CreateAppointmentParams, n)
	for i := range appts {
		appts[i] = db.CreateAppointmentParams{PatientID: c.Patient1, DentistID: c.Dentist, Type: "bulk", Status: "scheduled",
			Date: date(2026, 4, 1), Time: clock(9, 0)}
	}
	created, err := c.R.Appointment.CreateMany(c.Ctx, appts)
	mustNil(t, "appointments", err)
	tx, err := c.App.Begin(t.Context())
	mustNil(t, "begin", err)
	defer tx.Rollback(t.Context())
	held := func(what string) {
		t.Helper()
		var locks int
		mustNil(t, "pg_locks", tx.QueryRow(t.Context(),
			"SELECT count(DISTINCT (classid, objid)) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()").Scan(&locks))
		if locks > buckets {
			t.Errorf("%s of %d appointments holds %d advisory lock keys, want at most %d", what, n, locks, buckets)
		}
	}
	invoices := make([]db.CreateInvoiceParams, n)
	ids := make([]int64, n)
	for i, a := range created {
		invoices[i] = db.CreateInvoiceParams{AppointmentID: a.ID, Amount: num("1.00"), Status: "open", DueDate: date(2026, 5, 1)}
		ids[i] = a.ID
	}
	_, err = repo.New(tx).Invoice.CreateMany(c.Ctx, invoices)
	mustNil(t, "invoices", err)
	held("adding invoices")
	_, err = tx.Exec(t.Context(), "UPDATE appointments SET patient_id = $1 WHERE id = ANY($2)", c.Patient2, ids)
	mustNil(t, "the move", err)
	held("moving the appointments")
	mustNil(t, "commit", tx.Commit(t.Context()))
	if got := clinictest.Count(t, c.Reviewer, "action = 'MOVE' AND target_table = 'invoices' AND patient_id = $1", c.Patient2); got != n {
		t.Errorf("%d MOVE rows, want %d", got, n)
	}
}
