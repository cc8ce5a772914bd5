package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// usageBlocks is a subcommand's -h output by flag: each flag's lines, as the flag package prints them.
func usageBlocks(t *testing.T, name string) map[string]string {
	t.Helper()
	code, _, errs := cli{t: t}.run(name, "-h")
	if code != 2 {
		t.Fatalf("%s -h: exit %d", name, code)
	}
	blocks := map[string]string{}
	for _, b := range strings.Split(errs, "\n  -")[1:] {
		flag, _, _ := strings.Cut(b, " ")
		flag, _, _ = strings.Cut(flag, "\n")
		blocks[flag] = strings.TrimSpace(b)
	}
	return blocks
}

// Every subcommand names an auditschema.Config field with the flag schema uses for it: same name, default and
// help. Each takes the names it uses, and the audit table is --audit-table everywhere (record's --table is the
// audited table).
func TestNameFlagsAgree(t *testing.T) {
	all := []string{"schema", "audit-table", "audit-role", "writer-role", "owner-role", "app-role", "reviewer-role", "sealer-role"}
	want := map[string][]string{
		"schema":    all,
		"trail":     {"schema", "audit-table", "audit-role", "writer-role"},
		"record":    {"schema", "audit-table", "audit-role", "writer-role"},
		"seal":      {"schema", "audit-table", "audit-role", "writer-role"},
		"verify":    {"schema", "audit-table", "audit-role", "writer-role"},
		"retention": {"schema", "owner-role", "audit-role", "writer-role"},
		"keygen":    nil,
	}
	for name := range commands {
		if _, ok := want[name]; !ok {
			t.Errorf("subcommand %s: add it to this test with the names it takes", name)
		}
	}
	ref := usageBlocks(t, "schema")
	for name, flags := range want {
		blocks := usageBlocks(t, name)
		for _, f := range all {
			got, has := blocks[f]
			switch {
			case has != slices.Contains(flags, f):
				t.Errorf("%s has --%s: %v, want %v", name, f, has, !has)
			case has && got != ref[f]:
				t.Errorf("%s --%s:\n%s\nschema --%s:\n%s", name, f, got, f, ref[f])
			}
		}
	}
}

// A database installed with other names than the defaults.
var otherNames = auditschema.Config{Schema: "clinic_audit", Table: "clinic_trail", Owner: "auditrepo_cli_test_owner"}

// retention runs against an audit schema of other names with --schema and --owner-role, and its refusals name
// that owner role.
func TestRetentionOtherNames(t *testing.T) {
	db := pgtest.Audited(t, otherNames)
	oldPartition(t, db, otherNames)
	super := cli{t: t, vars: map[string]string{"DATABASE_URL": db.Config().ConnString()}}
	names := func(args ...string) []string {
		return append([]string{"retention", "--schema", otherNames.Schema, "--owner-role", otherNames.Owner}, args...)
	}

	if out := super.want(0, names("--hold-patient", "5", "--reason", "litigation 17")...); out != "placed legal hold 1 on patient 5\n" {
		t.Fatalf("hold printed %q", out)
	}
	if out := super.want(0, names("--dry-run")...); !strings.Contains(out, "kept    clinic_trail_201901") ||
		!strings.Contains(out, "would drop (dry run) 0 partitions, kept 1 under legal hold") {
		t.Fatalf("dry run printed\n%s", out)
	}
	super.want(0, names("--release", "1", "--reason", "settled")...)
	if out := super.want(0, names("--floor", "7y")...); !strings.Contains(out, "dropped  clinic_trail_201901") ||
		!strings.Contains(out, "floor 7 years: dropped 1 partitions") {
		t.Fatalf("retain printed\n%s", out)
	}
	if out := super.want(2, "retention", "--dry-run"); !strings.Contains(out, "no audit schema auditrepo in this database") {
		t.Errorf("retention without --schema printed %q, want the default schema missing", out)
	}

	app := cli{t: t, vars: map[string]string{"DATABASE_URL": roleURL(db, "auditrepo_app")}}
	out := app.want(2, names("--dry-run")...)
	if !strings.Contains(out, "need a member of the owner role "+otherNames.Owner+",") || strings.Contains(out, auditschema.Defaults.Owner) {
		t.Errorf("as the app role: %q, want the refusal to name %s alone", out, otherNames.Owner)
	}
	if out := app.want(2, names("--owner-role", "")...); !strings.Contains(out, `invalid value "" for flag -owner-role: a name cannot be empty`) {
		t.Errorf("an empty --owner-role: %q", out)
	}
	if out := app.want(2, names("--owner-role", "o$ar$ || x")...); !strings.Contains(out, `for flag -owner-role: a name cannot hold a control character or $ar$`) {
		t.Errorf("an --owner-role holding $ar$: %q", out)
	}
}

// trail, record, seal and verify read an audit table of other names with --schema and --audit-table.
func TestReadAndSealOtherNames(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Audited(t, otherNames)
	var xid uint64
	err := db.QueryRow(ctx, `WITH r AS (INSERT INTO clinic_audit.clinic_trail (actor_kind, action, target_table, target_id, patient_id, changes)
		SELECT 'user', 'UPDATE', 'visits', 1, 1, jsonb_build_object('after', jsonb_build_object('n', g)) FROM generate_series(1, 3) g
		RETURNING transaction_id) SELECT max(transaction_id) FROM r`).Scan(&xid)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFinal(t, db, xid)
	names := []string{"--schema", otherNames.Schema, "--audit-table", otherNames.Table}

	reviewer := cli{t: t, vars: map[string]string{"DATABASE_URL": roleURL(db, "auditrepo_reviewer")}}
	for _, args := range [][]string{{"trail", "--patient", "1"}, {"record", "--table", "visits", "--id", "1"}} {
		out := reviewer.want(0, append(append(args, "--format", "json"), names...)...)
		if n := strings.Count(out, `"action":"UPDATE"`); n != 3 {
			t.Errorf("%s printed %d events, want 3:\n%s", args[0], n, out)
		}
	}
	reviewer.want(2, "trail", "--patient", "1") // the default names: no such table
	if out := reviewer.want(2, "trail", "--patient", "1", "--table", otherNames.Table); !strings.Contains(out, "flag provided but not defined: -table") {
		t.Errorf("trail --table: %q, want it refused", out)
	}

	keys, cps := t.TempDir(), t.TempDir()
	super := cli{t: t, vars: map[string]string{"DATABASE_URL": db.Config().ConnString()}}
	super.want(0, "keygen", "--name", "clinic", "--out", keys)
	if out := super.want(0, append([]string{"seal", "--key", filepath.Join(keys, "clinic.key"), "--checkpoints", cps}, names...)...); !strings.Contains(out, "tree size 3") {
		t.Fatalf("seal printed %q", out)
	}
	verify := append([]string{"verify", "--pub", filepath.Join(keys, "clinic.pub"), "--checkpoints", cps}, names...)
	if out := super.want(0, verify...); !strings.Contains(out, "3 rows match 1 checkpoints") {
		t.Fatalf("verify printed %q", out)
	}
	if out := super.want(2, append(verify, "--audit-table", "")...); !strings.Contains(out, `invalid value "" for flag -audit-table: a name cannot be empty`) {
		t.Errorf("an empty --audit-table: %q", out)
	}
}
