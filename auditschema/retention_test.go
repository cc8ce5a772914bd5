package auditschema_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// retentionDB installs the audit schema and creates, as the audit role (as maintain() would have, back then), a
// monthly partition for each of months ("YYYYMM"), with one audit row of patient 100+i in the ith.
func retentionDB(t *testing.T, months ...string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	for i, m := range months {
		from, err := time.Parse("200601", m)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(ctx, fmt.Sprintf(`SET ROLE auditrepo_audit;
			CREATE TABLE auditrepo.audit_log_%s PARTITION OF auditrepo.audit_log FOR VALUES FROM ('%s') TO ('%s');
			RESET ROLE;
			INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, action, target_table, target_id, patient_id, changes)
			VALUES ('%s', 'system', 'CREATE', 'visits', %d, %d, '{"after": {}}')`,
			m, from.Format(time.DateOnly), from.AddDate(0, 1, 0).Format(time.DateOnly), from.AddDate(0, 0, 14).Format(time.RFC3339), i+1, 100+i))
		if err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func exists(t *testing.T, db *pgxpool.Pool, table string) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", "auditrepo."+table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// actions maps each reported partition to its action.
func actions(rep *auditschema.RetentionReport) map[string]string {
	m := map[string]string{}
	for _, p := range rep.Partitions {
		m[p.Partition] = p.Action
	}
	return m
}

func TestRetainRefusesAShortFloor(t *testing.T) {
	ctx := context.Background()
	db := retentionDB(t)
	if _, err := auditschema.Retain(ctx, db, auditschema.Config{}, 5, false); !errors.Is(err, auditschema.ErrFloorTooShort) {
		t.Errorf("Retain(5 years) = %v, want ErrFloorTooShort", err)
	}
	// The database refuses on its own, whatever unit the floor is given in.
	for _, floor := range []string{"5 years 11 months", "2000 days", "71 months"} {
		_, err := db.Exec(ctx, "SELECT * FROM auditrepo.retain($1::interval, false)", floor)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "22023" || !strings.Contains(pgErr.Message, "below 6 years") {
			t.Errorf("retain(%s) = %v, want invalid_parameter_value naming the 6 years", floor, err)
		}
	}
}

// A hold the database refuses as given matches ErrInvalidHold, the server's error reachable with errors.As.
func TestInvalidHoldsAreTyped(t *testing.T) {
	ctx := context.Background()
	db := retentionDB(t)
	c := auditschema.Config{}
	now := time.Now()
	for name, call := range map[string]func() error{
		"no reason":         func() error { _, err := auditschema.HoldPatient(ctx, db, c, 1, ""); return err },
		"start after end":   func() error { _, err := auditschema.HoldPeriod(ctx, db, c, now, now.Add(-time.Hour), "x"); return err },
		"period of no ends": func() error { _, err := auditschema.HoldPeriod(ctx, db, c, time.Time{}, time.Time{}, "x"); return err },
	} {
		err := call()
		if !errors.Is(err, auditschema.ErrInvalidHold) {
			t.Errorf("%s: %v, want ErrInvalidHold", name, err)
		}
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); name != "period of no ends" && (!ok || pgErr.Code != "22023") {
			t.Errorf("%s: %v, want the server's 22023 reachable", name, err)
		}
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM auditrepo.legal_holds").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d legal holds (%v), want none placed", n, err)
	}
}

// monthsAgo is the first of the month n months before this one, in UTC.
func monthsAgo(n int) time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
}

