package integration_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

var null = pgtype.Int8{}

// Scenario 1: a create writes exactly one CREATE row with the after image and the context's actor.
func TestCreateWritesOneAuditRow(t *testing.T) {
	t.Parallel()
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			n := clinictest.Count(t, f.Reviewer, "true")
			c, err := k.create(f.Ctx, f, f.R)
			mustNil(t, "create", err)
			if got := clinictest.Count(t, f.Reviewer, "true"); got != n+1 {
				t.Errorf("audit_log grew by %d rows, want 1", got-n)
			}
			rows := clinictest.Record(t, f.Reviewer, k.table, c.id)
			if len(rows) != 1 {
				t.Fatalf("%d audit rows for %s/%d, want 1", len(rows), k.table, c.id)
			}
			r := rows[0]
			checkRow(t, r, "CREATE", k.table, c.id, c.patient, null)
			checkActor(t, r, f.Actor)
			checkKeys(t, r, "after")
			checkImage(t, "after", r.Ch["after"], c.img)
		})
	}
}

// Scenario 2: an update writes one row with before, after and exactly the changed columns.
func TestUpdateWritesBeforeAfterAndChangedFields(t *testing.T) {
	t.Parallel()
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			c, err := k.create(f.Ctx, f, f.R)
			mustNil(t, "create", err)
			n := clinictest.Count(t, f.Reviewer, "true")
			after, err := k.update(f.Ctx, f, f.R, c.id, 1)
			mustNil(t, "update", err)
			if got := clinictest.Count(t, f.Reviewer, "true"); got != n+1 {
				t.Errorf("audit_log grew by %d rows, want 1", got-n)
			}
			rows := clinictest.Record(t, f.Reviewer, k.table, c.id)
			if len(rows) != 2 {
				t.Fatalf("%d audit rows, want CREATE and UPDATE", len(rows))
			}
			r := rows[1]
			checkRow(t, r, "UPDATE", k.table, c.id, c.patient, null)
			checkActor(t, r, f.Actor)
			checkKeys(t, r, "before", "after", "changed_fields")
			checkImage(t, "before", r.Ch["before"], c.img)
			checkImage(t, "after", r.Ch["after"], after)
			checkChanged(t, r, k.changed)
		})
	}
}

// Scenario 3: a delete writes one row with the deleted record, and the record is gone.
func TestDeleteWritesDeletedRecord(t *testing.T) {
	t.Parallel()
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			c, err := k.create(f.Ctx, f, f.R)
			mustNil(t, "create", err)
			mustNil(t, "delete", k.del(f.Ctx, f.R, c.id))
			if exists(t, f.App, k.table, c.id) {
				t.Errorf("%s/%d still exists after Delete", k.table, c.id)
			}
			rows := clinictest.Record(t, f.Reviewer, k.table, c.id)
			if len(rows) != 2 {
				t.Fatalf("%d audit rows, want CREATE and DELETE", len(rows))
			}
			r := rows[1]
			checkRow(t, r, "DELETE", k.table, c.id, c.patient, null)
			checkActor(t, r, f.Actor)
			checkKeys(t, r, "deleted_record")
			checkImage(t, "deleted_record", r.Ch["deleted_record"], c.img)
		})
	}
}

