package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// The breakdown (-breakdown N) measures on the server where the audited path's time goes beyond the floor's:
// PL/pgSQL loops timed with the backend's own CPU time (/proc/self/schedstat read with pg_read_file; the wall
// clock when that is not permitted), the minimum of several runs, variants interleaved. Two tables:
//
//   - statements: N single-row Updates per variant and run, each its own transaction (a DO block committing
//     after each, synchronous_commit off so no run waits for the disk), on the floor's table with the trigger
//     function swapped per variant: the floor, then adding one part of the audited path at a time, then the
//     previous wrapper (schema bd, dropped afterwards; auditschema itself is not changed);
//   - calls: N calls of each function in one transaction (what a call costs once its plans are cached).
//
// It runs after every other phase (it writes to the floor's tables) and is not part of `make bench`'s default.

// bdSetup creates the probes of what a function's attributes cost.
const bdSetup = `
DROP SCHEMA IF EXISTS bd CASCADE;
CREATE SCHEMA bd;
CREATE FUNCTION bd.f_plain() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$;
CREATE FUNCTION bd.f_secdef() RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN RETURN 1; END$$;
CREATE FUNCTION bd.f_set() RETURNS int LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$BEGIN RETURN 1; END$$;
CREATE FUNCTION bd.f_both() RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$BEGIN RETURN 1; END$$;
`

type bdResult struct {
	label string
	min   float64
	runs  []float64
}

