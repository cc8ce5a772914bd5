package integration_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/gen/db"
)

// Scenario 10: an update that changes only nonphi (or excluded) columns is applied but writes no audit row.
func TestNonPHIOnlyUpdateWritesNoRow(t *testing.T) {
	t.Parallel()
	t.Run("UpdateLastLogin", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		n := count(t, f.pool, "audit_log")
		login := pgtype.Timestamptz{Time: time.Date(2026, 3, 1, 8, 15, 0, 0, time.UTC), Valid: true}
		_, err := f.r.User.UpdateLastLogin(f.ctx, db.UpdateUserLastLoginParams{ID: f.patient1, LastLogin: login})
		mustNil(t, "UpdateLastLogin", err)
		u, err := f.q.GetUser(t.Context(), f.patient1)
		mustNil(t, "GetUser", err)
		if !u.LastLogin.Valid || !u.LastLogin.Time.Equal(login.Time) {
			t.Errorf("last_login = %v, want %v: the update was not applied", u.LastLogin, login.Time)
		}
		if got := count(t, f.pool, "audit_log"); got != n {
			t.Errorf("UpdateLastLogin wrote %d audit rows, want 0", got-n)
		}
	})
	t.Run("UpdatePassword", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		c, err := kitByName("User").create(f.ctx, f, f.r)
		mustNil(t, "create", err)
		n := count(t, f.pool, "audit_log")
		_, err = f.r.User.UpdatePassword(f.ctx, db.UpdateUserPasswordParams{ID: c.id, Password: secretPassword + "-new"})
		mustNil(t, "UpdatePassword", err)
		u, err := f.q.GetUser(t.Context(), c.id)
		mustNil(t, "GetUser", err)
		if u.Password != secretPassword+"-new" || u.AuthToken.Valid || !u.UpdatedAt.Time.After(c.img["updated_at"].(time.Time)) {
			t.Errorf("after UpdatePassword: password %q, auth_token %v, updated_at %v: the update was not applied",
				u.Password, u.AuthToken, u.UpdatedAt.Time)
		}
		if got := count(t, f.pool, "audit_log"); got != n {
			t.Errorf("UpdatePassword wrote %d audit rows, want 0", got-n)
		}
	})
	// Rewriting the same values changes only updated_at (documents: nothing at all).
	for _, k := range kits() {
		t.Run("unchanged values/"+k.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			c, err := k.create(f.ctx, f, f.r)
			mustNil(t, "create", err)
			img, err := k.update(f.ctx, f, f.r, c.id, 0)
			mustNil(t, "update", err)
			if old, ok := c.img["updated_at"].(time.Time); ok && !img["updated_at"].(time.Time).After(old) {
				t.Errorf("updated_at %v not after %v: the update was not applied", img["updated_at"], old)
			}
			if rows := trail(t, f, k.table, c.id); len(rows) != 1 {
				t.Errorf("%d audit rows, want only the CREATE", len(rows))
			}
		})
	}
	// test_appointment_status_change_tracked: a real change is logged; the same status again is not.
	t.Run("Appointment.UpdateStatus", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		c, err := kitByName("Appointment").create(f.ctx, f, f.r)
		mustNil(t, "create", err)
		for _, s := range []string{"completed", "completed"} {
			a, err := f.r.Appointment.UpdateStatus(f.ctx, db.UpdateAppointmentStatusParams{ID: c.id, Status: s})
			mustNil(t, "UpdateStatus", err)
			if a.Status != s {
				t.Errorf("status = %q, want %q", a.Status, s)
			}
		}
		rows := trail(t, f, "appointments", c.id)
		if len(rows) != 2 {
			t.Fatalf("%d audit rows, want CREATE and one UPDATE", len(rows))
		}
		checkRow(t, rows[1], "UPDATE", "appointments", c.id, some(f.patient1), null)
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
		f := setup(t)
		k := kitByName("User")
		c, err := k.create(f.ctx, f, f.r)
		mustNil(t, "create", err)
		_, err = k.update(f.ctx, f, f.r, c.id, 1)
		mustNil(t, "update", err)
		_, err = f.r.User.UpdatePassword(f.ctx, db.UpdateUserPasswordParams{ID: c.id, Password: secretPassword + "-new"})
		mustNil(t, "UpdatePassword", err)
		// A PHI change after the password change: before/after would differ in password if it leaked.
		_, err = k.update(f.ctx, f, f.r, c.id, 2)
		mustNil(t, "update", err)
		_, _, err = k.many(f.ctx, f, f.r, 4)
		mustNil(t, "CreateMany", err)
		if !strings.Contains(snapshot(t, f.pool, "users"), secretPassword) {
			t.Fatal("the secrets are not in users: the search below would prove nothing")
		}
		mustNil(t, "delete", k.del(f.ctx, f.r, c.id))

		rows := trail(t, f, "users", c.id)
		if len(rows) != 4 {
			t.Fatalf("%d audit rows, want CREATE, 2 UPDATE, DELETE", len(rows))
		}
		for _, r := range rows[1:3] {
			checkChanged(t, r, k.changed)
		}
		// Writes that bypass the repositories (whatever audits them must not leak either).
		rawSQL(t, f,
			"INSERT INTO users (username, email, password, auth_token, user_type) VALUES ('raw', 'raw@test.com', '"+secretPassword+"-raw', '"+secretToken+"-raw', 'patient')",
			"UPDATE users SET password = '"+secretPassword+"-raw2', auth_token = '"+secretToken+"-raw2', email = 'raw2@test.com' WHERE username = 'raw'",
			"DELETE FROM users WHERE username = 'raw'")
		checkNoSecrets(t, f, `"password"`, `"auth_token"`)
	})
	t.Run("appointments: notes redacted", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		k := kitByName("Appointment")
		c, err := k.create(f.ctx, f, f.r)
		mustNil(t, "create", err)
		_, err = k.update(f.ctx, f, f.r, c.id, 1) // changes notes
		mustNil(t, "update", err)
		_, err = f.r.Appointment.UpdateStatus(f.ctx, db.UpdateAppointmentStatusParams{ID: c.id, Status: "no_show"})
		mustNil(t, "UpdateStatus", err)
		_, _, err = k.many(f.ctx, f, f.r, 4)
		mustNil(t, "CreateMany", err)
		mustNil(t, "delete", k.del(f.ctx, f.r, c.id))
		rows := trail(t, f, "appointments", c.id)
		if len(rows) != 4 {
			t.Fatalf("%d audit rows, want CREATE, 2 UPDATE, DELETE", len(rows))
		}
		checkRedacted(t, rows, "notes")
		checkChanged(t, rows[1], k.changed) // includes notes
		checkChanged(t, rows[2], []string{"status", "updated_at"})
		rawSQL(t, f, "UPDATE appointments SET notes = '"+secretNotes+"-raw', type = 'raw' WHERE id = "+strconv.FormatInt(f.appt1, 10))
		checkNoSecrets(t, f)
	})
	t.Run("patient_intake_forms: insurance_policy redacted", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		k := kitByName("PatientIntakeForm")
		c, err := k.create(f.ctx, f, f.r)
		mustNil(t, "create", err)
		for v := 1; v <= 2; v++ {
			_, err = k.update(f.ctx, f, f.r, c.id, v) // changes insurance_policy
			mustNil(t, "update", err)
		}
		_, _, err = k.many(f.ctx, f, f.r, 4)
		mustNil(t, "CreateMany", err)
		mustNil(t, "delete", k.del(f.ctx, f.r, c.id))
		rows := trail(t, f, "patient_intake_forms", c.id)
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
func rawSQL(t *testing.T, f *fixture, stmts ...string) {
	t.Helper()
	for _, sql := range stmts {
		_, err := f.pool.Exec(t.Context(), sql)
		mustNil(t, sql, err)
	}
}

// checkRedacted checks that every image in rows shows col as "[REDACTED]".
func checkRedacted(t *testing.T, rows []auditRow, col string) {
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

// checkNoSecrets searches the whole text of every audit row for the secret values and for the given keys.
func checkNoSecrets(t *testing.T, f *fixture, keys ...string) {
	t.Helper()
	rows, err := f.pool.Query(t.Context(), "SELECT id, a::text FROM audit_log a ORDER BY id")
	mustNil(t, "query", err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var s string
		mustNil(t, "scan", rows.Scan(&id, &s))
		n++
		for _, bad := range append([]string{"S3CRET"}, keys...) {
			if strings.Contains(s, bad) {
				t.Errorf("audit row %d contains %s: %s", id, bad, s)
			}
		}
	}
	mustNil(t, "rows", rows.Err())
	if n < 10 {
		t.Errorf("searched only %d audit rows", n)
	}
	for _, r := range allAudit(t, f.pool) {
		if cf, ok := r.Ch["changed_fields"].([]any); ok {
			if slices.Contains(cf, any("password")) || slices.Contains(cf, any("auth_token")) {
				t.Errorf("audit row %d lists an excluded column in changed_fields %v", r.ID, cf)
			}
		}
	}
}
