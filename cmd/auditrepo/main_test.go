package main

import (
	"strings"
	"testing"
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