func (b *bench) breakdown(ctx context.Context) error {
	if b.c.Breakdown < 1 {
		return nil
	}
	conn := b.adm
	if _, err := conn.Exec(ctx, bdSetup); err != nil {
		return fmt.Errorf("breakdown setup: %w", err)
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS bd CASCADE")
	var real, floor string
	if err := conn.QueryRow(ctx, "SELECT pg_get_functiondef($1::regprocedure), pg_get_functiondef('floor.audit_appointments()'::regprocedure)", realFunc).Scan(&real, &floor); err != nil {
		return err
	}
	body := strings.ReplaceAll(real, realWrites+" ", "floor.audit_log ")
	defs := []string{
		strings.Replace(body, realFunc, "bd.f_real()", 1),
		strings.Replace(strings.Replace(floor, "floor.audit_appointments()", "bd.f_sd()", 1),
			"\n LANGUAGE plpgsql\n", "\n LANGUAGE plpgsql\n SECURITY DEFINER\n SET search_path TO 'pg_catalog', 'pg_temp'\n", 1),
	}
	for _, d := range defs {
		if strings.Contains(d, "auditrepo.audit_log") || !strings.Contains(d, "bd.f_") {
			return fmt.Errorf("breakdown: a derived trigger function did not rewrite:\n%s", d)
		}
		if _, err := conn.Exec(ctx, d); err != nil {
			return fmt.Errorf("breakdown: %s: %w", firstLine(d), err)
		}
	}
	if _, err := conn.Exec(ctx, "SET synchronous_commit = off"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "RESET synchronous_commit")
	clock := "split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint / 1000.0"
	b.res.bdClock = "server CPU time of the backend (/proc/self/schedstat)"
	if _, err := conn.Exec(ctx, "SELECT "+clock); err != nil {
		clock = "extract(epoch FROM clock_timestamp()) * 1e6"
		b.res.bdClock = "wall clock (clock_timestamp(); /proc/self/schedstat not readable)"
	}
	setTrigger := func(f string) error {
		_, err := conn.Exec(ctx, fmt.Sprintf(`DROP TRIGGER IF EXISTS audit_insert ON floor.appointments;
			DROP TRIGGER IF EXISTS audit_update ON floor.appointments;
			DROP TRIGGER IF EXISTS audit_delete ON floor.appointments;
			CREATE TRIGGER audit_insert AFTER INSERT ON floor.appointments REFERENCING NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION %[1]s();
			CREATE TRIGGER audit_update AFTER UPDATE ON floor.appointments REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new FOR EACH STATEMENT EXECUTE FUNCTION %[1]s();
			CREATE TRIGGER audit_delete AFTER DELETE ON floor.appointments REFERENCING OLD TABLE AS ar_old FOR EACH STATEMENT EXECUTE FUNCTION %[1]s();`, f))
		return err
	}
	defer setTrigger("floor.audit_appointments")
	a := b.arms[armAudited].actor
	actor, err := claimActor(ctx, conn, a)
	if err != nil {
		return err
	}
	claimArgs := actor + ", 'appointments', 'AppointmentRepo.Update'"
	upd := "UPDATE %[1]s SET status = CASE status WHEN 'scheduled' THEN 'confirmed' ELSE 'scheduled' END, updated_at = now() WHERE id = k"
	// The generated shape: the claim ANDed to the statement's WHERE condition.
	claimed := upd + " AND %[2]s(" + claimArgs + ")"
	// The previous shape: the statement in a CTE under a one-time filter on the claim.
	inCTE := "WITH ar_write AS (" + upd + " RETURNING *) SELECT count(*) INTO n FROM ar_write WHERE (SELECT %[2]s(" + claimArgs + "))"
	type variant struct{ label, table, trigger, claim, wrap string }
	variants := []variant{
		{"raw: no trigger", "raw.appointments", "", "", ""},
		{"floor", "floor.appointments", "floor.audit_appointments", "", ""},
		{"floor + SECURITY DEFINER + SET search_path", "floor.appointments", "bd.f_sd", "", ""},
		{"generated trigger (+ actor()), no claim", "floor.appointments", "bd.f_real", "", ""},
		{"floor trigger + claim", "floor.appointments", "floor.audit_appointments", "auditrepo_claim.claim", claimed},
		{"generated trigger + claim (= audited)", "floor.appointments", "bd.f_real", "auditrepo_claim.claim", claimed},
		{"audited on its own tables (public, auditrepo)", "public.appointments", "", "auditrepo_claim.claim", claimed},
		{"the statement in a CTE under WHERE (SELECT claim)", "floor.appointments", "bd.f_real", "auditrepo_claim.claim", inCTE},
	}
	n := b.c.Breakdown
	stmt := make([]bdResult, len(variants))
	for r := range b.c.BreakdownRuns {
		for j := range variants {
			i := (j + r) % len(variants)
			v := variants[i]
			stmt[i].label = v.label
			if v.trigger != "" {
				if err := setTrigger(v.trigger); err != nil {
					return err
				}
			}
			s := fmt.Sprintf(upd, v.table)
			if v.claim != "" {
				s = fmt.Sprintf(v.wrap, v.table, v.claim)
			}
			us, err := b.bdRun(ctx, fmt.Sprintf(`DO $x$
				DECLARE ids bigint[] := ARRAY(SELECT id FROM %[1]s ORDER BY id LIMIT 500); t0 float8; n bigint; k bigint;
				BEGIN
					FOR i IN 1..100 LOOP k := ids[1 + i %% 500]; %[2]s; COMMIT; END LOOP;
					t0 := %[3]s;
					FOR i IN 1..%[4]d LOOP k := ids[1 + i %% 500]; %[2]s; COMMIT; END LOOP;
					PERFORM set_config('auditbench.bd', ((%[3]s - t0) / %[4]d)::text, false);
				END $x$`, v.table, s, clock, n))
			if err != nil {
				return fmt.Errorf("breakdown %s: %w", v.label, err)
			}
			stmt[i].runs = append(stmt[i].runs, us)
		}
		if ctx.Err() != nil {
			return errCanceled
		}
	}
	claimNow := "PERFORM auditrepo_claim.claim(" + claimArgs + ")"
	calls := []struct{ label, pre, call string }{
		{"empty loop (PERFORM 1)", "NULL", "PERFORM 1"},
		{"plpgsql function, plain", "NULL", "PERFORM bd.f_plain()"},
		{"  SECURITY DEFINER", "NULL", "PERFORM bd.f_secdef()"},
		{"  SET search_path", "NULL", "PERFORM bd.f_set()"},
		{"  SECURITY DEFINER + SET search_path", "NULL", "PERFORM bd.f_both()"},
		{"auditrepo_claim.claim_prefix (inlined SQL)", "NULL", "PERFORM auditrepo_claim.claim_prefix('appointments')"},
		{"auditrepo_claim.claim (inlined SQL)", "NULL", claimNow},
		{"auditrepo.actor, no claim", "PERFORM set_config('auditrepo.claim', '', true)", "PERFORM auditrepo.actor('appointments')"},
		{"auditrepo.actor, claim (its row parsed)", claimNow, "PERFORM auditrepo.actor('appointments')"},
		{"peers: current_setting(...)::jsonb", "PERFORM set_config('auditbench.actor', " + sqltext.Literal(actorJSON(a, "AppointmentRepo.Update")) + ", true)",
			"PERFORM NULLIF(current_setting('auditbench.actor', true), '')::jsonb"},
	}
	fn10k := 10000
	call := make([]bdResult, len(calls))
	for r := range b.c.BreakdownRuns {
		for j := range calls {
			i := (j + r) % len(calls)
			c := calls[i]
			call[i].label = c.label
			us, err := b.bdRun(ctx, fmt.Sprintf(`DO $x$
				DECLARE t0 float8;
				BEGIN
					%[1]s;
					FOR i IN 1..100 LOOP %[2]s; END LOOP;
					t0 := %[3]s;
					FOR i IN 1..%[4]d LOOP %[2]s; END LOOP;
					PERFORM set_config('auditbench.bd', ((%[3]s - t0) / %[4]d)::text, false);
				END $x$`, c.pre, c.call, clock, fn10k))
			if err != nil {
				return fmt.Errorf("breakdown %s: %w", c.label, err)
			}
			call[i].runs = append(call[i].runs, us)
		}
	}
	for _, rs := range [][]bdResult{stmt, call} {
		for i := range rs {
			rs[i].min = rs[i].runs[0]
			for _, x := range rs[i].runs {
				rs[i].min = min(rs[i].min, x)
			}
		}
	}
	b.res.bdStmt, b.res.bdCall = stmt, call
	return nil
}

func (b *bench) bdRun(ctx context.Context, do string) (float64, error) {
	if _, err := b.adm.Exec(ctx, do); err != nil {
		return 0, err
	}
	var us float64
	err := b.adm.QueryRow(ctx, "SELECT current_setting('auditbench.bd')::float8").Scan(&us)
	return us, err
}

func (b *bench) reportBreakdown(tw *tabwriter.Writer) {
	r := &b.res
	if len(r.bdStmt) == 0 {
		return
	}
	w := b.out
	fmt.Fprintf(w, "\nBreakdown, on the server (%s), minimum of %d runs, variants interleaved\n", r.bdClock, b.c.BreakdownRuns)
	fmt.Fprintf(w, "  per single-row Update statement, %d per run, each its own transaction (DO block, COMMIT after each,\n"+
		"  synchronous_commit off), on the floor's table with its trigger function swapped (copies in schema bd)\n", b.c.Breakdown)
	floor := r.bdStmt[1].min
	fmt.Fprintln(tw, "  variant\tus\t- floor\truns\t")
	for _, x := range r.bdStmt {
		fmt.Fprintf(tw, "  %s\t%.1f\t%+.1f\t%s\t\n", x.label, x.min, x.min-floor, runsCol(x.runs))
	}
	tw.Flush()
	fmt.Fprintln(w, "  per call, 10000 calls per run in one transaction (plans cached; a new transaction pays more, see above)")
	fmt.Fprintln(tw, "  function\tus\truns\t")
	for _, x := range r.bdCall {
		fmt.Fprintf(tw, "  %s\t%.2f\t%s\t\n", x.label, x.min, runsCol(x.runs))
	}
	tw.Flush()
}

func runsCol(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(s, " ")
}