// Scenario 4 (the direct-column models and a patient's own user row are covered by scenarios 1-3): staff users
// have no patient, invoices find theirs through the appointment, and a user changing type moves between the two.
func TestPatientID(t *testing.T) {
	t.Parallel()
	t.Run("staff user is NULL", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		u, err := f.R.User.Create(f.Ctx, db.CreateUserParams{Username: "hygienist", Email: "h@test.com",
			Password: secretPassword, UserType: "staff", Role: "hygienist"})
		mustNil(t, "create", err)
		_, err = f.R.User.Update(f.Ctx, db.UpdateUserParams{ID: u.ID, Email: "h2@test.com", UserType: "staff", Role: "hygienist"})
		mustNil(t, "update", err)
		mustNil(t, "delete", f.R.User.Delete(f.Ctx, u.ID))
		rows := clinictest.Record(t, f.Reviewer, "users", u.ID)
		if len(rows) != 3 {
			t.Fatalf("%d audit rows, want 3", len(rows))
		}
		for i, action := range []string{"CREATE", "UPDATE", "DELETE"} {
			checkRow(t, rows[i], action, "users", u.ID, null, null)
		}
	})
	t.Run("invoice through appointment", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		inv, err := f.R.Invoice.Create(f.Ctx, db.CreateInvoiceParams{AppointmentID: f.Appt2, Amount: num("99.90"),
			Status: "open", DueDate: date(2026, 7, 1)})
		mustNil(t, "create", err)
		_, err = f.R.Invoice.Update(f.Ctx, db.UpdateInvoiceParams{ID: inv.ID, AppointmentID: f.Appt2,
			Amount: num("89.90"), Status: "open", DueDate: date(2026, 7, 1)})
		mustNil(t, "update", err)
		mustNil(t, "delete", f.R.Invoice.Delete(f.Ctx, inv.ID))
		rows := clinictest.Record(t, f.Reviewer, "invoices", inv.ID)
		if len(rows) != 3 {
			t.Fatalf("%d audit rows, want 3", len(rows))
		}
		for i, action := range []string{"CREATE", "UPDATE", "DELETE"} {
			checkRow(t, rows[i], action, "invoices", inv.ID, some(f.Patient2), null)
		}
	})
	t.Run("user changing type", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		u, err := f.R.User.Create(f.Ctx, db.CreateUserParams{Username: "switcher", Email: "s@test.com",
			Password: secretPassword, UserType: "patient"})
		mustNil(t, "create", err)
		for _, typ := range []string{"staff", "patient"} {
			_, err = f.R.User.Update(f.Ctx, db.UpdateUserParams{ID: u.ID, Email: "s@test.com", UserType: typ})
			mustNil(t, "update to "+typ, err)
		}
		rows := clinictest.Record(t, f.Reviewer, "users", u.ID)
		if len(rows) != 3 {
			t.Fatalf("%d audit rows, want 3", len(rows))
		}
		checkRow(t, rows[0], "CREATE", "users", u.ID, some(u.ID), null)
		checkRow(t, rows[1], "UPDATE", "users", u.ID, null, some(u.ID)) // no longer a patient: the trail keeps it
		checkRow(t, rows[2], "UPDATE", "users", u.ID, some(u.ID), null)
		checkChanged(t, rows[1], []string{"user_type", "updated_at"})
		if got := ids(clinictest.Patient(t, f.Reviewer, u.ID)); !equalIDs(got, ids(rows)) {
			t.Errorf("ListPatientAudit(%d) = %v, want all three rows %v", u.ID, got, ids(rows))
		}
	})
}

// Scenario 5: an update moving a record to another patient names both, and both patients' trails show it.
func TestMoveToAnotherPatient(t *testing.T) {
	t.Parallel()
	for _, k := range kits() {
		if k.move == nil {
			continue // PatientIntakeForm: its update query cannot change patient_id
		}
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			c, err := k.create(f.Ctx, f, f.R)
			mustNil(t, "create", err)
			after, err := k.move(f.Ctx, f, f.R, c.id)
			mustNil(t, "move", err)
			_, err = k.update(f.Ctx, f, f.R, c.id, 1) // patient1's values again, so it moves back
			mustNil(t, "update", err)

			rows := clinictest.Record(t, f.Reviewer, k.table, c.id)
			if len(rows) != 3 {
				t.Fatalf("%d audit rows, want 3", len(rows))
			}
			mv, back := rows[1], rows[2]
			checkRow(t, mv, "UPDATE", k.table, c.id, some(f.Patient2), some(f.Patient1))
			checkImage(t, "before", mv.Ch["before"], c.img)
			checkImage(t, "after", mv.Ch["after"], after)
			checkChanged(t, mv, k.moveChanged)
			checkRow(t, back, "UPDATE", k.table, c.id, some(f.Patient1), some(f.Patient2))

			p1, p2 := ids(clinictest.Patient(t, f.Reviewer, f.Patient1)), ids(clinictest.Patient(t, f.Reviewer, f.Patient2))
			for _, r := range rows {
				if !containsID(p1, r.ID) {
					t.Errorf("ListPatientAudit(patient1) lacks %s row %d", r.Action, r.ID)
				}
			}
			if !containsID(p2, mv.ID) || !containsID(p2, back.ID) {
				t.Errorf("ListPatientAudit(patient2) = %v, want both moves %d and %d", p2, mv.ID, back.ID)
			}
			if containsID(p2, rows[0].ID) {
				t.Errorf("ListPatientAudit(patient2) has the CREATE row %d made while the record was patient1's", rows[0].ID)
			}
		})
	}
}

