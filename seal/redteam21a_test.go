package seal

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/auditrepo/auditrepo/audit"
)

// Red-team round 21a: a superuser edits the database after a seal so that what the reviewers read of the trail
// differs from what Verify reads, and Verify, with the honest key and witness, still passes. Each test fails on
// current main: Verify returns nil.

// rt21aSealed inserts one UPDATE row for patient 1 (before/after images, as the triggers write them) beside a few
// synthetic rows, seals, checks the trail verifies, and returns the row's id.
func rt21aSealed(t *testing.T, tr *trail) int64 {
	t.Helper()
	tr.insert(3, 1)
	var id int64
	err := tr.db.QueryRow(context.Background(), `INSERT INTO auditrepo.audit_log (actor_kind, actor_id, action, target_table, target_id, patient_id, changes)
		VALUES ('user', 7, 'UPDATE', 'appointments', 42, 1,
			'{"before": {"status": "booked", "notes": "cleaning"}, "after": {"status": "done", "notes": "cleaning"}, "changed_fields": ["status"]}')
		RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	tr.insert(2, 1)
	tr.seal()
	tr.clean()
	return id
}

// reviewerSees is patient 1's trail as the reviewer role reads it (audit.Trail, as auditrepo trail does).
func reviewerSees(t *testing.T, tr *trail) map[int64]audit.Event {
	t.Helper()
	conn := tr.connect("auditrepo_reviewer")
	evs, err := audit.Trail{}.ListPatient(context.Background(), conn, 1, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]audit.Event{}
	for _, e := range evs {
		out[e.ID] = e
	}
	return out
}

// TestRedTeam21aRowSecurityHidesARowFromReviewersOnly: a superuser enables row-level security on the audit table
// with a policy that hides a sealed row from every read but Verify's own query (told apart by its text). The
// reviewers' trail (audit.Trail, auditrepo trail/record) no longer shows the row; Verify, run as the reviewer,
// reads it and passes.
func TestRedTeam21aRowSecurityHidesARowFromReviewersOnly(t *testing.T) {
	tr := newTrail(t)
	victim := rt21aSealed(t, tr)
	if _, ok := reviewerSees(t, tr)[victim]; !ok {
		t.Fatal("setup: the reviewer does not see the row")
	}
	tr.exec(`ALTER TABLE auditrepo.audit_log ENABLE ROW LEVEL SECURITY`)
	tr.exec(`CREATE POLICY rt21a ON auditrepo.audit_log USING (id <> ` + strconv.FormatInt(victim, 10) + `
		OR pg_catalog.strpos(pg_catalog.current_query(), 'ORDER BY a.transaction_id, a.id, a.occurred_at') > 0)`)
	if _, ok := reviewerSees(t, tr)[victim]; ok {
		t.Fatal("the policy did not hide the row from the reviewer")
	}
	rep, err := Verify(context.Background(), tr.connect("auditrepo_reviewer"), tr.v, tr.opts)
	if err == nil {
		t.Fatalf("verify (as the reviewer) passed (%d rows intact, %d unsealed) while sealed row %d is hidden from the reviewers' trail by a row-level security policy", rep.Rows, rep.Unsealed, victim)
	}
	t.Log(err)
}

// TestRedTeam21aCastLiesToVerify: a superuser moves a sealed row to another patient (out of patient 1's trail)
// and creates a cast bigint -> text (PostgreSQL has none: it converts through the type's output function) whose
// function gives the old patient back. Verify reads every column as col::text, so it reads the row as sealed and
// passes; the reviewers read patient_id as a bigint and no longer find the row in patient 1's trail.
func TestRedTeam21aCastLiesToVerify(t *testing.T) {
	tr := newTrail(t)
	victim := rt21aSealed(t, tr)
	tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
	tr.exec(`UPDATE auditrepo.audit_log SET patient_id = 900000001 WHERE id = $1`, victim)
	tr.exec(`CREATE FUNCTION public.rt21a_int8_text(bigint) RETURNS text LANGUAGE sql IMMUTABLE
		AS $$ SELECT CASE WHEN $1 = 900000001 THEN '1' ELSE pg_catalog.textin(pg_catalog.int8out($1)) END $$`)
	tr.exec(`CREATE CAST (bigint AS text) WITH FUNCTION public.rt21a_int8_text(bigint)`)
	tr.exec(`ALTER TABLE auditrepo.audit_log ENABLE TRIGGER USER`)
	if _, ok := reviewerSees(t, tr)[victim]; ok {
		t.Fatal("the reviewer still finds the row under patient 1")
	}
	rep, err := Verify(context.Background(), tr.connect("auditrepo_reviewer"), tr.v, tr.opts)
	if err == nil {
		t.Fatalf("verify passed (%d rows intact) after sealed row %d was moved to patient 900000001, behind a cast bigint -> text that gives 1 back", rep.Rows, victim)
	}
	t.Log(err)
}

// TestRedTeam21aJSONDuplicateKeys: a superuser changes the changes column from jsonb to json, which keeps a
// text as written, duplicate keys included, and rewrites a sealed row's changes as
// {"before": ..., "after": {FABRICATED + real}, "after": {real}, ...}. CanonicalJSON keeps the last of duplicate
// keys (as jsonb would), so the row hashes as sealed; audit.Trail decodes into a struct whose map fields Go's
// decoder reuses, so the second "after" is merged into the first: the reviewers read a field the trigger never
// wrote.
func TestRedTeam21aJSONDuplicateKeys(t *testing.T) {
	tr := newTrail(t)
	victim := rt21aSealed(t, tr)
	ctx := context.Background()
	// The writers' view depends on the column's type: drop it, change the type, put it back as it was.
	var views []struct{ name, def string }
	rows, err := tr.db.Query(ctx, `SELECT DISTINCT c.oid::regclass::text, pg_get_viewdef(c.oid) FROM pg_depend d
		JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class c ON c.oid = r.ev_class
		WHERE d.refobjid = 'auditrepo.audit_log'::regclass AND c.oid <> 'auditrepo.audit_log'::regclass`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v struct{ name, def string }
		if err := rows.Scan(&v.name, &v.def); err != nil {
			t.Fatal(err)
		}
		views = append(views, v)
	}
	rows.Close()
	for _, v := range views {
		tr.exec(`DROP VIEW ` + v.name)
	}
	tr.exec(`ALTER TABLE auditrepo.audit_log ALTER COLUMN changes TYPE json`)
	for _, v := range views {
		tr.exec(`CREATE VIEW ` + v.name + ` AS ` + v.def)
	}
	tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
	tr.exec(`UPDATE auditrepo.audit_log SET changes = '{"before": {"status": "booked", "notes": "cleaning"},
		"after": {"status": "done", "notes": "cleaning", "diagnosis": "HIV positive"},
		"after": {"status": "done", "notes": "cleaning"}, "changed_fields": ["status"]}' WHERE id = $1`, victim)
	tr.exec(`ALTER TABLE auditrepo.audit_log ENABLE TRIGGER USER`)
	e, ok := reviewerSees(t, tr)[victim]
	if !ok || e.After["diagnosis"] != "HIV positive" {
		t.Fatalf("the reviewer reads after = %v", e.After)
	}
	rep, err := Verify(ctx, tr.connect("auditrepo_reviewer"), tr.v, tr.opts)
	if err == nil {
		t.Fatalf("verify passed (%d rows intact) while the reviewers read sealed row %d with a fabricated after.diagnosis %q (duplicate \"after\" keys in a json column)", rep.Rows, victim, e.After["diagnosis"])
	}
	t.Log(err)
}
