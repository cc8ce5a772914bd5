package reliability_test

// The backstop: a write to a PHI table that bypasses the generated repositories (raw SQL as auditrepo_app)
// leaves one audit row per changed row with actor kind 'unattributed', shaped like a repository's row, and the
// repositories' own writes are logged exactly once (each sets auditrepo.write, which the trigger resets).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/migrations"
)

// rawCase is a hand-written change of two rows of one PHI table.
type rawCase struct {
	table    string
	insert   string                     // two rows, RETURNING id
	patients func(ids []int64) []*int64 // the patient of each inserted row
	update   string                     // a PHI change of the rows whose ids are in $1
	changed  []string                   // the changed_fields of that update
	nonPHI   string                     // a change of nonphi (and excluded) columns only of the rows in $1
	hidden   []string                   // columns the trail never names (excluded)
	redacted []string                   // columns the trail shows as [REDACTED]
	secrets  []string                   // values that must never reach the trail
}

func rawCases(c *clinic) []rawCase {
	p1, p2 := c.patient1, c.patient2
	same := func(ids []int64) []*int64 { return []*int64{&p1, &p2} }
	return []rawCase{{
		table: "users",
		insert: `INSERT INTO users (username, email, password, auth_token, user_type, first_name)
			VALUES ('raw-patient', 'rp@x.example', 'raw-secret-pw', 'raw-secret-token', 'patient', 'Raw'),
			       ('raw-staff', 'rs@x.example', 'raw-secret-pw', 'raw-secret-token', 'staff', 'Raw') RETURNING id`,
		patients: func(ids []int64) []*int64 { return []*int64{&ids[0], nil} }, // a staff row has no patient
		update:   "UPDATE users SET first_name = 'Changed', password = 'raw-secret-pw2', auth_token = 'raw-secret-token2' WHERE id = ANY($1)",
		changed:  []string{"first_name"},
		nonPHI:   "UPDATE users SET last_login = now(), password = 'raw-secret-pw3' WHERE id = ANY($1)",
		hidden:   []string{"password", "auth_token"},
		secrets:  []string{"raw-secret-pw", "raw-secret-token"},
	}, {
		table: "appointments",
		insert: fmt.Sprintf(`INSERT INTO appointments (patient_id, dentist_id, clinic_id, date, time, type, notes)
			VALUES (%d, %d, %d, '2026-05-04', '10:00', 'raw', 'raw-secret-note'),
			       (%d, %[2]d, NULL, '2026-05-05', '11:00', 'raw', 'raw-secret-note') RETURNING id`, p1, c.dentist, c.clinicID, p2),
		patients: same,
		update:   "UPDATE appointments SET status = 'confirmed', notes = 'raw-secret-note2' WHERE id = ANY($1)",
		changed:  []string{"status", "notes"},
		nonPHI:   "UPDATE appointments SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
		redacted: []string{"notes"},
		secrets:  []string{"raw-secret-note"},
	}, {
		table: "dental_records",
		insert: fmt.Sprintf(`INSERT INTO dental_records (patient_id, dentist_id, diagnosis)
			VALUES (%d, %d, 'raw-dx'), (%d, %[2]d, 'raw-dx') RETURNING id`, p1, c.dentist, p2),
		patients: same,
		update:   "UPDATE dental_records SET diagnosis = 'raw-dx2' WHERE id = ANY($1)",
		changed:  []string{"diagnosis"},
		nonPHI:   "UPDATE dental_records SET created_at = created_at - interval '1 day', updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table:    "billings",
		insert:   fmt.Sprintf(`INSERT INTO billings (patient_id, amount, description) VALUES (%d, 10.50, 'raw'), (%d, 20, 'raw') RETURNING id`, p1, p2),
		patients: same,
		update:   "UPDATE billings SET amount = amount + 1 WHERE id = ANY($1)",
		changed:  []string{"amount"},
		nonPHI:   "UPDATE billings SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table: "invoices",
		insert: fmt.Sprintf(`INSERT INTO invoices (appointment_id, amount, due_date)
			VALUES (%d, 10, '2026-06-01'), (%d, 20, '2026-06-01') RETURNING id`, c.appt1, c.appt2),
		patients: same, // through the appointment
		update:   "UPDATE invoices SET status = 'paid' WHERE id = ANY($1)",
		changed:  []string{"status"},
		nonPHI:   "UPDATE invoices SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table: "treatment_plans",
		insert: fmt.Sprintf(`INSERT INTO treatment_plans (patient_id, dentist_id, title)
			VALUES (%d, %d, 'raw'), (%d, %[2]d, 'raw') RETURNING id`, p1, c.dentist, p2),
		patients: same,
		update:   "UPDATE treatment_plans SET title = 'raw2', estimated_cost = 99 WHERE id = ANY($1)",
		changed:  []string{"title", "estimated_cost"},
		nonPHI:   "UPDATE treatment_plans SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table: "documents",
		insert: fmt.Sprintf(`INSERT INTO documents (patient_id, document_type, filename, storage_path)
			VALUES (%d, 'xray', 'r.png', 's3://b/r.png'), (%d, 'xray', 'r.png', 's3://b/r.png') RETURNING id`, p1, p2),
		patients: same,
		update:   "UPDATE documents SET filename = 'r2.png' WHERE id = ANY($1)",
		changed:  []string{"filename"},
		nonPHI:   "UPDATE documents SET uploaded_at = uploaded_at + interval '1 second' WHERE id = ANY($1)",
	}, {
		table: "patient_intake_forms",
		insert: fmt.Sprintf(`INSERT INTO patient_intake_forms (patient_id, allergies, insurance_policy)
			VALUES (%d, 'pollen', 'raw-secret-policy'), (%d, 'none', 'raw-secret-policy') RETURNING id`, p1, p2),
		patients: same,
		update:   "UPDATE patient_intake_forms SET allergies = 'nuts', insurance_policy = 'raw-secret-policy2' WHERE id = ANY($1)",
		changed:  []string{"allergies", "insurance_policy"},
		nonPHI:   "UPDATE patient_intake_forms SET updated_at = updated_at + interval '1 second' WHERE id = ANY($1)",
		redacted: []string{"insurance_policy"},
		secrets:  []string{"raw-secret-policy"},
	}}
}