// Scenario 7 (test_multiple_saves_create_multiple_logs): each update writes its own row, in order, and each
// row's before image is the previous row's after image.
func TestMultipleUpdatesWriteMultipleRows(t *testing.T) {
	t.Parallel()
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			c, err := k.create(f.Ctx, f, f.R)
			mustNil(t, "create", err)
			imgs := []image{c.img}
			for v := 1; v <= 3; v++ {
				img, err := k.update(f.Ctx, f, f.R, c.id, v)
				mustNil(t, "update", err)
				imgs = append(imgs, img)
			}
			rows := clinictest.Record(t, f.Reviewer, k.table, c.id)
			if len(rows) != 4 {
				t.Fatalf("%d audit rows, want 1 CREATE + 3 UPDATE", len(rows))
			}
			checkRow(t, rows[0], "CREATE", k.table, c.id, c.patient, null)
			for v := 1; v <= 3; v++ {
				r := rows[v]
				checkRow(t, r, "UPDATE", k.table, c.id, c.patient, null)
				checkImage(t, "before", r.Ch["before"], imgs[v-1])
				checkImage(t, "after", r.Ch["after"], imgs[v])
				checkChanged(t, r, k.changed)
				if r.OccurredAt.Before(rows[v-1].OccurredAt) || r.TransactionID == rows[v-1].TransactionID {
					t.Errorf("row %d: occurred_at %v / transaction %d not after row %d's %v / %d", r.ID,
						r.OccurredAt, r.TransactionID, rows[v-1].ID, rows[v-1].OccurredAt, rows[v-1].TransactionID)
				}
			}
		})
	}
}

// Scenario 12: updating or deleting a missing record is ErrNotFound and writes nothing.
func TestMissingRecordIsNotFound(t *testing.T) {
	t.Parallel()
	const missing = 1 << 40
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			n := clinictest.Count(t, f.Reviewer, "true")
			_, err := k.update(f.Ctx, f, f.R, missing, 1)
			checkKind(t, "Update", err, audit.ErrNotFound, audit.ActionUpdate, k.table)
			err = k.del(f.Ctx, f.R, missing)
			checkKind(t, "Delete", err, audit.ErrNotFound, audit.ActionDelete, k.table)
			if got := clinictest.Count(t, f.Reviewer, "true"); got != n {
				t.Errorf("audit_log grew by %d rows, want 0", got-n)
			}
		})
	}
}

// checkKind checks that err is an *audit.Error of kind want for action on table.
func checkKind(t *testing.T, what string, err, want error, action audit.Action, table string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
		return
	}
	var ae *audit.Error
	if !errors.As(err, &ae) || ae.Action != action || ae.Table != table {
		t.Errorf("%s: err = %#v, want *audit.Error for %s %s", what, err, action, table)
	}
	for _, other := range []error{audit.ErrNotFound, audit.ErrAuditWrite, audit.ErrNoActor} {
		if other != want && errors.Is(err, other) {
			t.Errorf("%s: err = %v also matches %v", what, err, other)
		}
	}
}

func ids(rows []clinictest.Row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
