package integration_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/migrations"
)

// Scenario 10: an update that changes only nonphi columns (bookkeeping: updated_at, users.last_login) is applied
// but writes no audit row.
func TestNonPHIOnlyUpdateWritesNoRow(t *testing.T) {
	t.Parallel()
	t.Run("UpdateLastLogin", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		n := clinictest.Count(t, f.Reviewer, "true")
		login := pgtype.Timestamptz{Time: time.Date(2026, 3, 1, 8, 15, 0, 0, time.UTC), Valid: true}
		_, err := f.R.User.UpdateLastLogin(f.Ctx, db.UpdateUserLastLoginParams{ID: f.Patient1, LastLogin: login})
		mustNil(t, "UpdateLastLogin", err)
		u, err := f.Q.GetUser(t.Context(), f.Patient1)
		mustNil(t, "GetUser", err)
		if !u.LastLogin.Valid || !u.LastLogin.Time.Equal(login.Time) {
			t.Errorf("last_login = %v, want %v: the update was not applied", u.LastLogin, login.Time)
		}
		if got := clinictest.Count(t, f.Reviewer, "true"); got != n {
			t.Errorf("UpdateLastLogin wrote %d audit rows, want 0", got-n)
		}
	})
	// Rewriting the same values changes only updated_at (documents: nothing at all).
	for _, k := range kits() {
		t.Run("unchanged values/"+k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			c, err := k.create(f.Ctx, f, f.R)
			mustNil(t, "create", err)
			img, err := k.update(f.Ctx, f, f.R, c.id, 0)
			mustNil(t, "update", err)
			if old, ok := c.img["updated_at"].(time.Time); ok && !img["updated_at"].(time.Time).After(old) {
				t.Errorf("updated_at %v not after %v: the update was not applied", img["updated_at"], old)
			}
			if rows := clinictest.Record(t, f.Reviewer, k.table, c.id); len(rows) != 1 {
				t.Errorf("%d audit rows, want only the CREATE", len(rows))
			}
		})
	}
	// test_appointment_status_change_tracked: a real change is logged; the same status again is not.
	t.Run("Appointment.UpdateStatus", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		c, err := kitByName("Appointment").create(f.Ctx, f, f.R)
		mustNil(t, "create", err)
		for _, s := range []string{"completed", "completed"} {
			a, err := f.R.Appointment.UpdateStatus(f.Ctx, db.UpdateAppointmentStatusParams{ID: c.id, Status: s})
			mustNil(t, "UpdateStatus", err)
			if a.Status != s {
				t.Errorf("status = %q, want %q", a.Status, s)
			}
		}
		rows := clinictest.Record(t, f.Reviewer, "appointments", c.id)
		if len(rows) != 2 {
			t.Fatalf("%d audit rows, want CREATE and one UPDATE", len(rows))
		}
		checkRow(t, rows[1], "UPDATE", "appointments", c.id, some(f.Patient1), null)
		checkChanged(t, rows[1], []string{"status", "updated_at"}) // notes unchanged: not listed
		before, _ := rows[1].Ch["before"].(map[string]any)
		after, _ := rows[1].Ch["after"].(map[string]any)
		if before["status"] != "confirmed" || after["status"] != "completed" {
			t.Errorf("status %v -> %v, want confirmed -> completed", before["status"], after["status"])
		}
	})
}

