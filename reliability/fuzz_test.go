package reliability_test

// FuzzAuditImage drives the users repository (the model with excluded fields) with arbitrary field values:
// create, update, password change, delete. For every input the audit JSON must decode, carry exactly the
// values that were stored, never carry the excluded fields (password, auth_token) by key or by value, and
// tell the record's history exactly (an UPDATE row only when a PHI field changed, its before equal to the
// CREATE's after, changed_fields exact). Values PostgreSQL cannot store (NUL, invalid UTF-8) must make the
// write fail, never panic, and write nothing.
//
// Seed corpus: testdata/fuzz/FuzzAuditImage (plus the f.Add seeds). Run it with
//
//	go test ./reliability -run '^$' -fuzz FuzzAuditImage -fuzztime 60s

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/migrations"
)

// userKeys are the keys of a users image in the trail: every column but the excluded password and auth_token.
var userKeys = []string{"id", "username", "email", "user_type", "role", "first_name", "last_name", "last_login", "updated_at"}

// storable reports whether PostgreSQL can store s as text.
func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

func userType(patient bool) string {
	if patient {
		return "patient"
	}
	return "staff"
}

func FuzzAuditImage(f *testing.F) {
	// username, email, password, auth_token, auth_token NULL, first_name, last_name, role, patient,
	// then the update: email, first_name, last_name, role, patient; then the new password.
	f.Add("alice", "alice@example.com", "hunter2", "tok-123", false, "Alice", "Liddell", "", true,
		"alice@new.example", "Alice", "Liddell", "", true, "correct horse")
	f.Add("bob", "b@x", "s3cret-pw", "", true, "Bob", "O'Brien \"the\" \\ tooth 🦷", "dentist", false,
		"b@x", "Bob", "O'Brien \"the\" \\ tooth 🦷", "dentist", false, "s3cret-pw2") // no PHI change: no UPDATE row
	f.Add("carol", "c@x", "Carol", "c@x", false, "Carol", "King", "", true,
		"c2@x", "Carol", "Kingston", "", false, "King") // secrets that are also audited values
	f.Add("dave", "d@x", "pw\x00nul", "tok", false, "Dave", "", "", true, "d@x", "Dave", "", "", true, "pw")
	f.Add("erin", "e\xffe@x", "pw", "tok", false, "Erin", "", "", true, "e@x", "Erin\x00", "", "", true, "pw\xc3")
	f.Add("", "", "", "", false, "", "", "", false, "", "", "", "", false, "")

	g := clinictest.New(f, clinictest.PoolSize(2))
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, username, email, password, authToken string, tokenNull bool, first, last, role string, patient bool,
		email2, first2, last2, role2 string, patient2 bool, newPassword string) {
		uname := fmt.Sprintf("fz%d-%s", seq.Add(1), username)
		if len(uname) > 600 { // users.username is UNIQUE: keep it well under the btree entry limit
			uname = uname[:600]
		}
		token := pgtype.Text{Valid: !tokenNull}
		if token.Valid {
			token.String = authToken
		}
		create := db.CreateUserParams{Username: uname, Email: email, Password: password, AuthToken: token,
			UserType: userType(patient), Role: role, FirstName: first, LastName: last}
		createOK := storable(uname) && storable(email) && storable(password) && (tokenNull || storable(authToken)) &&
			storable(role) && storable(first) && storable(last)

		var before map[string]string // what a refused write must not change
		if !createOK {
			before = clinictest.Snapshot(t, g.Super, "users", migrations.Audit.Schema+"."+migrations.Audit.Table)
		}
		u, err := g.R.User.Create(g.Ctx, create)
		if !createOK {
			if err == nil {
				t.Fatalf("Create with unstorable text succeeded: %+v", create)
			}
			if !clinictest.Unchanged(t, g.Super, before) {
				t.Fatal("a refused Create wrote rows")
			}
			return
		}
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if u.Username != uname || u.Email != email || u.Password != password || u.AuthToken != token ||
			u.UserType != create.UserType || u.Role != role || u.FirstName != first || u.LastName != last {
			t.Fatalf("Create returned %+v for %+v", u, create)
		}
		audited := []string{uname, email, create.UserType, role, first, last}
		secrets := []string{password}
		if token.Valid {
			secrets = append(secrets, authToken)
		}
		created := map[string]any{"username": uname, "email": email, "user_type": create.UserType, "role": role,
			"first_name": first, "last_name": last, "last_login": nil}

		// Update: the PHI fields change (or not); an update that changes none of them writes no row, and a
		// refused one changes nothing (the DELETE image below shows the row as it stayed).
		upd := db.UpdateUserParams{ID: u.ID, Email: email2, UserType: userType(patient2), Role: role2, FirstName: first2, LastName: last2}
		updOK := storable(email2) && storable(role2) && storable(first2) && storable(last2)
		u2, err := g.R.User.Update(g.Ctx, upd)
		final, changed := created, []string(nil)
		switch {
		case !updOK:
			if err == nil {
				t.Fatalf("Update with unstorable text succeeded: %+v", upd)
			}
		case err != nil:
			t.Fatalf("Update: %v", err)
		default:
			audited = append(audited, email2, upd.UserType, role2, first2, last2)
			final = map[string]any{"username": uname, "email": email2, "user_type": upd.UserType, "role": role2,
				"first_name": first2, "last_name": last2, "last_login": nil}
			for _, k := range []string{"email", "user_type", "role", "first_name", "last_name"} {
				if final[k] != created[k] {
					changed = append(changed, k)
				}
			}
		}

		// A password change is audited as a fact, never as a value: an UPDATE row names password (and
		// auth_token, which UpdatePassword clears) in changed_fields, and its images hold neither.
		var pwChanged []string // changed_fields of the password change's row; nil: no row
		_, err = g.R.User.UpdatePassword(g.Ctx, db.UpdateUserPasswordParams{ID: u.ID, Password: newPassword})
		switch {
		case !storable(newPassword):
			if err == nil {
				t.Fatalf("UpdatePassword with unstorable text succeeded")
			}
			var stored string
			if err := g.App.QueryRow(t.Context(), "SELECT password FROM users WHERE id = $1", u.ID).Scan(&stored); err != nil || stored != password {
				t.Fatalf("a refused UpdatePassword changed the password (%v)", err)
			}
		case err != nil:
			t.Fatalf("UpdatePassword: %v", err)
		default:
			secrets = append(secrets, newPassword)
			if newPassword != password {
				pwChanged = append(pwChanged, "password")
			}
			if token.Valid {
				pwChanged = append(pwChanged, "auth_token")
			}
			if pwChanged != nil {
				pwChanged = append(pwChanged, "updated_at")
			}
		}

		if err := g.R.User.Delete(g.Ctx, u.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}

		// The trail: CREATE, an UPDATE only if a PHI field changed, an UPDATE only if the password or the token
		// changed, DELETE.
		trail := clinictest.Record(t, g.Reviewer, "users", u.ID)
		wantActions := []string{"CREATE"}
		if len(changed) > 0 {
			wantActions = append(wantActions, "UPDATE")
		}
		if pwChanged != nil {
			wantActions = append(wantActions, "UPDATE")
		}
		wantActions = append(wantActions, "DELETE")
		var actions []string
		for _, r := range trail {
			actions = append(actions, r.Action)
		}
		if !slices.Equal(actions, wantActions) {
			t.Fatalf("trail %q, want %q (PHI fields changed: %q)", actions, wantActions, changed)
		}
		checkUserImage(t, trail[0], u.ID, created, u.UpdatedAt)
		if (trail[0].PatientID != nil) != patient || (patient && *trail[0].PatientID != u.ID) {
			t.Errorf("CREATE patient_id = %v, want the user's own id only for a patient", trail[0].PatientID)
		}
		if len(changed) > 0 {
			r := trail[1]
			checkUserImage(t, r, u.ID, final, u2.UpdatedAt)
			if !reflect.DeepEqual(r.Ch["before"], trail[0].Image()) {
				t.Errorf("UPDATE before %s differs from CREATE after %s", clinictest.Abbrev(r.Ch["before"]), clinictest.Abbrev(trail[0].Image()))
			}
			if got := stringsOrNil(r.Ch["changed_fields"]); !sameStrings(got, append(changed, "updated_at")) {
				t.Errorf("changed_fields = %q, want %q and updated_at", got, changed)
			}
		}
		if pwChanged != nil {
			r := trail[len(trail)-2]
			if got := stringsOrNil(r.Ch["changed_fields"]); !sameStrings(got, pwChanged) {
				t.Errorf("password change: changed_fields = %q, want %q", got, pwChanged)
			}
			// Its before is the previous row's image, but for updated_at when an Update changed nothing else
			// (a nonphi-only change writes no row).
			before, _ := r.Ch["before"].(map[string]any)
			prev := maps.Clone(trail[len(trail)-3].Image())
			if len(changed) == 0 && before != nil {
				prev["updated_at"] = before["updated_at"]
			}
			if !reflect.DeepEqual(before, prev) {
				t.Errorf("password change: before %s differs from the previous image %s", clinictest.Abbrev(r.Ch["before"]), clinictest.Abbrev(trail[len(trail)-3].Image()))
			}
			checkUserImage(t, r, u.ID, final, pgtype.Timestamptz{})
		}
		// The DELETE shows the row as it was, after the password change: only excluded and nonphi columns moved.
		checkUserImage(t, trail[len(trail)-1], u.ID, final, pgtype.Timestamptz{})

		for _, r := range trail {
			if !json.Valid(r.Changes) {
				t.Errorf("audit row %d: changes are not valid JSON", r.ID)
			}
			for _, k := range []string{"password", "auth_token"} {
				if anyKeyIs(r.Ch, k) {
					t.Errorf("audit row %d (%s) holds the excluded field %s: %s", r.ID, r.Action, k, string(r.Changes))
				}
			}
			allowed := append(slices.Clone(audited), userKeys...)
			// changed_fields names the excluded columns when they change: their names prove nothing either.
			allowed = append(allowed, "before", "after", "changed_fields", "deleted_record", "password", "auth_token", strconv.FormatInt(u.ID, 10))
			for _, img := range []any{r.Ch["before"], r.Ch["after"], r.Ch["deleted_record"]} {
				if m, ok := img.(map[string]any); ok {
					allowed = append(allowed, str(m["updated_at"]), str(m["last_login"]))
				}
			}
			for _, s := range secrets {
				if s == "" || slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(a, s) }) {
					continue // the secret is also part of an audited value: its presence proves nothing
				}
				if anyLeafContains(r.Ch, s) {
					t.Errorf("audit row %d (%s) contains the excluded value %q: %s", r.ID, r.Action, s, string(r.Changes))
				}
			}
		}
	})
}