// TestBackstopRawWrites runs INSERT, UPDATE, a nonphi-only UPDATE and DELETE by hand on every PHI table, as
// auditrepo_app: each changed row leaves exactly one unattributed row, like the repository's; the nonphi-only
// update leaves none.
func TestBackstopRawWrites(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	var clientIP string
	if err := c.app.QueryRow(t.Context(), "SELECT coalesce(host(inet_client_addr()), '')").Scan(&clientIP); err != nil {
		t.Fatal(err)
	}
	cases := rawCases(c)
	if got := len(cases); got != len(phiTables) {
		t.Fatalf("%d raw cases for %d PHI tables", got, len(phiTables))
	}
	for _, rc := range cases {
		t.Run(rc.table, func(t *testing.T) {
			mark := lastLogID(t, c.app)
			ids := queryIDs(t, c.app, rc.insert)
			pats := rc.patients(ids)
			step := func(what, action string, want int) []logRow {
				t.Helper()
				rows := logSince(t, c.app, mark)
				mark = lastLogID(t, c.app)
				if len(rows) != want {
					t.Fatalf("%s: %d audit rows, want %d: %v", what, len(rows), want, rows)
				}
				for _, r := range rows {
					i := slices.Index(ids, r.TargetID)
					switch {
					case r.Action != action || r.TargetTable != rc.table || i < 0:
						t.Errorf("%s: row %v, want %s of %s %v", what, r, action, rc.table, ids)
						continue
					case r.ActorKind != string(audit.KindUnattributed) || r.ActorID != nil || r.RequestID != nil:
						t.Errorf("%s: row %v: actor kind %s, id %s, request %s; want unattributed, NULL, NULL", what, r, r.ActorKind, ptrStr(r.ActorID), ptrStr(r.RequestID))
					case r.UserAgent == nil || !strings.HasPrefix(*r.UserAgent, "db role "+migrations.AppRole):
						t.Errorf("%s: user agent %s, want the database role %s", what, ptrStr(r.UserAgent), migrations.AppRole)
					case clientIP != "" && (r.IP == nil || *r.IP != clientIP):
						t.Errorf("%s: ip %s, want the client address %s", what, ptrStr(r.IP), clientIP)
					}
					if want := pats[i]; !eqPtr(r.PatientID, deref(want), want != nil) || r.PriorPatientID != nil {
						t.Errorf("%s: row %v: patient %s prior %s, want %s and NULL", what, r, ptrStr(r.PatientID), ptrStr(r.PriorPatientID), ptrStr(want))
					}
					checkImages(t, what, rc, r)
				}
				if got := distinctTargets(rows); want > 0 && got != len(ids) {
					t.Errorf("%s: audit rows name %d distinct rows, want %d", what, got, len(ids))
				}
				return rows
			}
			step("INSERT", "CREATE", 2)

			if err := execAs(c.app, rc.update, ids); err != nil {
				t.Fatalf("UPDATE: %v", err)
			}
			for _, r := range step("UPDATE", "UPDATE", 2) {
				var changed []string
				fields, _ := r.Ch["changed_fields"].([]any)
				for _, f := range fields {
					changed = append(changed, fmt.Sprint(f))
				}
				if !sameSet(changed, rc.changed) {
					t.Errorf("UPDATE: changed_fields %v, want %v", changed, rc.changed)
				}
			}

			if err := execAs(c.app, rc.nonPHI, ids); err != nil {
				t.Fatalf("nonphi UPDATE: %v", err)
			}
			step("nonphi-only UPDATE", "UPDATE", 0)

			if err := execAs(c.app, fmt.Sprintf("DELETE FROM %s WHERE id = ANY($1)", rc.table), ids); err != nil {
				t.Fatalf("DELETE: %v", err)
			}
			step("DELETE", "DELETE", 2)
		})
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func distinctTargets(rows []logRow) int {
	seen := map[int64]bool{}
	for _, r := range rows {
		seen[r.TargetID] = true
	}
	return len(seen)
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// checkImages checks the images of a backstop row: the keys of its action, no excluded column, redacted ones
// masked, no secret anywhere.
func checkImages(t *testing.T, what string, rc rawCase, r logRow) {
	t.Helper()
	keys := map[string][]string{"CREATE": {"after"}, "UPDATE": {"after", "before", "changed_fields"}, "DELETE": {"deleted_record"}}[r.Action]
	if got := slices.Sorted(maps.Keys(r.Ch)); !slices.Equal(got, keys) {
		t.Errorf("%s: changes keys %v, want %v", what, got, keys)
	}
	for _, k := range []string{"after", "before", "deleted_record"} {
		img, ok := r.Ch[k].(map[string]any)
		if !ok {
			continue
		}
		if id, _ := img["id"].(float64); int64(id) != r.TargetID {
			t.Errorf("%s: %s image of row %d has id %v", what, k, r.TargetID, img["id"])
		}
		for _, h := range rc.hidden {
			if _, ok := img[h]; ok {
				t.Errorf("%s: %s image names excluded column %s", what, k, h)
			}
		}
		for _, red := range rc.redacted {
			if img[red] != "[REDACTED]" {
				t.Errorf("%s: %s image: %s = %v, want [REDACTED]", what, k, red, img[red])
			}
		}
	}
	for _, s := range rc.secrets {
		if strings.Contains(r.Raw, s) {
			t.Errorf("%s: the trail holds %q: %s", what, s, r.Raw)
		}
	}
	for _, h := range rc.hidden {
		if strings.Contains(r.Raw, `"`+h+`"`) {
			t.Errorf("%s: the trail names excluded column %s: %s", what, h, r.Raw)
		}
	}
}

// TestBackstopOtherRawPaths: COPY, an upsert, MERGE, a data-modifying CTE, a change of patient and a change
// of id are raw writes too.
func TestBackstopOtherRawPaths(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	ctx := t.Context()
	expect := func(what string, mark int64, want ...string) []logRow {
		t.Helper()
		rows := logSince(t, c.app, mark)
		var got []string
		for _, r := range rows {
			if r.ActorKind != "unattributed" {
				t.Errorf("%s: %v is not unattributed", what, r)
			}
			got = append(got, r.Action+" "+r.TargetTable)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: audit rows %v, want %v", what, rows, want)
		}
		return rows
	}

	mark := lastLogID(t, c.app)
	n, err := c.app.CopyFrom(ctx, pgx.Identifier{"documents"}, []string{"patient_id", "document_type", "filename", "storage_path"},
		pgx.CopyFromRows([][]any{{c.patient1, "scan", "c1.pdf", "s3://b/c1"}, {c.patient2, "scan", "c2.pdf", "s3://b/c2"}}))
	if err != nil || n != 2 {
		t.Fatalf("COPY: %d rows, %v", n, err)
	}
	expect("COPY", mark, "CREATE documents", "CREATE documents")

	mark = lastLogID(t, c.app)
	if err := execAs(c.app, `INSERT INTO users (username, email, password, user_type) VALUES ('patient1', 'x', 'y', 'patient')
		ON CONFLICT (username) DO UPDATE SET first_name = 'Upserted'`); err != nil {
		t.Fatal(err)
	}
	rows := expect("upsert", mark, "UPDATE users")
	if len(rows) == 1 && (rows[0].TargetID != c.patient1 || !eqPtr(rows[0].PatientID, c.patient1, true)) {
		t.Errorf("upsert: %v, want patient1's row", rows[0])
	}

	mark = lastLogID(t, c.app)
	if err := execAs(c.app, `WITH moved AS (UPDATE dental_records SET treatment = 'crown' WHERE id = $1 RETURNING id)
		SELECT count(*) FROM moved`, c.record); err != nil {
		t.Fatal(err)
	}
	expect("data-modifying CTE", mark, "UPDATE dental_records")

	var version int
	if err := c.app.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version >= 150000 {
		mark = lastLogID(t, c.app)
		if err := execAs(c.app, `MERGE INTO billings b USING (VALUES ($1::bigint, 5::numeric), (0, 7)) AS s(id, amount) ON b.id = s.id
			WHEN MATCHED THEN UPDATE SET amount = s.amount
			WHEN NOT MATCHED THEN INSERT (patient_id, amount) VALUES ($2, s.amount)`, c.billing, c.patient2); err != nil {
			t.Fatal(err)
		}
		expect("MERGE", mark, "UPDATE billings", "CREATE billings")
	}

	// A raw change of patient names both patients, as a repository's does.
	mark = lastLogID(t, c.app)
	if err := execAs(c.app, "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.patient2, c.appt1); err != nil {
		t.Fatal(err)
	}
	rows = expect("patient change", mark, "UPDATE appointments")
	if len(rows) == 1 && (!eqPtr(rows[0].PatientID, c.patient2, true) || !eqPtr(rows[0].PriorPatientID, c.patient1, true)) {
		t.Errorf("patient change: %v, want patient %d prior %d", rows[0], c.patient2, c.patient1)
	}
	// The invoice of that appointment moved too, but its row did not change: no row of its own.

	// A new id cannot pair the old row with the new one: both halves are logged.
	mark = lastLogID(t, c.app)
	var newID int64
	if err := c.app.QueryRow(ctx, "UPDATE documents SET id = DEFAULT WHERE id = $1 RETURNING id", c.doc).Scan(&newID); err != nil {
		t.Fatal(err)
	}
	rows = expect("id change", mark, "UPDATE documents", "UPDATE documents")
	if len(rows) == 2 {
		got := []int64{rows[0].TargetID, rows[1].TargetID}
		slices.Sort(got)
		if !slices.Equal(got, []int64{c.doc, newID}) {
			t.Errorf("id change: rows for %v, want %d and %d", got, c.doc, newID)
		}
	}
}

// repoStep is one repository write and how many audit rows it writes.
type repoStep struct {
	name string
	rows int
	run  func(ctx context.Context, r *repo.Repos) error
}

// repoSteps writes every model through every kind of generated method: Create, CreateMany, Update (PHI,
// nonphi-only, excluded-only, not found) and Delete (:exec).
func repoSteps(c *clinic, tag string) []repoStep {
	var user db.User
	var users []db.User
	var appt db.Appointment
	var inv db.Invoice
	var rec db.DentalRecord
	var bill db.Billing
	var plan db.TreatmentPlan
	var doc db.Document
	var form db.PatientIntakeForm
	var err error
	return []repoStep{
		{"User.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			user, err = r.User.Create(ctx, db.CreateUserParams{Username: tag + "-u", Email: "u@x", Password: "pw", UserType: "patient"})
			return err
		}},
		{"User.CreateMany", 3, func(ctx context.Context, r *repo.Repos) error {
			users, err = r.User.CreateMany(ctx, []db.CreateUserParams{
				{Username: tag + "-m1", Email: "m@x", Password: "pw", UserType: "patient"},
				{Username: tag + "-m2", Email: "m@x", Password: "pw", UserType: "staff"},
				{Username: tag + "-m3", Email: "m@x", Password: "pw", UserType: "patient"},
			})
			return err
		}},
		{"User.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.Update(ctx, db.UpdateUserParams{ID: user.ID, Email: "new@x", UserType: "patient", FirstName: "N"})
			return err
		}},
		{"User.UpdateLastLogin (nonphi only)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.UpdateLastLogin(ctx, db.UpdateUserLastLoginParams{ID: user.ID, LastLogin: pgtype.Timestamptz{Time: time.Now(), Valid: true}})
			return err
		}},
		{"User.UpdatePassword (excluded and nonphi only)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.UpdatePassword(ctx, db.UpdateUserPasswordParams{ID: user.ID, Password: "pw2"})
			return err
		}},
		{"User.Update (not found)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.User.Update(ctx, db.UpdateUserParams{ID: -1, Email: "x", UserType: "staff"})
			if errors.Is(err, audit.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("want ErrNotFound, got %w", err)
		}},
		{"User.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.User.Delete(ctx, users[1].ID) }},
		{"Appointment.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			appt, err = r.Appointment.Create(ctx, db.CreateAppointmentParams{PatientID: c.patient1, DentistID: c.dentist,
				Date: pgDate(2026, 7, 1), Time: pgTime(8), Type: tag, Status: "scheduled", Notes: "n"})
			return err
		}},
		{"Appointment.CreateMany", 2, func(ctx context.Context, r *repo.Repos) error {
			p := db.CreateAppointmentParams{PatientID: c.patient2, DentistID: c.dentist, Date: pgDate(2026, 7, 2), Time: pgTime(8), Type: tag, Status: "scheduled"}
			_, err := r.Appointment.CreateMany(ctx, []db.CreateAppointmentParams{p, p})
			return err
		}},
		{"Appointment.CreateMany (empty)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.CreateMany(ctx, nil)
			return err
		}},
		{"Appointment.Update (moves patient)", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.Update(ctx, db.UpdateAppointmentParams{ID: appt.ID, PatientID: c.patient2, DentistID: c.dentist,
				Date: appt.Date, Time: appt.Time, Type: appt.Type, Status: "confirmed", Notes: "changed"})
			return err
		}},
		{"Appointment.UpdateStatus (same status: nonphi only)", 0, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.UpdateStatus(ctx, db.UpdateAppointmentStatusParams{ID: appt.ID, Status: "confirmed"})
			return err
		}},
		{"Appointment.UpdateStatus", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Appointment.UpdateStatus(ctx, db.UpdateAppointmentStatusParams{ID: appt.ID, Status: "completed"})
			return err
		}},
		{"Invoice.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			inv, err = r.Invoice.Create(ctx, db.CreateInvoiceParams{AppointmentID: appt.ID, Amount: pgNumeric("12.00"), Status: "open", DueDate: pgDate(2026, 8, 1)})
			return err
		}},
		{"Invoice.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Invoice.Update(ctx, db.UpdateInvoiceParams{ID: inv.ID, AppointmentID: c.appt1, Amount: pgNumeric("13.00"), Status: "paid", DueDate: inv.DueDate})
			return err
		}},
		{"Invoice.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Invoice.Delete(ctx, inv.ID) }},
		{"Appointment.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Appointment.Delete(ctx, appt.ID) }},
		{"Appointment.Delete (not found)", 0, func(ctx context.Context, r *repo.Repos) error {
			if err := r.Appointment.Delete(ctx, appt.ID); !errors.Is(err, audit.ErrNotFound) {
				return fmt.Errorf("want ErrNotFound, got %w", err)
			}
			return nil
		}},
		{"DentalRecord.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			rec, err = r.DentalRecord.Create(ctx, db.CreateDentalRecordParams{PatientID: c.patient1, DentistID: c.dentist, Diagnosis: tag})
			return err
		}},
		{"DentalRecord.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.DentalRecord.Update(ctx, db.UpdateDentalRecordParams{ID: rec.ID, PatientID: c.patient1, DentistID: c.dentist, Diagnosis: tag + "2"})
			return err
		}},
		{"DentalRecord.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.DentalRecord.Delete(ctx, rec.ID) }},
		{"Billing.CreateMany", 2, func(ctx context.Context, r *repo.Repos) error {
			p := db.CreateBillingParams{PatientID: c.patient1, Amount: pgNumeric("1.00"), Status: "pending"}
			bs, err := r.Billing.CreateMany(ctx, []db.CreateBillingParams{p, p})
			if err == nil {
				bill = bs[0]
			}
			return err
		}},
		{"Billing.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Billing.Update(ctx, db.UpdateBillingParams{ID: bill.ID, PatientID: c.patient1, Amount: pgNumeric("2.00"), Status: "paid"})
			return err
		}},
		{"Billing.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Billing.Delete(ctx, bill.ID) }},
		{"TreatmentPlan.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			plan, err = r.TreatmentPlan.Create(ctx, db.CreateTreatmentPlanParams{PatientID: c.patient1, DentistID: c.dentist, Title: tag, Status: "proposed"})
			return err
		}},
		{"TreatmentPlan.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.TreatmentPlan.Update(ctx, db.UpdateTreatmentPlanParams{ID: plan.ID, PatientID: c.patient1, DentistID: c.dentist, Title: tag, Status: "accepted"})
			return err
		}},
		{"TreatmentPlan.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.TreatmentPlan.Delete(ctx, plan.ID) }},
		{"Document.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			doc, err = r.Document.Create(ctx, db.CreateDocumentParams{PatientID: c.patient1, DocumentType: "scan", Filename: tag, StoragePath: "s3://" + tag})
			return err
		}},
		{"Document.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.Document.Update(ctx, db.UpdateDocumentParams{ID: doc.ID, PatientID: c.patient2, DocumentType: "scan", Filename: tag, StoragePath: "s3://" + tag})
			return err
		}},
		{"Document.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.Document.Delete(ctx, doc.ID) }},
		{"PatientIntakeForm.Create", 1, func(ctx context.Context, r *repo.Repos) error {
			form, err = r.PatientIntakeForm.Create(ctx, db.CreatePatientIntakeFormParams{PatientID: c.patient2, Allergies: tag, InsurancePolicy: "p"})
			return err
		}},
		{"PatientIntakeForm.Update", 1, func(ctx context.Context, r *repo.Repos) error {
			_, err := r.PatientIntakeForm.Update(ctx, db.UpdatePatientIntakeFormParams{ID: form.ID, Allergies: tag, InsurancePolicy: "q", Smoker: true})
			return err
		}},
		{"PatientIntakeForm.Delete", 1, func(ctx context.Context, r *repo.Repos) error { return r.PatientIntakeForm.Delete(ctx, form.ID) }},
		{"User.Delete (patient)", 1, func(ctx context.Context, r *repo.Repos) error { return r.User.Delete(ctx, users[0].ID) }},
	}
}

