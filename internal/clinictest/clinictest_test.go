package clinictest_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// The fixture's writes are the repositories': each one has its CREATE row, attributed to the fixture's system
// actor, and the reviewer role can read them.
func TestFixtureTrail(t *testing.T) {
	c := clinictest.New(t)
	rows := clinictest.All(t, c.Reviewer)
	if len(rows) != 5 {
		t.Fatalf("the fixture wrote %d audit rows, want 5 (3 users, 2 appointments)", len(rows))
	}
	for _, r := range rows {
		if r.Action != "CREATE" || r.ActorKind != "system" || r.UserAgent == nil || *r.UserAgent != "fixture" || r.DBRole != "auditrepo_app" {
			t.Errorf("row %d: %s by %s (%v) as %s, want CREATE by system fixture as auditrepo_app", r.ID, r.Action, r.ActorKind, r.UserAgent, r.DBRole)
		}
	}
	appt := clinictest.Record(t, c.Reviewer, "appointments", c.Appt2)
	if len(appt) != 1 || appt[0].PatientID == nil || *appt[0].PatientID != c.Patient2 || appt[0].Method == nil || *appt[0].Method != "AppointmentRepo.Create" {
		t.Fatalf("appointment %d's trail = %+v, want its CREATE under patient %d by AppointmentRepo.Create", c.Appt2, appt, c.Patient2)
	}
}

// TestChainProblemsDetects feeds ChainProblems broken trails, so that its silence on real data means something.
func TestChainProblemsDetects(t *testing.T) {
	img := func(notes string, updated string) map[string]any {
		return map[string]any{"id": json.Number("7"), "notes": notes, "updated_at": updated}
	}
	row := func(id int64, action string, tx uint64, ch map[string]any) clinictest.Row {
		return clinictest.Row{ID: id, TransactionID: tx, Action: action, TargetTable: "t", TargetID: 7, Ch: ch}
	}
	create := row(1, "CREATE", 100, map[string]any{"after": img("a", "t1")})
	update := func(id int64, tx uint64, before, after map[string]any, changed ...any) clinictest.Row {
		return row(id, "UPDATE", tx, map[string]any{"before": before, "after": after, "changed_fields": changed})
	}
	good := []clinictest.Row{create, update(2, 101, img("a", "t1"), img("b", "t2"), "notes", "updated_at")}
	live := clinictest.Live{Img: img("b", "t2"), Xmin: 101}
	if p := clinictest.ChainProblems("t", 7, good, live, true, nil); len(p) != 0 {
		t.Fatalf("a sound trail is reported: %q", p)
	}
	del := row(3, "DELETE", 102, map[string]any{"deleted_record": img("b", "t2")})
	cases := map[string]struct {
		trail  []clinictest.Row
		live   clinictest.Live
		exists bool
	}{
		"version skipped (an audit row is missing)": {
			[]clinictest.Row{create, update(2, 101, img("x", "t9"), img("b", "t2"), "notes", "updated_at")}, live, true},
		"live row changed without an audit row":      {good, clinictest.Live{Img: img("c", "t3"), Xmin: 102}, true},
		"live row written by another transaction":    {good, clinictest.Live{Img: img("b", "t2"), Xmin: 105}, true},
		"audit row without its change (rolled back)": {good, clinictest.Live{Img: img("a", "t1"), Xmin: 100}, true},
		"deleted without an audit row":               {good, clinictest.Live{}, false},
		"DELETE row but the row exists":              {append(slices.Clone(good), del), live, true},
		"DELETE of a version that never existed": {
			append(slices.Clone(good), row(3, "DELETE", 102, map[string]any{"deleted_record": img("z", "t2")})), clinictest.Live{}, false},
		"row after DELETE": {
			append(slices.Clone(good), del, update(4, 103, img("b", "t2"), img("c", "t3"), "notes", "updated_at")), clinictest.Live{}, false},
		"no CREATE":                  {good[1:], live, true},
		"changed_fields incomplete":  {[]clinictest.Row{create, update(2, 101, img("a", "t1"), img("b", "t2"), "updated_at")}, live, true},
		"changed_fields overclaims":  {[]clinictest.Row{create, update(2, 101, img("a", "t1"), img("a", "t2"), "notes", "updated_at")}, clinictest.Live{Img: img("a", "t2"), Xmin: 101}, true},
		"live row without any trail": {nil, live, true},
	}
	for name, c := range cases {
		if p := clinictest.ChainProblems("t", 7, c.trail, c.live, c.exists, nil); len(p) == 0 {
			t.Errorf("%s: not detected", name)
		}
	}
}

// recorder is a testing.TB that keeps what Error and Errorf report instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Error(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCheckChain: a sound record passes, and one that exists where the test wants it deleted is reported, so
// that CheckChain's silence means something.
func TestCheckChain(t *testing.T) {
	c := clinictest.New(t)
	redact := []string{"notes"}
	if trail := c.CheckChain(t, "appointments", c.Appt1, redact, true); len(trail) != 1 || trail[0].Action != "CREATE" {
		t.Errorf("CheckChain returned %v, want the fixture's CREATE row", trail)
	}
	r := &recorder{TB: t}
	c.CheckChain(r, "appointments", c.Appt1, redact, false)
	if len(r.errs) == 0 {
		t.Error("a record that exists where it should be deleted is not reported")
	}
}

// TestUnchanged: Unchanged is silent when nothing changed and reports a changed table.
func TestUnchanged(t *testing.T) {
	c := clinictest.New(t)
	before := clinictest.Snapshot(t, c.Super, "appointments", "users")
	if !clinictest.Unchanged(t, c.Super, before) {
		t.Fatal("Unchanged reports a change where there is none")
	}
	if _, err := c.Super.Exec(t.Context(), "UPDATE users SET first_name = 'changed' WHERE id = $1", c.Patient1); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	if clinictest.Unchanged(r, c.Super, before) || len(r.errs) != 1 {
		t.Errorf("a changed users table: Unchanged reported %q, want one error (users)", r.errs)
	}
}
