package integration_test

import (
	"math"
	"net/netip"
	"testing"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// The claim travels from claim() to the triggers as the text of an auditrepo.claimed row: an actor whose text
// fields hold that form's own syntax (quotes, commas, parentheses, backslashes, spaces, the word NULL) arrives in
// the audit row as it was claimed, neither refused nor read as other fields.
func TestClaimRoundTrip(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	actors := []audit.Actor{
		{Kind: audit.KindUser, UserID: 7, IP: netip.MustParseAddr("203.0.113.9"), UserAgent: `Mozilla/5.0 (X11; Linux) "quoted", \back\slash`, RequestID: `(user,1,,,,)`},
		{Kind: audit.KindUser, UserID: math.MaxInt64, IP: netip.MustParseAddr("2001:db8::1"), UserAgent: " leading and trailing ", RequestID: `","`},
		{Kind: audit.KindUser, UserID: -1, UserAgent: "NULL", RequestID: `\`},
		{Kind: audit.KindSystem, UserAgent: `)",(system`},
		{Kind: audit.KindSystem, IP: netip.MustParseAddr("198.51.100.7"), UserAgent: "ünïcødé 🦷 ,()", RequestID: `""`},
	}
	for i, a := range actors {
		status := []string{"confirmed", "scheduled"}[i%2]
		if _, err := f.R.Appointment.UpdateStatus(audit.WithActor(f.Ctx, a), db.UpdateAppointmentStatusParams{ID: f.Appt1, Status: status}); err != nil {
			t.Fatalf("actor %d: %v", i, err)
		}
		rows := clinictest.Record(t, f.Reviewer, "appointments", f.Appt1)
		last := rows[len(rows)-1]
		if last.Action != "UPDATE" || ptext(last.Method) != text("AppointmentRepo.UpdateStatus") {
			t.Fatalf("actor %d: last row %s, want the UpdateStatus", i, last)
		}
		checkActor(t, last, a)
	}
}
