package seal

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// A superuser edits the database after a seal so that what the reviewers read of the trail would differ from
// what Verify reads: Verify, with the honest key and witness, must fail, and the reviewers' read must not show
// them another trail silently.

// sealedUpdate inserts one UPDATE row for patient 1 (before/after images, as the triggers write them) beside a few
// synthetic rows, seals, checks the trail verifies, and returns the row's id.
func sealedUpdate(t *testing.T, tr *trail) int64 {
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
	out, err := reviewerReads(tr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func reviewerReads(tr *trail) (map[int64]audit.Event, error) {
	conn := tr.connect("auditrepo_reviewer")
	evs, err := audit.Trail{}.ListPatient(context.Background(), conn, 1, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	out := map[int64]audit.Event{}
	for _, e := range evs {
		out[e.ID] = e
	}
	return out, nil
}

// alterAuditTable alters the audit table as a superuser, dropping the views that depend on its columns' types (the
// writers' view) and putting them back as they were.
func alterAuditTable(t *testing.T, tr *trail, alter string) {
	t.Helper()
	ctx := context.Background()
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
	tr.exec(`ALTER TABLE auditrepo.audit_log ` + alter)
	for _, v := range views {
		tr.exec(`CREATE VIEW ` + v.name + ` AS ` + v.def)
	}
}

// TestVerifyRefusesRowSecurityOnTheTrail: a superuser enables row-level security on the audit table with a
// policy that hides a sealed row from every read but Verify's own query (told apart by its text). The reviewers'
// trail (audit.Trail, auditrepo trail/record) reads with row_security off, so it fails (ErrRowSecurity) instead
// of losing the row; Verify, Seal and VerifyPatient refuse the table (ErrTableAltered), naming what to remove,
// for the policy and for row-level security enabled or forced without one.
func TestVerifyRefusesRowSecurityOnTheTrail(t *testing.T) {
	tr := newTrail(t)
	victim := sealedUpdate(t, tr)
	if _, ok := reviewerSees(t, tr)[victim]; !ok {
		t.Fatal("setup: the reviewer does not see the row")
	}
	ctx := context.Background()
	refused := func(what string, want string) {
		t.Helper()
		rep, err := Verify(ctx, tr.connect("auditrepo_reviewer"), []note.Verifier{tr.v}, tr.opts)
		if !errors.Is(err, ErrTableAltered) || !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: verify (as the reviewer) = %+v, %v; want ErrTableAltered naming %q", what, rep, err, want)
		}
		if _, err := VerifyPatient(ctx, tr.connect("auditrepo_reviewer"), []note.Verifier{tr.v}, tr.opts, 1); !errors.Is(err, ErrTableAltered) {
			t.Errorf("%s: verify --patient = %v, want ErrTableAltered", what, err)
		}
		tr.insert(1, 2) // something to seal
		pgtest.WaitFinal(t, tr.db, tr.maxXID())
		if _, err := Seal(ctx, tr.connect("auditrepo_sealer"), tr.s, tr.opts); !errors.Is(err, ErrTableAltered) {
			t.Errorf("%s: seal = %v, want ErrTableAltered", what, err)
		}
	}
	tr.exec(`ALTER TABLE auditrepo.audit_log ENABLE ROW LEVEL SECURITY`)
	tr.exec(`CREATE POLICY hide_row ON auditrepo.audit_log USING (id <> ` + strconv.FormatInt(victim, 10) + `
		OR pg_catalog.strpos(pg_catalog.current_query(), 'ORDER BY a.transaction_id, a.id, a.occurred_at') > 0)`)
	if evs, err := reviewerReads(tr); !errors.Is(err, audit.ErrRowSecurity) {
		t.Errorf("the reviewer's trail under the policy = %d events, %v; want ErrRowSecurity", len(evs), err)
	}
	refused("a policy", "hide_row")
	tr.exec(`DROP POLICY hide_row ON auditrepo.audit_log`)
	refused("row-level security without a policy", "DISABLE ROW LEVEL SECURITY")
	tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE ROW LEVEL SECURITY`)
	// On a partition, and forced: the owner's reads too would be filtered.
	var part string
	if err := tr.db.QueryRow(ctx, `SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'auditrepo.audit_log'::regclass LIMIT 1`).Scan(&part); err != nil {
		t.Fatal(err)
	}
	tr.exec(`ALTER TABLE ` + part + ` FORCE ROW LEVEL SECURITY`)
	refused("row-level security forced on a partition", part)
	tr.exec(`ALTER TABLE ` + part + ` NO FORCE ROW LEVEL SECURITY`)
	tr.exec(`CREATE RULE hide_rule AS ON INSERT TO ` + part + ` DO ALSO NOTIFY hide_rule`)
	refused("a rule on a partition", "hide_rule")
	tr.exec(`DROP RULE hide_rule ON ` + part)
	if _, err := Verify(ctx, tr.connect("auditrepo_reviewer"), []note.Verifier{tr.v}, tr.opts); err != nil {
		t.Fatalf("verify once all is removed: %v", err)
	}
}

// TestVerifyReadsThroughNoCast: a superuser moves a sealed row to another patient (out of patient 1's trail) and
// creates a cast bigint -> text (PostgreSQL has none: it converts through the type's output function) whose
// function gives the old patient back. Verify read every column as col::text, so it read the row as sealed; it
// now reads each column in text format, as the type's output function writes it, so the row reads as edited.
func TestVerifyReadsThroughNoCast(t *testing.T) {
	tr := newTrail(t)
	victim := sealedUpdate(t, tr)
	tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
	tr.exec(`UPDATE auditrepo.audit_log SET patient_id = 900000001 WHERE id = $1`, victim)
	tr.exec(`CREATE FUNCTION public.lying_int8_text(bigint) RETURNS text LANGUAGE sql IMMUTABLE
		AS $$ SELECT CASE WHEN $1 = 900000001 THEN '1' ELSE pg_catalog.textin(pg_catalog.int8out($1)) END $$`)
	tr.exec(`CREATE CAST (bigint AS text) WITH FUNCTION public.lying_int8_text(bigint)`)
	tr.exec(`ALTER TABLE auditrepo.audit_log ENABLE TRIGGER USER`)
	if _, ok := reviewerSees(t, tr)[victim]; ok {
		t.Fatal("the reviewer still finds the row under patient 1")
	}
	rep, err := Verify(context.Background(), tr.connect("auditrepo_reviewer"), []note.Verifier{tr.v}, tr.opts)
	if err == nil {
		t.Fatalf("verify passed (%d rows intact) after sealed row %d was moved to patient 900000001, behind a cast bigint -> text that gives 1 back", rep.Rows, victim)
	}
	var te *TamperError
	if !errors.As(err, &te) || te.Row.ID != victim || te.Kind != "edited" {
		t.Fatalf("verify = %v, want row %d edited", err, victim)
	}
}

// TestVerifyRefusesAColumnOfAnotherType: a sealed column altered to another type (whose text may read otherwise),
// or a column the schema does not install, is refused (ErrTableAltered), naming the column.
func TestVerifyRefusesAColumnOfAnotherType(t *testing.T) {
	tr := newTrail(t)
	sealedUpdate(t, tr)
	ctx := context.Background()
	for _, c := range []struct{ alter, undo, want string }{
		{`ALTER COLUMN user_agent TYPE varchar(200)`, `ALTER COLUMN user_agent TYPE text`, `"user_agent" is of type character varying(200), not text`},
		{`ALTER COLUMN target_id TYPE numeric`, `ALTER COLUMN target_id TYPE bigint`, `"target_id" is of type numeric, not bigint`},
		{`ADD COLUMN note text`, `DROP COLUMN note`, `column "note" (text) that the schema does not install`},
	} {
		alterAuditTable(t, tr, c.alter)
		_, err := Verify(ctx, tr.connect("auditrepo_reviewer"), []note.Verifier{tr.v}, tr.opts)
		if !errors.Is(err, ErrTableAltered) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: verify = %v, want ErrTableAltered saying %q", c.alter, err, c.want)
		}
		alterAuditTable(t, tr, c.undo)
	}
	if _, err := Verify(ctx, tr.connect("auditrepo_reviewer"), []note.Verifier{tr.v}, tr.opts); err != nil {
		t.Fatalf("verify once all is undone: %v", err)
	}
}

// TestVerifyRefusesDuplicateJSONKeys: a superuser changes the changes column from jsonb to json, which keeps a
// text as written, duplicate keys included, and rewrites a sealed row's changes as
// {"before": ..., "after": {FABRICATED + real}, "after": {real}, ...}. CanonicalJSON kept the last of duplicate
// keys (as jsonb would), so the row hashed as sealed, and audit.Trail decoded into a struct whose map fields Go's
// decoder reuses, merging the second "after" into the first: the reviewers read a field the trigger never wrote.
// Now Verify refuses the json column (ErrTableAltered), the reviewers read the last "after" alone, and a
// duplicate key is an edit of its row (CanonicalJSON refuses it: TestCanonicalJSONRefusesDuplicateKeys).
func TestVerifyRefusesDuplicateJSONKeys(t *testing.T) {
	tr := newTrail(t)
	victim := sealedUpdate(t, tr)
	ctx := context.Background()
	alterAuditTable(t, tr, `ALTER COLUMN changes TYPE json`)
	tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
	tr.exec(`UPDATE auditrepo.audit_log SET changes = '{"before": {"status": "booked", "notes": "cleaning"},
		"after": {"status": "done", "notes": "cleaning", "diagnosis": "HIV positive"},
		"after": {"status": "done", "notes": "cleaning"}, "changed_fields": ["status"]}' WHERE id = $1`, victim)
	tr.exec(`ALTER TABLE auditrepo.audit_log ENABLE TRIGGER USER`)
	e, ok := reviewerSees(t, tr)[victim]
	if !ok || e.After["diagnosis"] != nil || e.After["status"] != "done" || e.Before["status"] != "booked" {
		t.Errorf("the reviewer reads before = %v, after = %v; want the last \"after\" alone", e.Before, e.After)
	}
	rep, err := Verify(ctx, tr.connect("auditrepo_reviewer"), []note.Verifier{tr.v}, tr.opts)
	if !errors.Is(err, ErrTableAltered) || !strings.Contains(err.Error(), `"changes" is of type json, not jsonb`) {
		t.Fatalf("verify = %+v, %v; want ErrTableAltered for the json column", rep, err)
	}
}

// TestVerifyReportsADuplicateJSONKeyAsAnEdit: a row whose JSON gives a key twice cannot be hashed (only a json
// column could hold one, which checkTable refuses first): it reads as an edit of that row, naming the column and
// the key.
func TestVerifyReportsADuplicateJSONKeyAsAnEdit(t *testing.T) {
	tab := &table{cols: []string{"transaction_id", "id", "occurred_at", "changes"}, json: []bool{false, false, false, true},
		index: map[string]int{"transaction_id": 0, "id": 1, "occurred_at": 2, "changes": 3}, xidCol: 0, idCol: 1, timeCol: 2}
	r, err := tab.parse([][]byte{[]byte("5"), []byte("1"), []byte("2026-01-02T03:04:05.000000Z"), []byte(`{"after": {"a": 1}, "after": {"a": 1}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(r.jsonErr, ErrDuplicateKey) || !strings.Contains(r.jsonErr.Error(), "column changes") || !strings.Contains(r.jsonErr.Error(), `"after"`) {
		t.Fatalf("jsonErr = %v, want ErrDuplicateKey naming the column and the key", r.jsonErr)
	}
	m := merger{leaves: []leaf{{Key: Key{XID: 5, ID: 1}}}, watermark: 10, xmax: 20}
	if !m.step(row{Key: r.Key, hashErr: r.jsonErr}) || m.firstBad == nil || m.firstBad.Kind != "edited" || !strings.Contains(m.firstBad.Detail, `"after"`) {
		t.Fatalf("the merger's finding = %+v, want the row edited", m.firstBad)
	}
}

// TestCanonicalJSONRefusesDuplicateKeys: a key given twice in one object, at any depth, is refused, naming it; the
// same key in two objects is not.
func TestCanonicalJSONRefusesDuplicateKeys(t *testing.T) {
	for _, c := range []struct{ text, key string }{
		{`{"a": 1, "a": 2}`, "a"},
		{`{"after": {"x": 1, "d": 2}, "after": {"x": 1}}`, "after"},
		{`[1, {"b": [{"c": {}, "c": null}]}]`, "c"},
		{`{"x": "a:b", "y": {"q\":": 1, "q\":": 2}}`, `q":`},
	} {
		_, err := CanonicalJSON([]byte(c.text))
		if !errors.Is(err, ErrDuplicateKey) || !strings.Contains(err.Error(), strconv.Quote(c.key)) {
			t.Errorf("CanonicalJSON(%s) = %v, want ErrDuplicateKey naming %q", c.text, err, c.key)
		}
	}
	for _, text := range []string{`{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "c": ":\":"}`, `{}`, `[{}, {}]`, `"a:b"`} {
		if _, err := CanonicalJSON([]byte(text)); err != nil {
			t.Errorf("CanonicalJSON(%s) = %v", text, err)
		}
	}
}