func TestRetainDropsOnlyOldUnheldPartitions(t *testing.T) {
	ctx := context.Background()
	// The months are counted back from now, so the test means the same whenever it runs: the four old months
	// start seven years back and end more than six years ago but less than eight; the young one is five years back.
	// old0: old, no hold. old1: old, patient 101's row, held. old2: old, overlaps a held period.
	// old3: old, held patient 700 only as prior patient. young: younger than six years.
	old := monthsAgo(7 * 12)
	month := func(t time.Time) string { return t.Format("200601") }
	old0, old1, old2, old3 := month(old), month(old.AddDate(0, 1, 0)), month(old.AddDate(0, 2, 0)), month(old.AddDate(0, 3, 0))
	young := month(monthsAgo(5 * 12))
	db := retentionDB(t, old0, old1, old2, old3, young)
	if _, err := db.Exec(ctx, `INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, action, target_table, target_id, patient_id, prior_patient_id, changes)
		VALUES ($1, 'system', 'UPDATE', 'visits', 9, 555, 700, '{}')`, old.AddDate(0, 3, 19)); err != nil {
		t.Fatal(err)
	}
	c := auditschema.Config{}
	if _, err := auditschema.HoldPatient(ctx, db, c, 101, "litigation 17"); err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.HoldPatient(ctx, db, c, 700, "subpoena"); err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.HoldPeriod(ctx, db, c, old.AddDate(0, 3, -1), old.AddDate(0, 3, -1).Add(time.Hour), "OCR inquiry"); err != nil {
		t.Fatal(err)
	}
	// A released hold holds nothing.
	id, err := auditschema.HoldPatient(ctx, db, c, 100, "settled")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auditschema.Release(ctx, db, c, id, " "); pgtest.SQLState(err) != "22023" {
		t.Fatalf("Release without a reason = %v, want 22023", err)
	}
	if ok, err := auditschema.Release(ctx, db, c, id, "case closed"); !ok || err != nil {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	if got := pgtest.Strings(t, db, "SELECT release_reason FROM auditrepo.legal_holds WHERE id = $1", id); len(got) != 1 || got[0] != "case closed" {
		t.Errorf("the released hold's reason: %q", got)
	}

	dry, err := auditschema.Retain(ctx, db, c, 6, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"audit_log_" + old0: "would_drop", "audit_log_" + old1: "kept", "audit_log_" + old2: "kept", "audit_log_" + old3: "kept"}
	if got := actions(dry); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("dry run: %v, want %v", got, want)
	}
	if !exists(t, db, "audit_log_"+old0) {
		t.Fatal("the dry run dropped a partition")
	}

	rep, err := auditschema.Retain(ctx, db, c, 6, false)
	if err != nil {
		t.Fatal(err)
	}
	want["audit_log_"+old0] = "dropped"
	if got := actions(rep); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("retain: %v, want %v", got, want)
	}
	for _, p := range rep.Partitions {
		if p.Action == "kept" && !strings.HasPrefix(p.Detail, "under legal hold: hold ") {
			t.Errorf("%s kept with detail %q, want the hold named", p.Partition, p.Detail)
		}
	}
	for table, want := range map[string]bool{"audit_log_" + old0: false, "audit_log_" + old1: true, "audit_log_" + old2: true, "audit_log_" + old3: true, "audit_log_" + young: true} {
		if got := exists(t, db, table); got != want {
			t.Errorf("%s exists: %v, want %v", table, got, want)
		}
	}
	var logged, rows, minID, maxID int64
	var part, by string
	err = db.QueryRow(ctx, "SELECT count(*) OVER (), partition_name, row_count, min_id, max_id, dropped_by FROM auditrepo.retention_log").
		Scan(&logged, &part, &rows, &minID, &maxID, &by)
	if err != nil || logged != 1 || part != "audit_log_"+old0 || rows != 1 || minID != 1 || maxID != 1 || by == "" {
		t.Errorf("retention_log: %d rows, %s %d rows ids %d-%d by %q (%v); want the one drop", logged, part, rows, minID, maxID, by, err)
	}
	// With an eight-year floor none of the old months is old enough.
	rep, err = auditschema.Retain(ctx, db, c, 8, true)
	if err != nil || len(rep.Partitions) != 0 {
		t.Errorf("8-year floor: %+v, %v; want nothing to do", rep, err)
	}
}

