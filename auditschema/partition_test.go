package auditschema_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// monthly lists the audit table's partitions other than the default one, by name.
func monthly(t *testing.T, db *pgxpool.Pool, c auditschema.Config) []string {
	t.Helper()
	return pgtest.Strings(t, db, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass AND c.relname <> $2 ORDER BY 1`, c.QualifiedTable(), c.Table+"_default")
}

// The monthly partitions' names have one definition, the audit schema's partition_name(): maintain() creates
// the partitions it names, retain() drops only partitions it names (for the month their range starts in, in
// whatever time zone they were created), and Upgrade names the imported months' by it
// (TestUpgradeFromVersion0KeepsEveryRow).
func TestPartitionNameIsTheOneScheme(t *testing.T) {
	ctx := context.Background()
	c := auditschema.Config{Table: "clinic_trail"}.WithDefaults()
	db := pgtest.Audited(t, c)

	// Any day of the month names it, across year boundaries, whatever the session's time zone.
	for _, tz := range []string{"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"} {
		for day, want := range map[string]string{
			"1999-12-31": "clinic_trail_199912", "2000-01-01": "clinic_trail_200001", "2024-02-29": "clinic_trail_202402",
			"2025-12-01": "clinic_trail_202512", "2025-12-31": "clinic_trail_202512", "2026-01-01": "clinic_trail_202601",
			"2026-12-15": "clinic_trail_202612", "2027-01-31": "clinic_trail_202701",
		} {
			var got string
			err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "SET LOCAL TimeZone = '"+tz+"'"); err != nil {
					return err
				}
				return tx.QueryRow(ctx, "SELECT auditrepo.partition_name($1::date)", day).Scan(&got)
			})
			if err != nil || got != want {
				t.Errorf("in %s, partition_name(%s) = %q (%v), want %q", tz, day, got, err, want)
			}
		}
	}

	// Install ran maintain(): this month and the next three, named by partition_name().
	want := pgtest.Strings(t, db, `SELECT auditrepo.partition_name((date_trunc('month', now()) + make_interval(months => i))::date)
		FROM generate_series(0, 3) i ORDER BY 1`)
	if got := monthly(t, db, c); !slices.Equal(got, want) {
		t.Fatalf("monthly partitions after Install %v, want %v", got, want)
	}

	// Created in a time zone 14 hours ahead of UTC, read by retain() in one 11 hours behind: partition_name()
	// of the month its range starts in is what maintain() would have named it, so retention finds it. The
	// others are not maintain()'s, and retention leaves them alone.
	if _, err := db.Exec(ctx, `SET ROLE auditrepo_audit; SET TimeZone = 'Pacific/Kiritimati';
		CREATE TABLE auditrepo.clinic_trail_201901 PARTITION OF auditrepo.clinic_trail FOR VALUES FROM ('2019-01-01') TO ('2019-02-01');
		CREATE TABLE auditrepo.clinic_trail_2019_02 PARTITION OF auditrepo.clinic_trail FOR VALUES FROM ('2019-02-01') TO ('2019-03-01');
		CREATE TABLE auditrepo.clinic_trail_201904 PARTITION OF auditrepo.clinic_trail FOR VALUES FROM ('2019-03-01') TO ('2019-04-01');
		RESET TimeZone; RESET ROLE`); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL TimeZone = 'Pacific/Pago_Pago'"); err != nil {
			return err
		}
		rep, err := auditschema.Retain(ctx, tx, c, auditschema.MinRetentionYears, true)
		if err != nil {
			return err
		}
		got = actions(rep)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["clinic_trail_201901"] != "would_drop" || got["clinic_trail_2019_02"] != "" || got["clinic_trail_201904"] != "" {
		t.Errorf("retain (dry run): %v; want clinic_trail_201901 would_drop, clinic_trail_2019_02 and clinic_trail_201904 left alone", got)
	}
}

// A database installed by this package and one upgraded from schema version 0 end with the same functions:
// Upgrade creates none of its own, and names partitions with the installed partition_name().
func TestUpgradedHasTheInstalledFunctions(t *testing.T) {
	ctx := context.Background()
	functions := func(db *pgxpool.Pool) []string {
		t.Helper()
		return pgtest.Strings(t, db, `SELECT p.oid::regprocedure::text || ' ' || pg_get_functiondef(p.oid) || coalesce(p.proacl::text, '')
			FROM pg_proc p WHERE p.pronamespace = 'auditrepo'::regnamespace ORDER BY 1`)
	}
	installed := pgtest.Audited(t, auditschema.Config{})
	upgraded := legacyDB(t)
	if _, err := upgraded.Exec(ctx, legacyRows); err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.Install(ctx, upgraded, auditschema.Config{}); err != nil {
		t.Fatal(err)
	}
	rep, err := auditschema.Upgrade(ctx, upgraded, auditschema.Config{}, "")
	if err != nil || len(rep.Partitions) == 0 {
		t.Fatalf("upgrade: %+v, %v; want the imported months' partitions created", rep, err)
	}
	want := functions(installed)
	if !slices.ContainsFunc(want, func(f string) bool { return strings.HasPrefix(f, "auditrepo.partition_name(date) ") }) {
		t.Errorf("no auditrepo.partition_name(date) among the installed functions")
	}
	if got := functions(upgraded); !slices.Equal(got, want) {
		t.Errorf("the upgraded database's functions differ from the installed one's:\nupgraded  %q\ninstalled %q", got, want)
	}
	for _, p := range rep.Partitions {
		var named bool
		if err := upgraded.QueryRow(ctx, `SELECT $1 = auditrepo.partition_name((SELECT min(occurred_at) FROM auditrepo.audit_log WHERE tableoid = $2::regclass)::date)`,
			p, "auditrepo."+p).Scan(&named); err != nil || !named {
			t.Errorf("imported partition %s is not named by partition_name() of its rows' month (%v)", p, err)
		}
	}
}

// maintain() and Upgrade make UTC's months whatever the session's TimeZone: east of UTC another zone's months
// would overlap the partitions made in UTC (Install's), west of it leave gaps between them.
func TestPartitionsAreUTCMonthsInAnyTimeZone(t *testing.T) {
	ctx := context.Background()
	db := installedLegacyDB(t)
	for i, tz := range []string{"Asia/Tokyo", "Pacific/Pago_Pago"} {
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL TimeZone = '"+tz+"'"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "SELECT auditrepo.maintain($1)", 6*(i+1)); err != nil {
				return err
			}
			if i == 0 {
				_, err := auditschema.Upgrade(ctx, tx, auditschema.Config{}, "")
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatalf("maintain() in %s: %v", tz, err)
		}
	}
	rows, err := db.Query(ctx, `SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid),
			format('FOR VALUES FROM (%L) TO (%L)', timezone('UTC', to_date(right(c.relname, 6), 'YYYYMM')::timestamp), 
				timezone('UTC', (to_date(right(c.relname, 6), 'YYYYMM') + interval '1 month')::timestamp))
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'auditrepo.audit_log'::regclass AND c.relname <> 'audit_log_default' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	type part struct{ Name, Bound, Want string }
	parts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[part])
	if err != nil || len(parts) < 15 {
		t.Fatalf("%d monthly partitions (%v), want this month's and twelve ahead and the imported months'", len(parts), err)
	}
	for _, p := range parts {
		if p.Bound != p.Want {
			t.Errorf("%s: %s, want %s", p.Name, p.Bound, p.Want)
		}
	}
}
