package redteam_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/migrations"
)

// TestRedTeamOwnerReads holds the owner's attacks on the tables the audit trigger functions read (a login member
// of auditrepo_owner, c.Owner): code planted for the writer role to run, and columns swapped under a reader.
func TestRedTeamOwnerReads(t *testing.T) {
	c := clinictest.New(t).AddRecords(t) // an invoice of Appt1: the concurrent build below has a row to fail on
	ctx := context.Background()

	// A CREATE INDEX CONCURRENTLY that fails after its first transaction leaves its index behind, invalid, and no
	// ddl_command_end event fires for it: nothing would be recorded, and the audited tables that read the table would
	// not be made stale (the guard of concurrent_index_with_code_stops_writes only runs when the build succeeds). A
	// REINDEX (no event trigger) would then make the index valid. Its predicate calls the owner's function with a
	// constant, which the planner folds when it first plans a read of the table in a session: in appointments'
	// trigger function, listing the invoices a patient move takes along, as the writer role. There the owner's code
	// would add audit rows of its choosing: here a DELETE of appointment 777 by the dentist, which never happened.
	// The event trigger refuses the owner's CREATE INDEX CONCURRENTLY at ddl_command_start, before any index exists.
	t.Run("failed_concurrent_index_plants_writer_code", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), `DROP INDEX IF EXISTS public.rt_cic;
				DROP FUNCTION IF EXISTS public.rt_gate(integer), public.rt_fail(bigint), public.rt_plant()`)
		})
		owner := dedicated(t, c.Owner, nil)
		must(t, owner, fmt.Sprintf(`CREATE FUNCTION public.rt_plant() RETURNS void LANGUAGE plpgsql AS $$
			BEGIN
				INSERT INTO auditrepo.audit_log_writes (actor_kind, actor_id, action, target_table, target_id, patient_id, changes)
				VALUES ('user', %d, 'DELETE', 'appointments', 777, %d, '{"deleted_record": {"id": 777, "type": "forged"}}');
			END $$`, c.Dentist, c.Patient2))
		// Folded with its constant argument when a session first plans a read of invoices: as whoever plans it.
		must(t, owner, `CREATE FUNCTION public.rt_gate(v integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
			BEGIN
				IF current_user = '`+migrations.Audit.Writer+`' THEN
					PERFORM public.rt_plant();
				END IF;
				RETURN v;
			END $$`)
		// Called for each row by the build (not by the CREATE's first transaction): fails it while redteam.fail is on.
		must(t, owner, `CREATE FUNCTION public.rt_fail(v bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
			BEGIN
				IF current_setting('redteam.fail', true) = 'on' THEN
					RAISE EXCEPTION 'redteam: the concurrent build fails on purpose';
				END IF;
				RETURN v;
			END $$`)
		must(t, owner, "SET redteam.fail = on")
		try(t, owner, denied+" CREATE INDEX CONCURRENTLY refused",
			"CREATE INDEX CONCURRENTLY rt_cic ON public.invoices ((public.rt_fail(appointment_id))) WHERE public.rt_gate(1) = 1")
		must(t, owner, "RESET redteam.fail")
		var left bool
		if err := c.Super.QueryRow(ctx, "SELECT to_regclass('public.rt_cic') IS NOT NULL").Scan(&left); err != nil || left {
			t.Fatalf("the refused build left an index rt_cic behind: %v (%v)", left, err)
		}

		// The application moves Appt1 (and its invoice) to Patient2, on a session that has not read invoices yet:
		// only its true rows are written.
		app := dedicated(t, c.App, nil)
		m := clinictest.MaxID(t, c.Reviewer)
		must(t, app, "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
		for _, r := range clinictest.Since(t, c.Reviewer, m) {
			switch {
			case r.Action == "UPDATE" && r.TargetTable == "appointments" && r.TargetID == c.Appt1:
			case r.Action == "MOVE" && r.TargetTable == "invoices" && r.TargetID == c.Invoice:
			default:
				t.Errorf("FINDING: an audit row no change made, added by the owner's code run as %s: %v (db_role %s, actor %s/%v)",
					migrations.Audit.Writer, r, r.DBRole, r.ActorKind, deref(r.ActorID))
			}
		}
		var forged int
		if err := c.Reviewer.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log WHERE changes::text LIKE '%forged%'").Scan(&forged); err != nil || forged != 0 {
			t.Errorf("FINDING: %d forged audit rows (%v)", forged, err)
		}
	})

	// A column a trigger function reads in another table (invoices' finds its patient in appointments.patient_id)
	// renamed away, and a column of that name added with the patient of the owner's choosing as its default: the
	// layout of appointments changed, so its own writes are refused (stale); invoices' trigger function, which reads
	// appointments.patient_id by name, would file every invoice change under the new column's patient, and the real
	// patient's trail would silently miss them. It is made stale too: the audited tables whose trigger functions
	// read a table whose layout changed refuse writes until the models are installed again.
	t.Run("read_column_swapped_misfiles_dependents", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), `ALTER TABLE appointments DROP COLUMN IF EXISTS patient_id;
				ALTER TABLE appointments RENAME COLUMN rt_real_patient TO patient_id`)
			if err := repo.Install(context.Background(), c.Super, auditschema.Config{}); err != nil {
				t.Errorf("repo.Install after undoing the swap: %v", err)
			}
		})
		dm := ddlMark(t, c)
		must(t, c.Owner, "ALTER TABLE appointments RENAME COLUMN patient_id TO rt_real_patient")
		must(t, c.Owner, fmt.Sprintf("ALTER TABLE appointments ADD COLUMN patient_id bigint NOT NULL DEFAULT %d", c.Patient2))
		if ddl := ddlSince(t, c, dm); len(ddl) < 2 {
			t.Errorf("the owner's ALTER TABLEs are not in ddl_log: %+v", ddl)
		}
		// appointments itself refuses writes until installed again, and so does invoices, which reads it.
		m := clinictest.MaxID(t, c.Reviewer)
		try(t, c.App, "55000", "UPDATE appointments SET type = 'forged' WHERE id = $1", c.Appt1)
		try(t, c.App, "55000 they read public.appointments", "UPDATE invoices SET amount = amount + 1 WHERE id = $1", c.Invoice)
		// An invoice of Appt1, Patient1's appointment, through the repository, by the dentist.
		_, err := repo.NewInvoiceRepo(c.App).Create(c.Ctx, db.CreateInvoiceParams{AppointmentID: c.Appt1,
			Amount: pgtype.Numeric{Int: big.NewInt(500), Exp: -2, Valid: true}, Status: "open",
			DueDate: pgtype.Date{Time: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Valid: true}})
		if !errors.Is(err, audit.ErrAuditWrite) {
			t.Errorf("FINDING: creating an invoice of appointment %d (patient %d): %v, want it refused as stale (ErrAuditWrite): invoices' trigger function reads appointments.patient_id by name, now the owner's column",
				c.Appt1, c.Patient1, err)
		}
		if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 0 {
			t.Errorf("refused writes left audit rows %v", rows)
		}
	})
}
