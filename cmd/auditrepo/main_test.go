package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// A flag the flag package refuses (a bad value, an unknown flag) is reported once, by the flag package, before
// the command's usage, and exits 2; -h prints the usage alone.
func TestFlagErrorReportedOnce(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"trail --patient 0x3", `invalid value "0x3" for flag -patient: want a decimal integer`},
		{"record --table visits --id 1e3", `invalid value "1e3" for flag -id`},
		{"retention --release x", `invalid value "x" for flag -release`},
		{"verify --patient 0b1", `invalid value "0b1" for flag -patient`},
		{"seal --nope", "flag provided but not defined: -nope"},
		{"keygen --nope", "flag provided but not defined: -nope"},
		{"schema --schema=", `invalid value "" for flag -schema: a name cannot be empty`},
	} {
		args := strings.Fields(c.args)
		code, out, errs := cli{t: t}.run(args...)
		if code != 2 || out != "" || strings.Count(errs, c.want) != 1 || !strings.HasPrefix(errs, c.want) ||
			!strings.Contains(errs, "Usage of auditrepo "+args[0]+":") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and %q once, then the usage", c.args, code, out, errs, c.want)
		}
		if strings.Contains(errs, "auditrepo "+args[0]+": ") {
			t.Errorf("%s: the error is printed again after the usage:\n%s", c.args, errs)
		}
	}
	if code, _, errs := (cli{t: t}).run("trail", "-h"); code != 2 || !strings.HasPrefix(errs, "Usage of auditrepo trail:") {
		t.Errorf("trail -h: exit %d, stderr %q; want 2 and the usage", code, errs)
	}
}

// TestRefusesAnotherRevision: every command that connects first checks that the audit schema is the revision this
// build installs (schema_version.revision), as the role it runs as, and otherwise exits 1 doing nothing, naming
// both revisions and the fix: trail, record and verify as the reviewer, seal as the sealer, retention.
func TestRefusesAnotherRevision(t *testing.T) {
	db, super := sealDB(t)
	reviewer, sealer := roleURL(db, "auditrepo_reviewer"), roleURL(db, "auditrepo_sealer")
	keys, cps := t.TempDir(), t.TempDir()
	(cli{t: t}).want(0, "keygen", "--name", "clinic", "--out", keys)
	key, pub := filepath.Join(keys, "clinic.key"), filepath.Join(keys, "clinic.pub")
	as := func(url string) cli { return cli{t: t, vars: map[string]string{"DATABASE_URL": url}} }
	// The same revision: each role may read it.
	as(sealer).want(0, "seal", "--key", key, "--checkpoints", cps)
	as(reviewer).want(0, "verify", "--pub", pub, "--checkpoints", cps)
	as(reviewer).want(0, "trail", "--patient", "1")

	want, err := auditschema.Revision()
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("ab", 32)
	mustExec(t, db, "UPDATE auditrepo.schema_version SET revision = $1", other)
	insert(t, db, 2) // something to seal
	for _, c := range []struct {
		url  string
		args []string
	}{
		{reviewer, []string{"trail", "--patient", "1"}},
		{reviewer, []string{"record", "--table", "patients", "--id", "1"}},
		{reviewer, []string{"verify", "--pub", pub, "--checkpoints", cps}},
		{sealer, []string{"seal", "--key", key, "--checkpoints", cps}},
		{super, []string{"retention", "--dry-run"}},
		{super, []string{"retention", "--hold-patient", "1", "--reason", "litigation"}},
	} {
		code, out, errs := as(c.url).run(c.args...)
		if code != 1 || out != "" || !strings.Contains(errs, "audit schema auditrepo is revision "+other+" (schema version 1), but this auditrepo was built for revision "+want) ||
			!strings.Contains(errs, "`auditrepo schema`") {
			t.Errorf("%s against revision %s: exit %d, stdout %q, stderr %q; want 1 naming both revisions and the fix", strings.Join(c.args, " "), other, code, out, errs)
		}
	}
	var checkpoints, holds int
	if err := db.QueryRow(t.Context(), "SELECT (SELECT count(*) FROM auditrepo.seal_checkpoint), (SELECT count(*) FROM auditrepo.legal_holds)").Scan(&checkpoints, &holds); err != nil ||
		checkpoints != 1 || holds != 0 {
		t.Errorf("after the refusals: %d checkpoints, %d legal holds (%v); want 1 and 0", checkpoints, holds, err)
	}
	// A schema from before revisions were recorded.
	mustExec(t, db, "ALTER TABLE auditrepo.schema_version DROP COLUMN revision")
	if out := as(reviewer).want(1, "trail", "--patient", "1"); !strings.Contains(out, "is revision (none recorded) (schema version 1)") {
		t.Errorf("trail against a schema without a recorded revision: %q", out)
	}
}

// A schema under the audit schema's name that is not the audit role's (another role's, made before the install) is
// refused unread, exit 2: its schema_version, a view here, could run that role's code as the command's user. The
// refusal names the owner and the flags that name the audit schema's roles, for a schema installed with others.
func TestRefusesAnotherRolesSchema(t *testing.T) {
	db := pgtest.Empty(t)
	mustExec(t, db, `CREATE SCHEMA auditrepo;
		CREATE VIEW auditrepo.schema_version AS SELECT 1 AS version, ''::text AS revision, 1 / 0 AS digest`)
	super := cli{t: t, vars: map[string]string{"DATABASE_URL": db.Config().ConnString()}}
	out := super.want(2, "trail", "--patient", "1")
	owner := db.Config().ConnConfig.User
	if !strings.Contains(out, "schema auditrepo is owned by "+owner) || !strings.Contains(out, "--audit-role") || strings.Contains(out, "division by zero") {
		t.Errorf("trail against %s's schema auditrepo: %q; want it refused unread, naming the owner and --audit-role", owner, out)
	}
}