// checkUserImage checks the image of audit row r: exactly the keys of userKeys, id, the values of want, and
// updated_at (the instant of updatedAt, when valid).
func checkUserImage(t *testing.T, r clinictest.Row, id int64, want map[string]any, updatedAt pgtype.Timestamptz) {
	t.Helper()
	img := r.Image()
	var keys []string
	for k := range img {
		keys = append(keys, k)
	}
	if !sameStrings(keys, userKeys) {
		t.Errorf("audit row %d (%s): keys %q, want %q", r.ID, r.Action, keys, userKeys)
	}
	if clinictest.JSONInt(img["id"]) != id {
		t.Errorf("audit row %d: id %v, want %d", r.ID, img["id"], id)
	}
	for k, w := range want {
		if v, ok := img[k]; !ok || v != w {
			t.Errorf("audit row %d (%s): %s = %q, want %q", r.ID, r.Action, k, clinictest.Abbrev(v), clinictest.Abbrev(w))
		}
	}
	if updatedAt.Valid {
		got, err := time.Parse(time.RFC3339Nano, str(img["updated_at"]))
		if err != nil || !got.Equal(updatedAt.Time) {
			t.Errorf("audit row %d: updated_at %v, want %v", r.ID, img["updated_at"], updatedAt.Time)
		}
	}
}

func anyKeyIs(v any, key string) bool {
	switch v := v.(type) {
	case []any:
		return slices.ContainsFunc(v, func(x any) bool { return anyKeyIs(x, key) })
	case map[string]any:
		for k, x := range v {
			if k == key || anyKeyIs(x, key) {
				return true
			}
		}
	}
	return false
}

func stringsOrNil(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
