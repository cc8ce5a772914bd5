package redteam_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/migrations"
)

// Red-team round rt16a: attacks not covered by TestRedTeamOwner and TestRedTeamApp. Each subtest asserts the
// secure outcome, so each fails while its attack works.

// TestRedTeamRT16aOwner holds the owner's attacks (a login member of auditrepo_owner, c.Owner).
func TestRedTeamRT16aOwner(t *testing.T) {
	c := clinictest.New(t).AddRecords(t) // an invoice of Appt1: the concurrent build below has a row to fail on
	ctx := context.Background()

	// A CREATE INDEX CONCURRENTLY that fails after its first transaction leaves its index behind, invalid, and no
	// ddl_command_end event fires for it: nothing is recorded, and the audited tables that read the table are not
	// made stale (the guard of concurrent_index_with_code_stops_writes only runs when the build succeeds). A REINDEX
	// (no event trigger) then makes the index valid. Its predicate calls the owner's function with a constant, which
	// the planner folds when it first plans a read of the table in a session: in appointments' trigger function,
	// listing the invoices a patient move takes along, as the writer role. There the owner's code adds audit rows of
	// its choosing: here a DELETE of appointment 777 by the dentist, which never happened.
	t.Run("failed_concurrent_index_plants_writer_code", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), `DROP INDEX IF EXISTS public.rt16a_cic;
				DROP FUNCTION IF EXISTS public.rt16a_gate(integer), public.rt16a_fail(bigint), public.rt16a_plant()`)
		})
		owner := dedicated(t, c.Owner, nil)
		must(t, owner, fmt.Sprintf(`CREATE FUNCTION public.rt16a_plant() RETURNS void LANGUAGE plpgsql AS $$
			BEGIN
				INSERT INTO auditrepo.audit_log_writes (actor_kind, actor_id, action, target_table, target_id, patient_id, changes)
				VALUES ('user', %d, 'DELETE', 'appointments', 777, %d, '{"deleted_record": {"id": 777, "type": "rt16a-forged"}}');
			END $$`, c.Dentist, c.Patient2))
		// Folded with its constant argument when a session first plans a read of invoices: as whoever plans it.
		must(t, owner, `CREATE FUNCTION public.rt16a_gate(v integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
			BEGIN
				IF current_user = '`+migrations.Audit.Writer+`' THEN
					PERFORM public.rt16a_plant();
				END IF;
				RETURN v;
			END $$`)
		// Called for each row by the build (not by the CREATE's first transaction): fails it while rt16a.fail is on.
		must(t, owner, `CREATE FUNCTION public.rt16a_fail(v bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
			BEGIN
				IF current_setting('rt16a.fail', true) = 'on' THEN
					RAISE EXCEPTION 'rt16a: the concurrent build fails on purpose';
				END IF;
				RETURN v;
			END $$`)
		dm := ddlMark(t, c)
		must(t, owner, "SET rt16a.fail = on")
		_, err := owner.Exec(ctx, "CREATE INDEX CONCURRENTLY rt16a_cic ON public.invoices ((public.rt16a_fail(appointment_id))) WHERE public.rt16a_gate(1) = 1")
		if err == nil || !strings.Contains(err.Error(), "fails on purpose") {
			t.Fatalf("the concurrent build: %v, want it to fail in its build", err)
		}
		must(t, owner, "RESET rt16a.fail")
		var valid bool
		if err := c.Super.QueryRow(ctx, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.rt16a_cic'::regclass").Scan(&valid); err != nil {
			t.Fatalf("the failed build left no index behind (%v): the attack was not made", err)
		}
		must(t, owner, "REINDEX INDEX public.rt16a_cic")

		ddl := ddlSince(t, c, dm)
		if !slices.ContainsFunc(ddl, func(d ddlRow) bool { return strings.Contains(d.ObjectIdentity+d.Statement, "rt16a_cic") }) {
			t.Errorf("FINDING: the failed CREATE INDEX CONCURRENTLY of public.rt16a_cic (using %s's functions, on a table the trigger functions read) is not in ddl_log: %+v",
				"the owner", ddl)
		}

		// The application moves Appt1 (and its invoice) to Patient2, on a session that has not read invoices yet.
		app := dedicated(t, c.App, nil)
		m := clinictest.MaxID(t, c.Reviewer)
		_, err = app.Exec(ctx, "UPDATE appointments SET patient_id = $1 WHERE id = $2", c.Patient2, c.Appt1)
		rows := clinictest.Since(t, c.Reviewer, m)
		if err != nil {
			refused(t, err, "55000", "a write to a table whose trigger function reads an index made of the owner's code")
			if len(rows) != 0 {
				t.Errorf("a refused write left audit rows %v", rows)
			}
			return
		}
		for _, r := range rows {
			switch {
			case r.Action == "UPDATE" && r.TargetTable == "appointments" && r.TargetID == c.Appt1:
			case r.Action == "MOVE" && r.TargetTable == "invoices" && r.TargetID == c.Invoice:
			default:
				t.Errorf("FINDING: an audit row no change made, added by the owner's code run as %s: %v (db_role %s, actor %s/%v)",
					migrations.Audit.Writer, r, r.DBRole, r.ActorKind, deref(r.ActorID))
			}
		}
	})
}
