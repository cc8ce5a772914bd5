package integration_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// Scenario 14: repositories built on the caller's pgx.Tx: the changes and their audit rows commit or roll back
// together, and carry the transaction's id.
func TestCallerTransaction(t *testing.T) {
	t.Parallel()
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			rows, n := clinictest.RowCount(t, f.App, k.table), clinictest.Count(t, f.Reviewer, "true")

			// Rolled back: nothing of create + update remains.
			tx, err := f.App.Begin(t.Context())
			mustNil(t, "begin", err)
			c, err := k.create(f.Ctx, f, repo.New(tx))
			mustNil(t, "create in tx", err)
			_, err = k.update(f.Ctx, f, repo.New(tx), c.id, 1)
			mustNil(t, "update in tx", err)
			// The audit rows are the transaction's: nobody else sees them before it commits (the application
			// role cannot read the trail at all, so the reviewer looks from outside).
			if got := clinictest.Count(t, f.Reviewer, "true"); got != n {
				t.Errorf("before the commit, the reviewer sees %d audit rows, want the %d committed ones", got, n)
			}
			mustNil(t, "rollback", tx.Rollback(t.Context()))
			if exists(t, f.App, k.table, c.id) || clinictest.RowCount(t, f.App, k.table) != rows {
				t.Errorf("%s/%d survived the rollback", k.table, c.id)
			}
			if got := clinictest.Count(t, f.Reviewer, "true"); got != n {
				t.Errorf("audit_log has %d more rows after the rollback", got-n)
			}

			// Committed: both changes and both audit rows, in the same transaction.
			tx, err = f.App.Begin(t.Context())
			mustNil(t, "begin", err)
			var xid uint64
			mustNil(t, "xid", tx.QueryRow(t.Context(), "SELECT pg_current_xact_id()::text::bigint").Scan(&xid))
			c, err = k.create(f.Ctx, f, repo.New(tx))
			mustNil(t, "create in tx", err)
			after, err := k.update(f.Ctx, f, repo.New(tx), c.id, 1)
			mustNil(t, "update in tx", err)
			mustNil(t, "commit", tx.Commit(t.Context()))
			tr := clinictest.Record(t, f.Reviewer, k.table, c.id)
			if len(tr) != 2 {
				t.Fatalf("%d audit rows after commit, want CREATE and UPDATE", len(tr))
			}
			for i, action := range []string{"CREATE", "UPDATE"} {
				checkRow(t, tr[i], action, k.table, c.id, c.patient, null)
				checkActor(t, tr[i], f.Actor)
				if tr[i].TransactionID != xid {
					t.Errorf("%s row: transaction_id %d, want the caller's %d", action, tr[i].TransactionID, xid)
				}
			}
			checkImage(t, "after", tr[1].Ch["after"], after)

			// A rolled back delete leaves the record and no DELETE row.
			tx, err = f.App.Begin(t.Context())
			mustNil(t, "begin", err)
			mustNil(t, "delete in tx", k.del(f.Ctx, repo.New(tx), c.id))
			mustNil(t, "rollback", tx.Rollback(t.Context()))
			if !exists(t, f.App, k.table, c.id) {
				t.Errorf("%s/%d gone after a rolled back delete", k.table, c.id)
			}
			if got := len(clinictest.Record(t, f.Reviewer, k.table, c.id)); got != 2 {
				t.Errorf("%d audit rows after a rolled back delete, want 2", got)
			}
		})
	}
}

// The design's claim that Update locks and re-reads the row: concurrent updates of one record form an unbroken
// chain in which each row's before image is the previous row's after image (no lost or stale before image).
func TestConcurrentUpdatesChain(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	c, err := kitByName("DentalRecord").create(f.Ctx, f, f.R)
	mustNil(t, "create", err)
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, err := f.R.DentalRecord.Update(f.Ctx, db.UpdateDentalRecordParams{ID: c.id, PatientID: f.Patient1,
					DentistID: f.Dentist, Diagnosis: fmt.Sprintf("w%d-%d", w, i), Treatment: "t"})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustNil(t, "concurrent update", err)
	}
	// Each UPDATE's before is the previous row's after, from the CREATE on, and the record is the last after.
	rows := f.CheckChain(t, "dental_records", c.id, nil, true)
	if len(rows) != 1+workers*each {
		t.Fatalf("%d audit rows, want %d", len(rows), 1+workers*each)
	}
}
