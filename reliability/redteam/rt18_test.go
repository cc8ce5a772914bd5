package redteam_test

import (
	"context"
	"time"

	"testing"

	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// TestRedTeamRT18Owner holds round 18's owner attacks on stale propagation (a login member of auditrepo_owner,
// c.Owner).
func TestRedTeamRT18Owner(t *testing.T) {
	c := clinictest.New(t).AddRecords(t) // an invoice of Appt1, Patient1's appointment

	// The rt16a attack (a read column swapped under invoices' trigger function) again, by dropping the hop table and
	// putting another under its name rather than by renaming a column: DROP TABLE appointments CASCADE (which drops
	// invoices' foreign key too) in one transaction with a copy of its rows, Appt1's patient now Patient2, renamed to
	// appointments. sql_drop only deletes appointments' row of audited_tables; the new table bears a name invoices'
	// reads hold, so it must be a plain table with no foreign code, but nobody compares its layout, and invoices'
	// trigger function is not made stale: it reads the new table's patient_id by name and files Patient1's invoice
	// under Patient2. Dropping (or replacing) a table that audited tables read must make them stale, as changing its
	// columns does.
	t.Run("hop_table_replaced_misfiles_dependents", func(t *testing.T) {
		owner := dedicated(t, c.Owner, nil)
		must(t, owner, "BEGIN")
		must(t, owner, "CREATE TABLE public.rt18_appts (LIKE public.appointments INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
		must(t, owner, "INSERT INTO public.rt18_appts SELECT * FROM public.appointments")
		must(t, owner, "UPDATE public.rt18_appts SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
		must(t, owner, "ALTER TABLE public.rt18_appts ADD PRIMARY KEY (id)")
		must(t, owner, "DROP TABLE public.appointments CASCADE")
		must(t, owner, "ALTER TABLE public.rt18_appts RENAME TO appointments")
		must(t, owner, "GRANT SELECT, INSERT, UPDATE, DELETE ON public.appointments TO auditrepo_app")
		must(t, owner, "GRANT SELECT, UPDATE (id) ON public.appointments TO auditrepo_writer")
		must(t, owner, "COMMIT")

		m := clinictest.MaxID(t, c.Reviewer)
		_, err := c.App.Exec(c.Ctx, "UPDATE invoices SET amount = amount + 1 WHERE id = $1", c.Invoice)
		if err == nil {
			for _, r := range clinictest.Since(t, c.Reviewer, m) {
				if r.TargetTable == "invoices" && r.TargetID == c.Invoice && (r.PatientID == nil || *r.PatientID != c.Patient1) {
					t.Errorf("FINDING: invoice %d of Patient1's appointment %d was filed under patient %v after the owner replaced public.appointments: invoices' trigger function reads the new table's patient_id by name and was not made stale",
						c.Invoice, c.Appt1, deref(r.PatientID))
				}
			}
			t.Errorf("UPDATE of invoice %d after public.appointments, which invoices' trigger function reads, was dropped and replaced: succeeded, want refused as stale (55000)", c.Invoice)
			return
		}
		refused(t, err, "55000", "writing invoices after the table its trigger function reads was replaced")
	})
}

// Two migrations changing the columns of two different audited tables at once (dental_records in one, documents in
// the other): each command's record_ddl_as grants the writer role CREATE on the audit schema, stales the table's
// trigger function and revokes the grant, updating the audit schema's pg_namespace row twice. The second waits for
// the first's transaction and then fails with "tuple concurrently updated" (XX000), though the two commands touch
// nothing in common: a DoS on concurrent migrations (and on InstallModels, which grants and revokes the same
// privilege), by the owner or anyone holding such a transaction open. The second command should succeed once the
// first commits.
func TestRedTeamRT18ConcurrentStaleGrants(t *testing.T) {
	c := clinictest.New(t)
	a := dedicated(t, c.Owner, nil)
	b := dedicated(t, c.Owner, nil)
	must(t, a, "BEGIN")
	must(t, a, "ALTER TABLE dental_records ADD COLUMN rt18_a integer")
	done := make(chan error, 1)
	go func() {
		_, err := b.Exec(context.Background(), "ALTER TABLE documents ADD COLUMN rt18_b integer")
		done <- err
	}()
	time.Sleep(500 * time.Millisecond) // b waits on a's update of pg_namespace
	must(t, a, "COMMIT")
	if err := <-done; err != nil {
		t.Errorf("FINDING: ALTER TABLE documents, concurrent with ALTER TABLE dental_records in another transaction: %v; want it to succeed (both tables made stale)", err)
	}
}
