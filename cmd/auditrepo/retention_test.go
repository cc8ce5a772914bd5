package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// oldPartition adds to the audit table of c's names the partition of January 2019, made as maintain() would
// have made it, with a row of patient 5.
func oldPartition(t *testing.T, db *pgxpool.Pool, c auditschema.Config) {
	t.Helper()
	c = c.WithDefaults()
	_, err := db.Exec(context.Background(), fmt.Sprintf(`SET ROLE %s;
		CREATE TABLE %s PARTITION OF %s FOR VALUES FROM ('2019-01-01') TO ('2019-02-01');
		RESET ROLE;
		INSERT INTO %[3]s (occurred_at, actor_kind, action, target_table, target_id, patient_id, changes)
		VALUES ('2019-01-15', 'system', 'CREATE', 'visits', 1, 5, '{}')`,
		pgx.Identifier{c.Audit}.Sanitize(), pgx.Identifier{c.Schema, c.Table + "_201901"}.Sanitize(), c.QualifiedTable()))
	if err != nil {
		t.Fatal(err)
	}
}

func TestRetentionCmd(t *testing.T) {
	db := pgtest.Audited(t, auditschema.Config{})
	oldPartition(t, db, auditschema.Config{})
	super := db.Config().ConnString()

	code, out, errs := runCmd(t, super, "retention", "--hold-patient", "5", "--reason", "litigation 17")
	if code != 0 || out != "placed legal hold 1 on patient 5\n" {
		t.Fatalf("hold: exit %d, %q %q", code, out, errs)
	}
	code, out, errs = runCmd(t, super, "retention", "--dry-run")
	if code != 0 || !strings.Contains(out, "kept") || !strings.Contains(out, "hold 1 (patient 5: litigation 17)") ||
		!strings.Contains(out, "would drop (dry run) 0 partitions, kept 1 under legal hold") {
		t.Fatalf("dry run: exit %d, stdout:\n%s\nstderr %s", code, out, errs)
	}
	code, out, errs = runCmd(t, super, "retention", "--release", "1", "--reason", "litigation 17 settled")
	if code != 0 || out != "released legal hold 1\n" {
		t.Fatalf("release: exit %d, %q %q", code, out, errs)
	}
	code, out, errs = runCmd(t, super, "retention", "--floor", "7y")
	if code != 0 || !strings.Contains(out, "dropped  audit_log_201901  2019-01-01 00:00:00 UTC  2019-02-01 00:00:00 UTC  1     1-1") ||
		!strings.Contains(out, "floor 7 years: dropped 1 partitions") {
		t.Fatalf("retain: exit %d, stdout:\n%s\nstderr %s", code, out, errs)
	}
	code, out, errs = runCmd(t, super, "retention", "--hold-from", "2020-01-01", "--hold-to", "2020-12-31", "--reason", "OCR inquiry")
	if code != 0 || out != "placed legal hold 2 on [2020-01-01 00:00:00 UTC, 2021-01-01 00:00:00 UTC)\n" {
		t.Fatalf("period hold: exit %d, %q %q", code, out, errs)
	}

	for _, c := range []struct {
		name, db string
		args     []string
		want     string
	}{
		{"short floor", super, []string{"retention", "--floor", "5y"}, "--floor 5y refused: auditschema: retention floor below 6 years"},
		{"bad floor", super, []string{"retention", "--floor", "six"}, "give it in years"},
		{"no reason", super, []string{"retention", "--hold-patient", "5"}, "a legal hold needs --reason TEXT"},
		{"bad date", super, []string{"retention", "--hold-from", "2026-13-01", "--reason", "x"}, `--hold-from "2026-13-01" is not a date`},
		{"patient and period", super, []string{"retention", "--hold-patient", "5", "--hold-to", "2020-01-01", "--reason", "x"}, "not both"},
		{"released twice", super, []string{"retention", "--release", "1", "--reason", "x"}, "no active legal hold 1"},
		{"release without a reason", super, []string{"retention", "--release", "2"}, "releasing a legal hold needs --reason TEXT"},
		// A hold flag given an empty or zero value, or a reason without a hold, is a mistake, not a request to drop
		// partitions; --dry-run and --floor do not apply to holds and releases.
		{"empty hold-from", super, []string{"retention", "--hold-from", "", "--reason", "x"}, `--hold-from "": want a day`},
		{"empty hold-to", super, []string{"retention", "--hold-to", "", "--reason", "x"}, `--hold-to "": want a day`},
		{"empty patient", super, []string{"retention", "--hold-patient", "", "--reason", "x"}, "want a decimal integer"},
		{"zero release", super, []string{"retention", "--release", "0", "--reason", "x"}, "--release 0: legal hold ids are positive"},
		{"reason alone", super, []string{"retention", "--reason", "litigation"}, "--reason goes with a hold"},
		{"dry-run hold", super, []string{"retention", "--dry-run", "--hold-patient", "5", "--reason", "x"}, "--dry-run and --floor apply to dropping partitions"},
		{"dry-run release", super, []string{"retention", "--dry-run", "--release", "2", "--reason", "x"}, "--dry-run and --floor apply to dropping partitions"},
		{"floor hold", super, []string{"retention", "--floor", "7y", "--hold-patient", "5", "--reason", "x"}, "--dry-run and --floor apply to dropping partitions"},
		{"app role", roleURL(db, "auditrepo_app"), []string{"retention", "--dry-run"}, "need a member of the owner role auditrepo_owner,"},
		{"reviewer hold", roleURL(db, "auditrepo_reviewer"), []string{"retention", "--hold-patient", "5", "--reason", "x"}, "SQLSTATE 42501"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCmd(t, c.db, c.args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, c.want)
			}
		})
	}
}

// The legal hold's days are UTC days, as the trail's --from and --to: the help says so.
func TestRetentionHelpUTC(t *testing.T) {
	code, _, errs := runCmd(t, "", "retention", "-h")
	for _, want := range []string{"-hold-from string\n    \tplace a legal hold on a period from this day (YYYY-MM-DD, UTC)",
		"-hold-to string\n    \tthe held period's last day (YYYY-MM-DD, UTC, included)"} {
		if code != 2 || !strings.Contains(errs, want) {
			t.Errorf("retention -h: exit %d, %q lacks %q", code, errs, want)
		}
	}
}
