package integration_test

import (
	"maps"
	"math"
	"net/netip"
	"strings"
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
		// The rest of a claim, as claim() would append it after the method: still one field each.
		{Kind: audit.KindSystem, UserAgent: `x",user,424242,,,)`, RequestID: `\",user,424242,"y","z")`},
		{Kind: audit.KindSystem, IP: netip.MustParseAddr("198.51.100.7"), UserAgent: "ünïcødé 🦷 ,()", RequestID: `""`},
		// A trailing backslash, which would escape the closing quote if it were not escaped itself.
		{Kind: audit.KindUser, UserID: 42, IP: netip.MustParseAddr("2001:db8::7"), UserAgent: `Mozilla/5.0 (X11; "Linux", x86_64) \ C:\dir\`, RequestID: ` ("r", 1) \" , \`},
		{Kind: audit.KindSystem, UserAgent: `\`, RequestID: `) garbage (`},
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

// The claim is a condition of the repository's statement: PostgreSQL must evaluate it before the statement
// changes a row. A BEFORE ROW trigger (the user's own kind of trigger, running just before each row changes)
// records the claim setting it sees: for every row of the shapes the appointment repository sends (INSERT ...
// SELECT of one row, a bulk insert from unnest and a multi-row UPDATE with the claim as an InitPlan, an UPDATE
// and a DELETE with the claim in their WHERE) it must already be this statement's claim.
func TestClaimBeforeRowChanges(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	for _, ddl := range []string{
		"CREATE TABLE claim_seen (n bigserial, op text, row_id bigint, claim text, at timestamptz DEFAULT statement_timestamp())",
		`CREATE FUNCTION see_claim() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
		BEGIN
			INSERT INTO public.claim_seen (op, row_id, claim) VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
				current_setting('auditrepo.claim', true));
			RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
		END $$`,
		"CREATE TRIGGER see_claim BEFORE INSERT OR UPDATE OR DELETE ON appointments FOR EACH ROW EXECUTE FUNCTION see_claim()",
	} {
		if _, err := f.Super.Exec(f.Ctx, ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	a := f.Appointment(t, f.Ctx, db.CreateAppointmentParams{Type: "claim-order"})
	f.Appointment(t, f.Ctx, db.CreateAppointmentParams{Type: "claim-order"})
	p := db.CreateAppointmentParams{PatientID: a.PatientID, DentistID: a.DentistID, ClinicID: a.ClinicID, Date: a.Date,
		Time: a.Time, Type: "claim-order", Status: "confirmed"}
	bulk := []db.CreateAppointmentParams{p, p, p}
	if _, err := f.R.Appointment.CreateMany(f.Ctx, bulk); err != nil {
		t.Fatal(err)
	}
	if _, err := f.R.Appointment.UpdateStatus(f.Ctx, db.UpdateAppointmentStatusParams{ID: a.ID, Status: "confirmed"}); err != nil {
		t.Fatal(err)
	}
	cancelled, err := f.R.Appointment.CancelScheduled(f.Ctx, f.Patient1)
	if err != nil || len(cancelled) < 2 {
		t.Fatalf("CancelScheduled: %d rows, %v; want at least the 2 new appointments", len(cancelled), err)
	}
	if err := f.R.Appointment.Delete(f.Ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"Create": 2, "CreateMany": len(bulk), "UpdateStatus": 1, "CancelScheduled": len(cancelled), "Delete": 1}
	// The start of this statement's claim: the statement's timestamp in UTC, as claim_prefix writes it, then the table.
	rows, _ := f.Super.Query(f.Ctx, `SELECT op, row_id, coalesce(claim, ''), '("' || timezone('UTC', at)::text || '","appointments",' FROM claim_seen ORDER BY n`)
	seen := map[string]int{}
	for rows.Next() {
		var op, claim, prefix string
		var id int64
		if err := rows.Scan(&op, &id, &claim, &prefix); err != nil {
			t.Fatal(err)
		}
		// The claim is an auditrepo.claimed row's text: this statement's prefix, then the method.
		method := ""
		for m := range want {
			if strings.HasPrefix(claim, prefix+`"AppointmentRepo.`+m+`",`) {
				method = m
			}
		}
		if method == "" {
			t.Errorf("%s of appointment %d saw claim %q before it changed, want this statement's (prefix %s)", op, id, claim, prefix)
			continue
		}
		seen[method]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(seen, want) {
		t.Errorf("rows that saw their statement's claim before changing, by method: %v, want %v", seen, want)
	}
}