// Scenario 11: excluded columns never reach the trail in any shape; redacted columns show "[REDACTED]", never
// their value, but are listed in changed_fields when they change.
func TestExcludedAndRedactedFields(t *testing.T) {
	t.Parallel()
	t.Run("users: password and auth_token excluded", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		k := kitByName("User")
		c, err := k.create(f.Ctx, f, f.R)
		mustNil(t, "create", err)
		_, err = k.update(f.Ctx, f, f.R, c.id, 1)
		mustNil(t, "update", err)
		_, err = f.R.User.UpdatePassword(f.Ctx, db.UpdateUserPasswordParams{ID: c.id, Password: secretPassword + "-new"})
		mustNil(t, "UpdatePassword", err)
		// A PHI change after the password change: before/after would differ in password if it leaked.
		_, err = k.update(f.Ctx, f, f.R, c.id, 2)
		mustNil(t, "update", err)
		_, _, err = k.many(f.Ctx, f, f.R, 4)
		mustNil(t, "CreateMany", err)
		if !strings.Contains(clinictest.Snapshot(t, f.App, "users")["users"], secretPassword) {
			t.Fatal("the secrets are not in users: the search below would prove nothing")
		}
		mustNil(t, "delete", k.del(f.Ctx, f.R, c.id))

		rows := clinictest.Record(t, f.Reviewer, "users", c.id)
		if len(rows) != 5 {
			t.Fatalf("%d audit rows, want CREATE, 3 UPDATE (one of the password), DELETE", len(rows))
		}
		checkChanged(t, rows[1], k.changed)
		checkChanged(t, rows[2], []string{"password", "auth_token", "updated_at"}) // named, never shown
		checkChanged(t, rows[3], k.changed)
		// Writes that bypass the repositories (whatever audits them must not leak either).
		rawSQL(t, f,
			"INSERT INTO users (username, email, password, auth_token, user_type) VALUES ('raw', 'raw@test.com', '"+secretPassword+"-raw', '"+secretToken+"-raw', 'patient')",
			"UPDATE users SET password = '"+secretPassword+"-raw2', auth_token = '"+secretToken+"-raw2', email = 'raw2@test.com' WHERE username = 'raw'",
			"DELETE FROM users WHERE username = 'raw'")
		checkNoSecrets(t, f, "password", "auth_token")
	})
	t.Run("appointments: notes redacted", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		k := kitByName("Appointment")
		c, err := k.create(f.Ctx, f, f.R)
		mustNil(t, "create", err)
		_, err = k.update(f.Ctx, f, f.R, c.id, 1) // changes notes
		mustNil(t, "update", err)
		_, err = f.R.Appointment.UpdateStatus(f.Ctx, db.UpdateAppointmentStatusParams{ID: c.id, Status: "no_show"})
		mustNil(t, "UpdateStatus", err)
		_, _, err = k.many(f.Ctx, f, f.R, 4)
		mustNil(t, "CreateMany", err)
		mustNil(t, "delete", k.del(f.Ctx, f.R, c.id))
		rows := clinictest.Record(t, f.Reviewer, "appointments", c.id)
		if len(rows) != 4 {
			t.Fatalf("%d audit rows, want CREATE, 2 UPDATE, DELETE", len(rows))
		}
		checkRedacted(t, rows, "notes")
		checkChanged(t, rows[1], k.changed) // includes notes
		checkChanged(t, rows[2], []string{"status", "updated_at"})
		rawSQL(t, f, "UPDATE appointments SET notes = '"+secretNotes+"-raw', type = 'raw' WHERE id = "+strconv.FormatInt(f.Appt1, 10))
		checkNoSecrets(t, f)
	})
	t.Run("patient_intake_forms: insurance_policy redacted", func(t *testing.T) {
		t.Parallel()
		f := clinictest.New(t)
		k := kitByName("PatientIntakeForm")
		c, err := k.create(f.Ctx, f, f.R)
		mustNil(t, "create", err)
		for v := 1; v <= 2; v++ {
			_, err = k.update(f.Ctx, f, f.R, c.id, v) // changes insurance_policy
			mustNil(t, "update", err)
		}
		_, _, err = k.many(f.Ctx, f, f.R, 4)
		mustNil(t, "CreateMany", err)
		mustNil(t, "delete", k.del(f.Ctx, f.R, c.id))
		rows := clinictest.Record(t, f.Reviewer, "patient_intake_forms", c.id)
		if len(rows) != 4 {
			t.Fatalf("%d audit rows, want CREATE, 2 UPDATE, DELETE", len(rows))
		}
		checkRedacted(t, rows, "insurance_policy")
		for _, r := range rows[1:3] {
			checkChanged(t, r, k.changed) // includes insurance_policy
		}
		rawSQL(t, f, "UPDATE patient_intake_forms SET insurance_policy = '"+secretPolicy+"-raw', allergies = 'raw'")
		checkNoSecrets(t, f)
	})
}

// rawSQL runs statements on the application's pool, bypassing the repositories.
func rawSQL(t *testing.T, f *clinictest.Clinic, stmts ...string) {
	t.Helper()
	for _, sql := range stmts {
		_, err := f.App.Exec(t.Context(), sql)
		mustNil(t, sql, err)
	}
}

// checkRedacted checks that every image in rows shows col as "[REDACTED]".
func checkRedacted(t *testing.T, rows []clinictest.Row, col string) {
	t.Helper()
	for _, r := range rows {
		for _, key := range []string{"after", "before", "deleted_record"} {
			img, ok := r.Ch[key].(map[string]any)
			if ok && img[col] != "[REDACTED]" {
				t.Errorf("audit row %d: %s.%s = %#v, want [REDACTED]", r.ID, key, col, img[col])
			}
		}
	}
}

