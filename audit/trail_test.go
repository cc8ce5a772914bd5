package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// trailDB installs the audit schema on a fresh database, seeds it as the superuser, and returns a pool connected
// as role on it.
func trailDB(t *testing.T, role, seed string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	db := pgtest.Audited(t, auditschema.Config{})
	if _, err := db.Exec(ctx, seed); err != nil {
		t.Fatal(err)
	}
	cfg := db.Config().Copy()
	cfg.ConnConfig.User, cfg.ConnConfig.Password = role, ""
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

const trailSeed = `INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, actor_id, ip, user_agent, request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes) VALUES
	('2026-01-10 09:00:00+00', 'user', 7, '203.0.113.5', 'Firefox', 'r1', 'CreateVisit', 'CREATE', 'visits', 1, 42, NULL, '{"after": {"id": 1, "patient_id": 42, "note": "[REDACTED]", "big": 9007199254740993}}'),
	('2026-02-10 09:00:00+00', 'user', 7, '2001:db8::1', NULL, NULL, NULL, 'UPDATE', 'visits', 1, 43, 42, '{"before": {"id": 1, "patient_id": 42}, "after": {"id": 1, "patient_id": 43}, "changed_fields": ["patient_id", "secret"]}'),
	('2026-03-10 09:00:00+00', 'unattributed', NULL, NULL, NULL, NULL, NULL, 'DELETE', 'visits', 1, 43, NULL, '{"deleted_record": {"id": 1, "patient_id": 43}}'),
	('2026-01-20 09:00:00+00', 'system', NULL, NULL, 'nightly', NULL, NULL, 'MOVE', 'visits', 2, 44, 42, '{"from": 42, "to": 44}'),
	('2026-01-15 09:00:00+00', 'user', 8, NULL, NULL, NULL, NULL, 'CREATE', 'visits', 3, 99, NULL, '{"after": {"id": 3}}'),
	('2026-01-16 09:00:00+00', 'user', 8, NULL, NULL, NULL, NULL, 'CREATE', 'public.billings', 5, 77, NULL, '{"after": {"id": 5}}')`

func TestTrailListPatient(t *testing.T) {
	ctx := context.Background()
	db := trailDB(t, "auditrepo_reviewer", trailSeed)
	var tr audit.Trail
	evs, err := tr.ListPatient(ctx, db, 42, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	// Oldest first by id (the MOVE row was inserted last but one, with an earlier time); patient 99's row is not
	// theirs; the rows filed under 43 and 44 with 42 as prior patient are.
	if !slices.Equal(ids, []int64{1, 2, 4}) {
		t.Fatalf("ids = %v, want [1 2 4]", ids)
	}
	c := evs[0]
	if c.Action != audit.ActionCreate || c.ActorKind != audit.KindUser || *c.ActorID != 7 || c.IP != netip.MustParseAddr("203.0.113.5") ||
		c.UserAgent != "Firefox" || c.RequestID != "r1" || c.Method != "CreateVisit" || c.Table != "visits" || c.RecordID != 1 ||
		*c.PatientID != 42 || c.PriorPatientID != nil || c.Before != nil || c.After["note"] != audit.Redacted ||
		c.After["big"] != json.Number("9007199254740993") || c.TransactionID == 0 || c.DBRole == "" ||
		!c.OccurredAt.Equal(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("create event = %+v", c)
	}
	u := evs[1]
	if u.Action != audit.ActionUpdate || u.IP != netip.MustParseAddr("2001:db8::1") || *u.PriorPatientID != 42 ||
		u.Before["patient_id"] != json.Number("42") || u.After["patient_id"] != json.Number("43") ||
		!slices.Equal(u.ChangedFields, []string{"patient_id", "secret"}) {
		t.Errorf("update event = %+v", u)
	}
	m := evs[2]
	if m.Action != audit.ActionMove || string(m.Changes) != `{"to": 44, "from": 42}` || m.IP.IsValid() || m.ActorID != nil {
		t.Errorf("move event = %+v, changes %s", m, m.Changes)
	}

	d, err := tr.ListPatient(ctx, db, 43, time.Time{}, time.Time{})
	if err != nil || len(d) != 2 || d[1].Action != audit.ActionDelete || d[1].Before["id"] != json.Number("1") || d[1].After != nil {
		t.Errorf("patient 43 = %+v, %v; want the update and the delete with its deleted record as Before", d, err)
	}
}

func TestTrailDateRange(t *testing.T) {
	ctx := context.Background()
	db := trailDB(t, "auditrepo_reviewer", trailSeed)
	tr := audit.Trail{Table: `"auditrepo"."audit_log"`}
	jan15 := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	feb10 := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to time.Time
		want     []int64
	}{
		{jan15, time.Time{}, []int64{2, 4}},
		{time.Time{}, feb10, []int64{1, 4}}, // to is exclusive
		{jan15, feb10, []int64{4}},
		{feb10, feb10.Add(time.Second), []int64{2}}, // from is inclusive
	} {
		evs, err := tr.ListPatient(ctx, db, 42, c.from, c.to)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("[%v, %v): ids %v, want %v", c.from, c.to, ids, c.want)
		}
	}
}