// TestRetainMovesTheDefaultsRows: rows that landed in the default partition (maintain() not run for longer than
// the months it creates ahead) are moved into partitions of their months, ids and all, by maintain(), which
// retention runs: PostgreSQL refused to create a partition of a month with rows there (23514), so retention
// failed every time. A month so made ages like any other; rows no monthly partition can hold (BC) stay.
func TestRetainMovesTheDefaultsRows(t *testing.T) {
	ctx := context.Background()
	db := retentionDB(t)
	nextMonth := time.Now().UTC().AddDate(0, 2, -time.Now().UTC().Day()+1)
	next := nextMonth.Format("200601")
	if _, err := db.Exec(ctx, "DROP TABLE auditrepo.audit_log_"+next); err != nil {
		t.Fatal(err)
	}
	// Rows of months without a partition land in the default partition: a coming month's, an old one's, a BC one's.
	var ids []int64
	for _, at := range []string{nextMonth.AddDate(0, 0, 3).Format(time.RFC3339), "2015-06-01 00:00:00+00", "0044-03-15 00:00:00+00 BC", "infinity"} {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, action, target_table, target_id, patient_id, changes)
			VALUES ($1::timestamptz, 'system', 'CREATE', 'visits', 1, 1, '{}') RETURNING id`, at).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	before := pgtest.Strings(t, db, "SELECT a::text FROM auditrepo.audit_log a ORDER BY id")
	dry, err := auditschema.Retain(ctx, db, auditschema.Config{}, 6, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"audit_log_" + next: "would_create", "audit_log_201506": "would_create", "audit_log_default": "default"}
	if got := actions(dry); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("dry run: %v, want %v", got, want)
	}
	rep, err := auditschema.Retain(ctx, db, auditschema.Config{}, 6, false)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"audit_log_" + next: "created", "audit_log_201506": "created", "audit_log_default": "default"}
	if got := actions(rep); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("retain: %v, want %v", got, want)
	}
	for _, p := range rep.Partitions {
		switch {
		case p.Action == "created" && (p.Rows != 1 || p.MinID == nil || (*p.MinID != ids[0] && *p.MinID != ids[1])):
			t.Errorf("%s reported as %+v, want its one moved row", p.Partition, p)
		case p.Action == "default" && (p.Rows != 2 || *p.MinID != ids[2] || *p.MaxID != ids[3] || p.From.Year() != -43 || !p.To.IsZero()):
			t.Errorf("default partition reported as %+v, want the BC row and the infinite one (its time zero)", p)
		}
	}
	for table, want := range map[string][]int64{"audit_log_" + next: {ids[0]}, "audit_log_201506": {ids[1]}, "audit_log_default": {ids[2], ids[3]}} {
		if got := pgtest.Strings(t, db, "SELECT id::text FROM auditrepo."+table+" ORDER BY id"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s holds rows %v, want %v", table, got, want)
		}
	}
	if after := pgtest.Strings(t, db, "SELECT a::text FROM auditrepo.audit_log a ORDER BY id"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the rows changed in moving:\n%v\n%v", before, after)
	}
	// The month made for the old row is old enough to drop, and the next run drops it.
	rep, err = auditschema.Retain(ctx, db, auditschema.Config{}, 6, false)
	if err != nil || actions(rep)["audit_log_201506"] != "dropped" {
		t.Fatalf("retain again: %+v, %v; want audit_log_201506 dropped", rep, err)
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log").Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d rows left (%v), want 3", n, err)
	}
}

func TestRetentionIsTheOwners(t *testing.T) {
	ctx := context.Background()
	db := retentionDB(t, "201901")
	for _, role := range []string{"auditrepo_app", "auditrepo_reviewer"} {
		cfg := db.Config().Copy()
		cfg.ConnConfig.User, cfg.ConnConfig.Password = role, ""
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		checkDenied(t, role, retentionCalls(ctx, p, auditschema.Config{}), "auditrepo_owner")
	}
	if !exists(t, db, "audit_log_201901") {
		t.Error("a refused retain dropped a partition")
	}
	// The owner role's members may: the migrating user, say.
	p := ownerPool(t, db)
	if _, err := auditschema.HoldPatient(ctx, p, auditschema.Config{}, 100, "audit"); err != nil {
		t.Fatalf("HoldPatient as an owner member: %v", err)
	}
	rep, err := auditschema.Retain(ctx, p, auditschema.Config{}, 6, false)
	if err != nil || actions(rep)["audit_log_201901"] != "kept" {
		t.Fatalf("Retain as an owner member = %+v, %v; want the held partition kept", rep, err)
	}
	var by string
	if err := db.QueryRow(ctx, "SELECT placed_by FROM auditrepo.legal_holds").Scan(&by); err != nil || by != "retention_test_owner" {
		t.Errorf("placed_by = %q (%v), want the session's user", by, err)
	}
}

// ownerPool connects to db as retention_test_owner, a login member of the owner role (as the migrating user is);
// it is closed when t ends.
func ownerPool(t *testing.T, db *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	if _, err := db.Exec(context.Background(), "CREATE ROLE retention_test_owner LOGIN IN ROLE auditrepo_owner"); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	cfg := db.Config().Copy()
	cfg.ConnConfig.User, cfg.ConnConfig.Password = "retention_test_owner", ""
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestRetentionRefusesAnOldSnapshot: maintain() and retain() run by the owner inside a REPEATABLE READ or
// SERIALIZABLE transaction would read its snapshot, taken before the others committed: maintain() would copy
// the default partition's rows of the snapshot and drop those committed since (audit rows gone, seal and verify
// none the wiser), retain() would not see a legal hold placed since and drop the held month. Both are refused
// (0A000), and change nothing; run again under READ COMMITTED, every row is moved and the held month kept.
func TestRetentionRefusesAnOldSnapshot(t *testing.T) {
	ctx := context.Background()
	old := monthsAgo(7 * 12).Format("200601")
	coming := monthsAgo(-2)
	for _, iso := range []pgx.TxIsoLevel{pgx.RepeatableRead, pgx.Serializable} {
		t.Run(string(iso), func(t *testing.T) {
			db := retentionDB(t, old) // patient 100's row in an old month, which retain() would drop
			// A coming month without its partition: its rows land in the default partition.
			if _, err := db.Exec(ctx, "DROP TABLE auditrepo.audit_log_"+coming.Format("200601")); err != nil {
				t.Fatal(err)
			}
			write := func() {
				t.Helper()
				if _, err := db.Exec(ctx, `INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, action, target_table, target_id, patient_id, changes)
					VALUES ($1, 'system', 'UPDATE', 'visits', 1, 1, '{}')`, coming.AddDate(0, 0, 3)); err != nil {
					t.Fatal(err)
				}
			}
			write()
			owner := ownerPool(t, db)
			for _, call := range []string{"SELECT auditrepo.maintain()", "SELECT * FROM auditrepo.retain('6 years', false)"} {
				tx, err := owner.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil { // takes the snapshot
					t.Fatal(err)
				}
				// Committed after the snapshot: an audit row in the default partition, and a hold on patient 100.
				write()
				hold, err := auditschema.HoldPatient(ctx, owner, auditschema.Config{}, 100, "litigation")
				if err != nil {
					t.Fatal(err)
				}
				_, err = tx.Exec(ctx, call)
				if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "0A000" || !strings.Contains(pgErr.Message, "refused under "+strings.ToUpper(string(iso))) || pgErr.Hint == "" {
					t.Errorf("%s under %s = %v, want it refused (0A000) with a hint", call, iso, err)
				}
				if err == nil {
					err = tx.Commit(ctx) // the attack, had it run: below, the rows and the month it lost
				}
				tx.Rollback(ctx)
				if _, err := auditschema.Release(ctx, owner, auditschema.Config{}, hold, "test"); err != nil {
					t.Fatal(err)
				}
			}
			if got := pgtest.Strings(t, db, "SELECT count(*)::text FROM auditrepo.audit_log WHERE occurred_at >= $1", coming); fmt.Sprint(got) != "[3]" {
				t.Errorf("the audit table holds %v rows of the coming month, want the 3 written", got)
			}
			if !exists(t, db, "audit_log_"+old) {
				t.Fatal("the month held since the snapshot was dropped")
			}
			// Under READ COMMITTED, with a hold placed: the held month is kept, every row moved to its month.
			if _, err := auditschema.HoldPatient(ctx, owner, auditschema.Config{}, 100, "litigation"); err != nil {
				t.Fatal(err)
			}
			rep, err := auditschema.Retain(ctx, owner, auditschema.Config{}, 6, false)
			if got := actions(rep); err != nil || got["audit_log_"+old] != "kept" || got["audit_log_"+coming.Format("200601")] != "created" {
				t.Fatalf("Retain under READ COMMITTED: %v, %v; want the held month kept, the coming one created", got, err)
			}
			if got := pgtest.Strings(t, db, "SELECT count(*)::text FROM auditrepo.audit_log_"+coming.Format("200601")); fmt.Sprint(got) != "[3]" {
				t.Errorf("the coming month's partition holds %v rows, want the 3 written", got)
			}
		})
	}
}

// TestMaintainChecksTheCopy: maintain() drops the old default partition only when copying it inserted every row it
// holds. A trigger that silently skips rows (injected here by the superuser) makes it fail and change nothing.
func TestMaintainChecksTheCopy(t *testing.T) {
	ctx := context.Background()
	db := retentionDB(t)
	coming := monthsAgo(-2)
	if _, err := db.Exec(ctx, "DROP TABLE auditrepo.audit_log_"+coming.Format("200601")); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"visits", "lost"} {
		if _, err := db.Exec(ctx, `INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, action, target_table, target_id, patient_id, changes)
			VALUES ($1, 'system', 'UPDATE', $2, 1, 1, '{}')`, coming.AddDate(0, 0, 3), target); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, `CREATE FUNCTION public.skip() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
		CREATE TRIGGER skip BEFORE INSERT ON auditrepo.audit_log FOR EACH ROW WHEN (NEW.target_table = 'lost') EXECUTE FUNCTION public.skip()`); err != nil {
		t.Fatal(err)
	}
	_, err := ownerPool(t, db).Exec(ctx, "SELECT auditrepo.maintain()")
	if pgtest.SQLState(err) != "XX000" || !strings.Contains(err.Error(), "copied 1 of its 2 rows") {
		t.Errorf("maintain() losing a row = %v, want it refused (XX000) with the counts", err)
	}
	if got := pgtest.Strings(t, db, "SELECT target_table FROM auditrepo.audit_log_default ORDER BY 1"); fmt.Sprint(got) != "[lost visits]" {
		t.Errorf("the default partition holds %v, want both rows still", got)
	}
}

// retentionCalls are the retention functions, each called on db with c.
func retentionCalls(ctx context.Context, db auditschema.DB, c auditschema.Config) map[string]func() error {
	return map[string]func() error{
		"Retain":      func() error { _, err := auditschema.Retain(ctx, db, c, 6, false); return err },
		"HoldPatient": func() error { _, err := auditschema.HoldPatient(ctx, db, c, 1, "x"); return err },
		"HoldPeriod": func() error {
			_, err := auditschema.HoldPeriod(ctx, db, c, time.Now(), time.Time{}, "x")
			return err
		},
		"Release": func() error { _, err := auditschema.Release(ctx, db, c, 1, "settled"); return err },
	}
}

// checkDenied runs each call, made as role, and wants it refused: SQLSTATE 42501 matching ErrRetentionDenied,
// with the text naming owner, the owner role.
func checkDenied(t *testing.T, role string, calls map[string]func() error, owner string) {
	t.Helper()
	for name, call := range calls {
		err := call()
		pgErr, ok := errors.AsType[*pgconn.PgError](err)
		if !errors.Is(err, auditschema.ErrRetentionDenied) || !ok || pgErr.Code != "42501" {
			t.Errorf("%s as %s = %v, want SQLSTATE 42501 matching ErrRetentionDenied", name, role, err)
		} else if !strings.Contains(err.Error(), "need a member of the owner role "+owner+",") {
			t.Errorf("%s as %s = %v, want the owner role %s named", name, role, err, owner)
		}
	}
}

// A refusal names the owner role of the caller's Config, not the default's.
func TestRetentionDeniedNamesTheConfiguredOwner(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Empty(t)
	c := auditschema.Config{Owner: "retention_test_clinic_owner"}
	if _, err := auditschema.Install(ctx, db, c); err != nil {
		t.Fatal(err)
	}
	cfg := db.Config().Copy()
	cfg.ConnConfig.User, cfg.ConnConfig.Password = "auditrepo_app", ""
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	checkDenied(t, "auditrepo_app", retentionCalls(ctx, p, c), c.Owner)
	if _, err := auditschema.Retain(ctx, p, c, 6, true); err == nil || strings.Contains(err.Error(), auditschema.Defaults.Owner) {
		t.Errorf("Retain as auditrepo_app = %v, want an error not naming the default owner role", err)
	}
}

// TestRetainDoesNotStallWrites: while another transaction holds a lock retention needs (a long read of an old
// partition, or of the audit table), retention fails within its lock_timeout, naming what is in use, drops
// nothing, and an audited write meanwhile completes; run again once the reader is done, it drops the old months.
func TestRetainDoesNotStallWrites(t *testing.T) {
	ctx := context.Background()
	old := monthsAgo(7 * 12)
	old0, old1 := old.Format("200601"), old.AddDate(0, 1, 0).Format("200601")
	for _, c := range []struct{ name, read, inUse string }{
		// Read after old0 in name order: retain once DETACHed old0 (ACCESS EXCLUSIVE on the audit table until it
		// committed) and then waited for this reader, with every write waiting behind it.
		{"an old partition", "SELECT count(*) FROM auditrepo.audit_log_" + old1, "partition auditrepo.audit_log_" + old1},
		// Through the audit table, of months after every partition's: the old partitions are not read.
		{"the audit table", "SELECT count(*) FROM auditrepo.audit_log WHERE occurred_at >= '2200-01-01'", "the audit table auditrepo.audit_log"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := retentionDB(t, old0, old1)
			reader, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer reader.Rollback(ctx)
			if _, err := reader.Exec(ctx, c.read); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := auditschema.Retain(ctx, db, auditschema.Config{}, 6, false)
				done <- err
			}()
			pgtest.WaitLockWaits(t, db, 0, 1, func() bool { return len(done) > 0 })
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			start := time.Now()
			if _, err := db.Exec(wctx, `INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
				VALUES ('user', 'UPDATE', 'visits', 1, 1, '{}')`); err != nil {
				t.Fatalf("an audited write while retention waited for %s: %v (after %v)", c.inUse, err, time.Since(start))
			}
			t.Logf("the write took %v", time.Since(start))
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				reader.Rollback(ctx)
				t.Fatalf("retention still waits for %s after 10s", c.inUse)
			}
			if pgtest.SQLState(err) != "55P03" || !strings.Contains(err.Error(), c.inUse+" is in use") {
				t.Fatalf("Retain while %s is read = %v, want 55P03 naming it", c.inUse, err)
			}
			for _, m := range []string{old0, old1} {
				if !exists(t, db, "audit_log_"+m) {
					t.Errorf("audit_log_%s was dropped by the failed run", m)
				}
			}
			if err := reader.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			rep, err := auditschema.Retain(ctx, db, auditschema.Config{}, 6, false)
			if got := actions(rep); err != nil || got["audit_log_"+old0] != "dropped" || got["audit_log_"+old1] != "dropped" {
				t.Fatalf("Retain again: %v, %v; want both old months dropped", got, err)
			}
		})
	}
}

// What needs no fresh snapshot runs under any isolation: maintain() with no rows to move (the schema's SQL calls
// it while installing, under the database's default_transaction_isolation), and a dry run of retain().
func TestRetentionUnderSerializableDefault(t *testing.T) {
	ctx := context.Background()
	db := retentionDB(t, monthsAgo(7*12).Format("200601"))
	owner := ownerPool(t, db)
	for _, call := range []string{"SELECT auditrepo.maintain()", "SELECT * FROM auditrepo.retain('6 years', true)"} {
		tx, err := owner.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, call); err != nil {
			t.Errorf("%s under SERIALIZABLE: %v", call, err)
		}
		_ = tx.Rollback(ctx)
	}
}