// checkNoSecrets searches the whole text of every audit row for the secret values, and every image for the
// excluded columns; changed_fields may name them (that they changed is recorded, never their value).
func checkNoSecrets(t *testing.T, f *clinictest.Clinic, excluded ...string) {
	t.Helper()
	rows, err := f.Reviewer.Query(t.Context(), "SELECT id, a::text FROM "+migrations.Audit.QualifiedTable()+" a ORDER BY id")
	mustNil(t, "query", err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var s string
		mustNil(t, "scan", rows.Scan(&id, &s))
		n++
		if strings.Contains(s, "S3CRET") {
			t.Errorf("audit row %d contains a secret: %s", id, s)
		}
	}
	mustNil(t, "rows", rows.Err())
	if n <= 5 {
		t.Errorf("searched only %d audit rows (the fixture's five and none of the test's)", n)
	}
	for _, r := range clinictest.All(t, f.Reviewer) {
		for _, key := range []string{"after", "before", "deleted_record"} {
			img, _ := r.Ch[key].(map[string]any)
			for _, col := range excluded {
				if _, ok := img[col]; ok {
					t.Errorf("audit row %d: %s image holds excluded column %s", r.ID, key, col)
				}
			}
		}
	}
}

// Issue 11 item 5: a change to an excluded column writes an UPDATE row that names the column in changed_fields
// and never its value (before and after carry neither); clinically meaningful timestamps are audited.
func TestExcludedChangeIsNamedNeverShown(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	c, err := kitByName("User").create(f.Ctx, f, f.R)
	mustNil(t, "create", err)
	mark := clinictest.MaxID(t, f.Reviewer)

	// The password (and with it the auth token, which UpdatePassword clears), through the repository.
	_, err = f.R.User.UpdatePassword(f.Ctx, db.UpdateUserPasswordParams{ID: c.id, Password: secretPassword + "-new"})
	mustNil(t, "UpdatePassword", err)
	u, err := f.Q.GetUser(t.Context(), c.id)
	mustNil(t, "GetUser", err)
	if u.Password != secretPassword+"-new" || u.AuthToken.Valid {
		t.Errorf("after UpdatePassword: password %q, auth_token %v: the update was not applied", u.Password, u.AuthToken)
	}
	// The auth token alone, by raw SQL (an unattributed row, shaped the same).
	rawSQL(t, f, "UPDATE users SET auth_token = '"+secretToken+"-raw' WHERE id = "+strconv.FormatInt(c.id, 10))
	// The password alone, by raw SQL, without touching updated_at.
	rawSQL(t, f, "UPDATE users SET password = '"+secretPassword+"-raw' WHERE id = "+strconv.FormatInt(c.id, 10))

	rows := clinictest.Since(t, f.Reviewer, mark)
	if len(rows) != 3 {
		t.Fatalf("the three changes of excluded columns wrote %d audit rows, want 3", len(rows))
	}
	for i, want := range []struct {
		kind    string
		changed []string
	}{
		{"user", []string{"password", "auth_token", "updated_at"}},
		{"unattributed", []string{"auth_token"}},
		{"unattributed", []string{"password"}},
	} {
		r := rows[i]
		checkRow(t, r, "UPDATE", "users", c.id, some(c.id), null)
		checkKeys(t, r, "before", "after", "changed_fields")
		checkChanged(t, r, want.changed)
		if r.ActorKind != want.kind {
			t.Errorf("audit row %d: actor kind %s, want %s", r.ID, r.ActorKind, want.kind)
		}
	}
	checkNoSecrets(t, f, "password", "auth_token")

	// Backdating a dental record (created_at is when the record was made: clinical) writes a row naming it.
	rec, err := kitByName("DentalRecord").create(f.Ctx, f, f.R)
	mustNil(t, "create dental record", err)
	rawSQL(t, f, "UPDATE dental_records SET created_at = created_at - interval '30 days' WHERE id = "+strconv.FormatInt(rec.id, 10))
	tr := clinictest.Record(t, f.Reviewer, "dental_records", rec.id)
	if len(tr) != 2 {
		t.Fatalf("backdating dental record %d: %d audit rows, want CREATE and UPDATE", rec.id, len(tr))
	}
	checkRow(t, tr[1], "UPDATE", "dental_records", rec.id, some(f.Patient1), null)
	checkChanged(t, tr[1], []string{"created_at"})
	before, _ := tr[1].Ch["before"].(map[string]any)
	after, _ := tr[1].Ch["after"].(map[string]any)
	b, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(before["created_at"]))
	a, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(after["created_at"]))
	if b.Sub(a) != 30*24*time.Hour {
		t.Errorf("created_at %v -> %v, want moved back 30 days", before["created_at"], after["created_at"])
	}

	// So does moving a document's upload time.
	doc, err := kitByName("Document").create(f.Ctx, f, f.R)
	mustNil(t, "create document", err)
	rawSQL(t, f, "UPDATE documents SET uploaded_at = uploaded_at - interval '1 day' WHERE id = "+strconv.FormatInt(doc.id, 10))
	if tr := clinictest.Record(t, f.Reviewer, "documents", doc.id); len(tr) != 2 {
		t.Errorf("moving document %d's uploaded_at: %d audit rows, want CREATE and UPDATE", doc.id, len(tr))
	} else {
		checkChanged(t, tr[1], []string{"uploaded_at"})
	}
}
