package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/internal/testdb"
)

// The scenario runs as the application role and reads the trail as the reviewer: the patient's trail holds the
// repositories' rows and two unattributed ones (the hand-run update, and the one under a forged claim), and every
// attempt on the trail's integrity is refused.
func TestDemo(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	var out bytes.Buffer
	if err := run(t.Context(), &out, d.App, d.Reviewer); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	rows := regexp.MustCompile(`(?m)^\d+ .* (CREATE|UPDATE|DELETE) `).FindAllString(text, -1)
	if len(rows) != 15 {
		t.Errorf("the trail has %d rows, want 15 (13 from the repositories, 2 unattributed):\n%s", len(rows), text)
	}
	for _, want := range []string{
		`(?m)^\d+ .*db role auditrepo_app +unattributed .* UPDATE +dental_records .*"filling \+ sealant"`,
		`(?m)^\d+ .*db role auditrepo_app +unattributed .* UPDATE +dental_records .*"composite, shade A3"`,
		`(?m)^\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC `,
		`(?m)^Left out of every image \(excluded\): users.password, users.auth_token;`,
		`(?m)^Sealed and verified: \d+ rows in [01] checkpoint\(s\), signed by clinic-demo-trail\+`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("the output does not match %s:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "refused: "); n != 7 {
		t.Errorf("%d refusals, want 7:\n%s", n, text)
	}
}

// The demo runs again on a database it sealed: the second run extends the first run's checkpoints, signed with
// the same key, and verifies both runs' rows.
func TestDemoTwice(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	sealed := regexp.MustCompile(`(?m)^Sealed and verified: (\d+) rows in (\d+) checkpoint\(s\), signed by clinic-demo-trail\+`)
	var rows [2]int
	for i := range 2 {
		var out bytes.Buffer
		if err := run(t.Context(), &out, d.App, d.Reviewer); err != nil {
			t.Fatalf("demo run %d: %v\n%s", i+1, err, out.String())
		}
		m := sealed.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("demo run %d printed no seal:\n%s", i+1, out.String())
		}
		rows[i], _ = strconv.Atoi(m[1])
		t.Log(m[0])
	}
	if rows[1] <= rows[0] {
		t.Fatalf("the second run verified %d rows, the first %d", rows[1], rows[0])
	}
}

// The demo is the application's: the owner of the tables may not make claims, so it cannot run the scenario.
func TestDemoFailsForTheOwner(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	var out bytes.Buffer
	err := run(t.Context(), &out, d.Owner, d.Reviewer)
	if err == nil || !strings.Contains(err.Error(), "permission denied for schema auditrepo_claim") {
		t.Fatalf("demo as the owner: %v, want the claim refused\n%s", err, out.String())
	}
}
