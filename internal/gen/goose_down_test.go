package gen

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// TestGooseDownSectionIsNotSchema: sqlc reads a migration's Up section alone (it drops everything after
// "-- +goose Down", "-- +migrate Down", "-- migrate:down" or tern's marker), and the database is what the Up
// sections made. In golden case ok_goose_down the second migration makes patients.temp a double precision and
// patients.chair a point; its Down section makes them numeric and text again. The generator must judge the columns
// from the Up sections, as sqlc does: both print floats by extra_float_digits, so their trigger function must pin
// it. A session that lowered it (to -15, as TestGoldenFloatDigits does) would otherwise have point(1.1,2.1) and
// point(1.4,2.4) both print (1,2), hiding the change, and 36.6 -> 41.9 recorded as 40 -> 40.
func TestGooseDownSectionIsNotSchema(t *testing.T) {
	t.Parallel()
	root := "../.."
	prog, sqls := generate(t, caseOptions("ok_goose_down"))
	super, app := caseDB(t, root, "ok_goose_down", prog, sqls["auditSQL"])
	ctx := t.Context()
	cfg := app.Config().ConnConfig.Copy()
	cfg.RuntimeParams["extra_float_digits"] = "-15" // the application may set it, in its startup packet too
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var id int64
	if err := conn.QueryRow(ctx, sqls["auditedCreatePatient"], 36.6, "(1.1,2.1)", goldenActor).Scan(&id, new(float64), new(pgtype.Point)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, sqls["auditedUpdatePatientChair"], id, "(1.4,2.4)", goldenActor); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, sqls["auditedUpdatePatientTemp"], id, 41.9, goldenActor); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := super.QueryRow(ctx, "SELECT temp || ' ' || chair FROM patients WHERE id = $1", id).Scan(&stored); err != nil || stored != "41.9 (1.4,2.4)" {
		t.Fatalf("the row holds %q (%v)", stored, err)
	}
	got := pgtest.Strings(t, super, `SELECT action || ' ' || coalesce(changes->>'changed_fields', '') || ' ' || coalesce(changes->'before'->>'chair', '')
		|| ' ' || coalesce(changes->'before'->>'temp', '') || ' -> ' || (changes->'after'->>'chair') || ' ' || (changes->'after'->>'temp')
		FROM auditrepo.audit_log WHERE target_table = 'patients' AND target_id = $1 ORDER BY id`, id)
	want := []string{
		"CREATE    -> (1.1,2.1) 36.6",
		`UPDATE ["chair"] (1.1,2.1) 36.6 -> (1.4,2.4) 36.6`,
		`UPDATE ["temp"] (1.4,2.4) 36.6 -> (1.4,2.4) 41.9`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the trail of a chair and a temperature change under extra_float_digits -15, generated from migrations whose "+
			"Down sections retype the columns back:\n%q\nwant\n%q", got, want)
	}
}