func TestTrailListRecord(t *testing.T) {
	ctx := context.Background()
	db := trailDB(t, "auditrepo_reviewer", trailSeed)
	var tr audit.Trail
	evs, err := tr.ListRecord(ctx, db, "visits", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Action != audit.ActionCreate || evs[1].Action != audit.ActionUpdate || evs[2].Action != audit.ActionDelete {
		t.Fatalf("record history = %+v", evs)
	}
	if ok, err := tr.HasTable(ctx, db, "visits"); !ok || err != nil {
		t.Errorf("HasTable(visits) = %v, %v", ok, err)
	}
	if ok, err := tr.HasTable(ctx, db, "vistis"); ok || err != nil {
		t.Errorf("HasTable(vistis) = %v, %v", ok, err)
	}
	// A table of schema public is found by either name, whichever the table tag used.
	if evs, err := tr.ListRecord(ctx, db, "public.visits", 1); err != nil || len(evs) != 3 {
		t.Errorf("ListRecord(public.visits) = %d events, %v; want the 3 of visits", len(evs), err)
	}
	if evs, err := tr.ListRecord(ctx, db, "billings", 5); err != nil || len(evs) != 1 || evs[0].Table != "public.billings" {
		t.Errorf("ListRecord(billings) = %+v, %v; want the row of public.billings", evs, err)
	}
	if ok, err := tr.HasTable(ctx, db, "billings"); !ok || err != nil {
		t.Errorf("HasTable(billings) = %v, %v", ok, err)
	}
	if ok, err := tr.HasTable(ctx, db, "other.billings"); ok || err != nil {
		t.Errorf("HasTable(other.billings) = %v, %v", ok, err)
	}
	stop := errors.New("stop")
	n := 0
	err = tr.EachRecord(ctx, db, "visits", 1, func(audit.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("EachRecord stopped after %d events with %v, want 1 and the callback's error", n, err)
	}
}

func TestTrailNeedsReviewer(t *testing.T) {
	db := trailDB(t, "auditrepo_app", trailSeed)
	_, err := audit.Trail{}.ListPatient(context.Background(), db, 42, time.Time{}, time.Time{})
	if !errors.Is(err, audit.ErrNoTrailAccess) {
		t.Fatalf("ListPatient as the app role = %v, want ErrNoTrailAccess", err)
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "42501" {
		t.Errorf("the PgError is not reachable: %v", err)
	}
}

// TestTrailReadsWithRowSecurityOff: a row-level security policy on the audit table (which the schema never
// installs) makes the reviewer's read fail (ErrRowSecurity) rather than silently leave rows out; read in the
// caller's transaction, the setting ends with the read.
func TestTrailReadsWithRowSecurityOff(t *testing.T) {
	ctx := context.Background()
	db := trailDB(t, "auditrepo_reviewer", trailSeed+`;
		ALTER TABLE auditrepo.audit_log ENABLE ROW LEVEL SECURITY;
		CREATE POLICY hide ON auditrepo.audit_log USING (target_id <> 1)`)
	var tr audit.Trail
	if evs, err := tr.ListPatient(ctx, db, 42, time.Time{}, time.Time{}); !errors.Is(err, audit.ErrRowSecurity) {
		t.Errorf("ListPatient under a policy = %d events, %v; want ErrRowSecurity", len(evs), err)
	}
	if _, err := tr.HasTable(ctx, db, "visits"); !errors.Is(err, audit.ErrRowSecurity) {
		t.Errorf("HasTable under a policy = %v; want ErrRowSecurity", err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tr.ListRecord(ctx, tx, "visits", 1); !errors.Is(err, audit.ErrRowSecurity) {
		t.Errorf("ListRecord in a transaction = %v; want ErrRowSecurity", err)
	}
	var setting string
	if err := tx.QueryRow(ctx, "SHOW row_security").Scan(&setting); err != nil || setting != "on" {
		t.Errorf("row_security in the caller's transaction after the read = %q, %v; want it as it was (on)", setting, err)
	}
}

// TestTrailReadsDeepJSON: a client's value nested deeper than encoding/json decodes (10,000 levels, the changes
// column's own two included) is read, not an error that hides the record's and the patient's history: a value
// that decodes alone is decoded, one deeper still (PostgreSQL stores 12,000 levels at its default
// max_stack_depth) is its compacted JSON text, a json.RawMessage.
func TestTrailReadsDeepJSON(t *testing.T) {
	ctx := context.Background()
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	db := trailDB(t, "auditrepo_reviewer", `INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, actor_id, action, target_table, target_id, patient_id, changes) VALUES
	('2026-01-10 09:00:00+00', 'user', 7, 'CREATE', 'visits', 1, 42, jsonb_build_object('after', jsonb_build_object('id', 1, 'intake', '`+deep(12000)+`'::jsonb))),
	('2026-01-11 09:00:00+00', 'user', 7, 'UPDATE', 'visits', 1, 42, jsonb_build_object('before', jsonb_build_object('id', 1, 'intake', '`+deep(12000)+`'::jsonb),
		'after', jsonb_build_object('id', 1, 'intake', '`+deep(9999)+`'::jsonb), 'changed_fields', '["intake"]'::jsonb)),
	('2026-01-12 09:00:00+00', 'user', 7, 'DELETE', 'visits', 1, 42, jsonb_build_object('deleted_record', jsonb_build_object('id', 1, 'intake', '`+deep(9999)+`'::jsonb)))`)
	evs, err := audit.Trail{}.ListPatient(ctx, db, 42, time.Time{}, time.Time{})
	if err != nil || len(evs) != 3 {
		t.Fatalf("ListPatient = %d events, %v; want 3", len(evs), err)
	}
	if raw, ok := evs[0].After["intake"].(json.RawMessage); !ok || string(raw) != deep(12000) || evs[0].After["id"] != json.Number("1") {
		t.Errorf("create: after = %.80v, want intake as its JSON text", evs[0].After)
	}
	u := evs[1]
	if raw, ok := u.Before["intake"].(json.RawMessage); !ok || string(raw) != deep(12000) || !slices.Equal(u.ChangedFields, []string{"intake"}) {
		t.Errorf("update: before = %.80v, changed %v", u.Before, u.ChangedFields)
	}
	if _, ok := u.After["intake"].([]any); !ok || u.After["id"] != json.Number("1") {
		t.Errorf("update: after = %.80v, want intake decoded", u.After)
	}
	if _, ok := evs[2].Before["intake"].([]any); !ok || evs[2].After != nil {
		t.Errorf("delete: before = %.80v, after %.80v", evs[2].Before, evs[2].After)
	}
}
