package clinictest_test

import (
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