// writeFlag is the backstop's flag as the session sees it now ("" when unset or reset).
func writeFlag(t *testing.T, q db.DBTX) string {
	t.Helper()
	var v string
	if err := q.QueryRow(context.Background(), "SELECT coalesce(current_setting('auditrepo.write', true), '')").Scan(&v); err != nil {
		t.Fatalf("reading the flag: %v", err)
	}
	return v
}

// TestBackstopRepositoryWritesLoggedOnce: every kind of repository write leaves exactly its own audit rows,
// attributed to the actor, and no unattributed one: the flag was set whenever the statement changed rows.
// In a transaction, a raw write after each repository write is still logged: the flag never outlives its
// statement.
func TestBackstopRepositoryWritesLoggedOnce(t *testing.T) {
	t.Parallel()
	c := newClinic(t)

	check := func(t *testing.T, q db.DBTX, step repoStep, mark int64) {
		t.Helper()
		rows := logSince(t, q, mark)
		if len(rows) != step.rows {
			t.Errorf("%s: %d audit rows, want %d: %v", step.name, len(rows), step.rows, rows)
		}
		for _, r := range rows {
			if r.ActorKind != string(audit.KindUser) || !eqPtr(r.ActorID, c.dentist, true) {
				t.Errorf("%s: %v is not the actor's", step.name, r)
			}
		}
	}

	t.Run("autocommit", func(t *testing.T) {
		for _, step := range repoSteps(c, "auto") {
			mark := lastLogID(t, c.app)
			if err := step.run(c.user, c.r); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			check(t, c.app, step, mark)
		}
	})

	t.Run("transaction", func(t *testing.T) {
		tx, err := c.app.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(context.Background())
		r := repo.New(tx)
		for _, step := range repoSteps(c, "tx") {
			mark := lastLogID(t, tx)
			if err := step.run(c.user, r); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			check(t, tx, step, mark)
			if f := writeFlag(t, tx); f != "" {
				t.Errorf("after %s the flag is %q, want it reset", step.name, f)
			}
			// A raw write right after, in the same transaction, is the application's, unattributed.
			mark = lastLogID(t, tx)
			if err := execAs(tx, "UPDATE dental_records SET treatment = treatment || '.' WHERE id = $1", c.record); err != nil {
				t.Fatalf("raw write after %s: %v", step.name, err)
			}
			rows := logSince(t, tx, mark)
			if len(rows) != 1 || rows[0].ActorKind != "unattributed" || rows[0].TargetID != c.record {
				t.Errorf("raw write after %s: %v, want one unattributed row for dental record %d", step.name, rows, c.record)
			}
		}
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	var unattributed int
	if err := c.app.QueryRow(t.Context(), "SELECT count(*) FROM audit_log WHERE actor_kind = 'unattributed'").Scan(&unattributed); err != nil {
		t.Fatal(err)
	}
	if want := len(repoSteps(c, "")); unattributed != want {
		t.Errorf("%d unattributed rows in all, want %d (the raw writes of the transaction)", unattributed, want)
	}
}

// TestBackstopFlagStaysInItsStatement: a repository write that fails inside a savepoint, and one on another
// table, leave no flag behind that could silence a raw write.
func TestBackstopFlagStaysInItsStatement(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	ctx := t.Context()
	tx, err := c.app.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	r := repo.New(tx)
	rawLogged := func(what string) {
		t.Helper()
		mark := lastLogID(t, tx)
		if err := execAs(tx, "UPDATE appointments SET type = type || '.' WHERE id = $1", c.appt2); err != nil {
			t.Fatalf("%s: raw write: %v", what, err)
		}
		if rows := logSince(t, tx, mark); len(rows) != 1 || rows[0].ActorKind != "unattributed" {
			t.Errorf("%s: raw write left %v, want one unattributed row", what, rows)
		}
	}

	// The flag names its table: a repository write on users cannot cover a raw write on appointments, even
	// if the users trigger had not reset it.
	if _, err := r.User.Create(c.user, db.CreateUserParams{Username: "flag-u", Email: "x", Password: "p", UserType: "staff"}); err != nil {
		t.Fatal(err)
	}
	rawLogged("after a write on users")

	// A repository write that fails at the end of its statement, after its audit row (the foreign key check
	// of the changed row runs then), in a savepoint: the rollback to the savepoint undoes the flag too.
	if _, err := tx.Exec(ctx, "SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Appointment.Update(c.user, db.UpdateAppointmentParams{ID: c.appt1, PatientID: c.patient1, DentistID: -1,
		Date: pgDate(2026, 3, 2), Time: pgTime(9), Type: "checkup", Status: "scheduled"})
	if sqlState(err) != "23503" {
		t.Fatalf("update with a missing dentist: %v, want a foreign key violation", err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	rawLogged("after a failed write")

	// A forged flag for another table does not silence this one.
	if _, err := tx.Exec(ctx, "SELECT set_config('auditrepo.write', 'users', true)"); err != nil {
		t.Fatal(err)
	}
	rawLogged("with the flag set for users")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBackstopMatchesRepository: a raw write and the repository's write of the same change leave the same
// audit row (patients, action, images, changed fields), but for the actor and the record's own id. Both run
// in one transaction, so now() is the same for both.
func TestBackstopMatchesRepository(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	ctx := t.Context()
	tx, err := c.app.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	r := repo.New(tx)

	// last returns the newest audit row of a record.
	last := func(table string, id int64) logRow {
		t.Helper()
		rows := logSince(t, tx, 0)
		for i := len(rows) - 1; i >= 0; i-- {
			if rows[i].TargetTable == table && rows[i].TargetID == id {
				return rows[i]
			}
		}
		t.Fatalf("no audit row for %s %d", table, id)
		return logRow{}
	}
	// compare checks that the repository's row a and the backstop's row b describe the same change.
	// self is set for a table whose rows are their own patient (users).
	compare := func(what string, a, b logRow, self bool, ignore ...string) {
		t.Helper()
		if a.ActorKind != "user" || b.ActorKind != "unattributed" {
			t.Errorf("%s: actor kinds %s and %s, want user and unattributed", what, a.ActorKind, b.ActorKind)
		}
		// A row that is its own patient (users) names itself.
		pat := func(r logRow, p *int64) string {
			if self && p != nil && *p == r.TargetID {
				return "self"
			}
			return ptrStr(p)
		}
		if a.Action != b.Action || pat(a, a.PatientID) != pat(b, b.PatientID) || pat(a, a.PriorPatientID) != pat(b, b.PriorPatientID) {
			t.Errorf("%s: repository %v\nbackstop %v", what, a, b)
		}
		norm := func(ch map[string]any) string {
			for _, k := range []string{"after", "before", "deleted_record"} {
				if img, ok := ch[k].(map[string]any); ok {
					for _, i := range append([]string{"id"}, ignore...) {
						delete(img, i)
					}
				}
			}
			b, _ := json.Marshal(ch)
			return string(b)
		}
		if na, nb := norm(a.Ch), norm(b.Ch); na != nb {
			t.Errorf("%s: changes differ:\nrepository %s\nbackstop   %s", what, na, nb)
		}
	}
	mustID := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := tx.QueryRow(ctx, sql, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", firstLine(sql), err)
		}
		return id
	}
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if err := execAs(tx, sql, args...); err != nil {
			t.Fatalf("%s: %v", firstLine(sql), err)
		}
	}

	// Appointments: a redacted column, a direct patient column, a change of patient.
	ap := db.CreateAppointmentParams{PatientID: c.patient1, DentistID: c.dentist, ClinicID: pgtype.Int8{Int64: c.clinicID, Valid: true},
		Date: pgDate(2026, 9, 1), Time: pgTime(14), Type: "cleaning", Status: "scheduled", Notes: "secret"}
	a, err := r.Appointment.Create(c.user, ap)
	if err != nil {
		t.Fatal(err)
	}
	b := mustID(`INSERT INTO appointments (patient_id, dentist_id, clinic_id, date, time, type, status, notes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, ap.PatientID, ap.DentistID, ap.ClinicID, ap.Date, ap.Time, ap.Type, ap.Status, ap.Notes)
	compare("appointment create", last("appointments", a.ID), last("appointments", b), false)
	up := db.UpdateAppointmentParams{ID: a.ID, PatientID: c.patient2, DentistID: c.dentist, ClinicID: ap.ClinicID, Date: ap.Date,
		Time: ap.Time, Type: "filling", Status: "confirmed", Notes: "other secret"}
	if _, err := r.Appointment.Update(c.user, up); err != nil {
		t.Fatal(err)
	}
	mustExec(`UPDATE appointments SET patient_id = $2, dentist_id = $3, clinic_id = $4, date = $5, time = $6, type = $7, status = $8,
		notes = $9, updated_at = now() WHERE id = $1`, b, up.PatientID, up.DentistID, up.ClinicID, up.Date, up.Time, up.Type, up.Status, up.Notes)
	compare("appointment update", last("appointments", a.ID), last("appointments", b), false)

	// Invoices: the patient through the appointment, before and after a move to another appointment.
	inv, err := r.Invoice.Create(c.user, db.CreateInvoiceParams{AppointmentID: c.appt1, Amount: pgNumeric("40.00"), Status: "open", DueDate: pgDate(2026, 10, 1)})
	if err != nil {
		t.Fatal(err)
	}
	invB := mustID("INSERT INTO invoices (appointment_id, amount, status, due_date) VALUES ($1, $2, $3, $4) RETURNING id",
		c.appt1, pgNumeric("40.00"), "open", pgDate(2026, 10, 1))
	compare("invoice create", last("invoices", inv.ID), last("invoices", invB), false)
	if _, err := r.Invoice.Update(c.user, db.UpdateInvoiceParams{ID: inv.ID, AppointmentID: c.appt2, Amount: pgNumeric("41.00"), Status: "paid", DueDate: inv.DueDate}); err != nil {
		t.Fatal(err)
	}
	mustExec("UPDATE invoices SET appointment_id = $2, amount = $3, status = $4, due_date = $5, updated_at = now() WHERE id = $1",
		invB, c.appt2, pgNumeric("41.00"), "paid", inv.DueDate)
	ua, ub := last("invoices", inv.ID), last("invoices", invB)
	compare("invoice update", ua, ub, false)
	if !eqPtr(ub.PatientID, c.patient2, true) || !eqPtr(ub.PriorPatientID, c.patient1, true) {
		t.Errorf("invoice moved between patients: %v, want patient %d prior %d", ub, c.patient2, c.patient1)
	}
	if err := r.Invoice.Delete(c.user, inv.ID); err != nil {
		t.Fatal(err)
	}
	mustExec("DELETE FROM invoices WHERE id = $1", invB)
	compare("invoice delete", last("invoices", inv.ID), last("invoices", invB), false)

	// Users: excluded columns, a patient only when user_type = 'patient'.
	u, err := r.User.Create(c.user, db.CreateUserParams{Username: "same-a", Email: "s@x", Password: "pw-a", AuthToken: pgtype.Text{String: "tok", Valid: true}, UserType: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	uB := mustID("INSERT INTO users (username, email, password, auth_token, user_type) VALUES ('same-b', 's@x', 'pw-b', 'tok', 'staff') RETURNING id")
	compare("user create", last("users", u.ID), last("users", uB), true, "username")
	if _, err := r.User.Update(c.user, db.UpdateUserParams{ID: u.ID, Email: "t@x", UserType: "patient", Role: "", FirstName: "F", LastName: "L"}); err != nil {
		t.Fatal(err)
	}
	mustExec("UPDATE users SET email = 't@x', user_type = 'patient', role = '', first_name = 'F', last_name = 'L', updated_at = now() WHERE id = $1", uB)
	compare("user update", last("users", u.ID), last("users", uB), true, "username")
	if err := r.User.Delete(c.user, u.ID); err != nil {
		t.Fatal(err)
	}
	mustExec("DELETE FROM users WHERE id = $1", uB)
	compare("user delete", last("users", u.ID), last("users", uB), true, "username")

	// Intake forms: a redacted column among many.
	fp := db.CreatePatientIntakeFormParams{PatientID: c.patient2, Allergies: "latex", Medications: "none", InsurancePolicy: "POL-1", Smoker: true,
		Pregnant: pgtype.Bool{Bool: false, Valid: true}}
	f, err := r.PatientIntakeForm.Create(c.user, fp)
	if err != nil {
		t.Fatal(err)
	}
	fB := mustID(`INSERT INTO patient_intake_forms (patient_id, allergies, medications, insurance_policy, smoker, pregnant)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, fp.PatientID, fp.Allergies, fp.Medications, fp.InsurancePolicy, fp.Smoker, fp.Pregnant)
	compare("intake form create", last("patient_intake_forms", f.ID), last("patient_intake_forms", fB), false)
	if err := r.PatientIntakeForm.Delete(c.user, f.ID); err != nil {
		t.Fatal(err)
	}
	mustExec("DELETE FROM patient_intake_forms WHERE id = $1", fB)
	compare("intake form delete", last("patient_intake_forms", f.ID), last("patient_intake_forms", fB), false)

	if f := writeFlag(t, tx); f != "" {
		t.Errorf("flag left set at the end: %q", f)
	}
}

// TestTempAuditTableCannotCaptureRows: the application role may create temporary tables, and pg_temp comes
// first on the search path; a temporary audit_log must not capture the rows of repository or backstop writes.
func TestTempAuditTableCannotCaptureRows(t *testing.T) {
	t.Parallel()
	c := newClinic(t)
	ctx := t.Context()
	conn, err := c.app.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE audit_log (LIKE public.audit_log INCLUDING DEFAULTS)"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP TABLE pg_temp.audit_log")
	before := lastLogID(t, c.owner)
	if _, err := repo.New(conn).Appointment.UpdateStatus(c.user, db.UpdateAppointmentStatusParams{ID: c.appt1, Status: "confirmed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE appointments SET type = 'raw' WHERE id = $1", c.appt2); err != nil {
		t.Fatal(err)
	}
	rows := logSince(t, c.owner, before)
	if len(rows) != 2 || rows[0].ActorKind != "user" || rows[1].ActorKind != "unattributed" {
		t.Errorf("public.audit_log got %v, want the repository's row and the backstop's", rows)
	}
	var captured int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_temp.audit_log").Scan(&captured); err != nil || captured != 0 {
		t.Errorf("temporary audit_log captured %d rows (%v), want 0", captured, err)
	}
}
