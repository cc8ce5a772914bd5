package integration_test

import (
	"fmt"
	"maps"
	"reflect"
	"testing"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// Scenario 8 (test_bulk_create_logs_individually): CreateMany writes one CREATE row per record and returns the
// records in input order.
func TestCreateManyAuditsEachRecord(t *testing.T) {
	t.Parallel()
	const n = 50
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			before := clinictest.Count(t, f.Reviewer, "true")
			recs, wantPatient, err := k.many(f.Ctx, f, f.R, n)
			mustNil(t, "CreateMany", err)
			if len(recs) != n {
				t.Fatalf("CreateMany returned %d records, want %d", len(recs), n)
			}
			for i, rec := range recs {
				if rec.mark != k.mark(i) {
					t.Fatalf("record %d is %q, want %q: records not in input order", i, rec.mark, k.mark(i))
				}
			}
			if got := clinictest.Count(t, f.Reviewer, "true"); got != before+n {
				t.Errorf("audit_log grew by %d rows, want %d", got-before, n)
			}
			live := clinictest.LiveRows(t, f.App, k.table, k.redact)
			for i, rec := range recs {
				rows := clinictest.Record(t, f.Reviewer, k.table, rec.id)
				if len(rows) != 1 {
					t.Errorf("record %d (id %d): %d audit rows, want 1", i, rec.id, len(rows))
					continue
				}
				r := rows[0]
				checkRow(t, r, "CREATE", k.table, rec.id, wantPatient[i], null)
				checkActor(t, r, f.Actor)
				checkKeys(t, r, "after")
				after, _ := r.Ch["after"].(map[string]any)
				if got := fmt.Sprint(after[k.markCol]); got != k.mark(i) || !jsonEq(after["id"], rec.id) {
					t.Errorf("record %d: after image has %s=%s id=%v, want %s id=%d", i, k.markCol, got, after["id"], k.mark(i), rec.id)
				}
				// The image is the stored row, NULLs included, less the excluded columns and with redacted values hidden.
				want := maps.Clone(live[rec.id].Img)
				for _, col := range repo.Excluded[k.table] {
					delete(want, col)
				}
				if !reflect.DeepEqual(after, want) {
					t.Errorf("record %d: after image %s, want the stored row %s", i, clinictest.Abbrev(after), clinictest.Abbrev(want))
				}
			}
		})
	}
}

// CreateMany of nothing writes nothing; a batch with one bad record writes no record and no audit row.
func TestCreateManyEdgeCases(t *testing.T) {
	t.Parallel()
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		before := clinictest.Count(t, f.Reviewer, "true")
		for _, k := range kits() {
			recs, _, err := k.many(f.Ctx, f, f.R, 0)
			if err != nil || len(recs) != 0 {
				t.Errorf("%s: CreateMany(0) = %d records, %v; want none, nil", k.name, len(recs), err)
			}
		}
		if got := clinictest.Count(t, f.Reviewer, "true"); got != before {
			t.Errorf("audit_log grew by %d rows, want 0", got-before)
		}
	})
	t.Run("one bad record fails the batch", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		before, appts := clinictest.Count(t, f.Reviewer, "true"), clinictest.RowCount(t, f.App, "appointments")
		args := make([]db.CreateAppointmentParams, 5)
		for i := range args {
			args[i] = db.CreateAppointmentParams{PatientID: f.Patient1, DentistID: f.Dentist, Date: date(2026, 3, 1),
				Time: clock(10, 0), Type: mark(i), Status: "scheduled"}
		}
		args[3].Status = "bogus" // violates the CHECK constraint
		if _, err := f.R.Appointment.CreateMany(f.Ctx, args); err == nil {
			t.Fatal("CreateMany with an invalid status succeeded")
		}
		if got := clinictest.RowCount(t, f.App, "appointments"); got != appts {
			t.Errorf("appointments grew by %d rows, want 0", got-appts)
		}
		if got := clinictest.Count(t, f.Reviewer, "true"); got != before {
			t.Errorf("audit_log grew by %d rows, want 0", got-before)
		}
	})
}

// CreateMany passes NULLs through its arrays (the kits write NULL into every other record or so).
func TestCreateManyKeepsNulls(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	for _, tt := range []struct {
		kit, table, col string
		nulls           int // of 10 records
	}{
		{"TreatmentPlan", "treatment_plans", "estimated_cost", 5},
		{"Appointment", "appointments", "clinic_id", 6},
		{"PatientIntakeForm", "patient_intake_forms", "pregnant", 5},
	} {
		recs, _, err := kitByName(tt.kit).many(f.Ctx, f, f.R, 10)
		mustNil(t, tt.kit, err)
		var nulls, audited int
		var ids []int64
		for _, rec := range recs {
			ids = append(ids, rec.id)
			if r := clinictest.Record(t, f.Reviewer, tt.table, rec.id); len(r) == 1 {
				if after, ok := r[0].Ch["after"].(map[string]any); ok && after[tt.col] == nil {
					audited++
				}
			}
		}
		err = f.App.QueryRow(t.Context(), "SELECT count(*) FILTER (WHERE "+tt.col+" IS NULL) FROM "+tt.table+" WHERE id = ANY($1)",
			ids).Scan(&nulls)
		mustNil(t, "count", err)
		if nulls != tt.nulls || audited != tt.nulls {
			t.Errorf("%s.%s: %d stored NULLs, %d in audit images, want %d", tt.table, tt.col, nulls, audited, tt.nulls)
		}
	}
}
