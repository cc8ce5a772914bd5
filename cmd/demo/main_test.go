package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/internal/testdb"
)

// The scenario runs as the application role: the patient's trail holds the repositories' rows and the
// backstop's row for the hand-run update, and all four attempts on the trail's integrity are refused.
func TestDemo(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(t.Context(), &out, testdb.Pool(t)); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	rows := regexp.MustCompile(`(?m)^\d+ .* (CREATE|UPDATE|DELETE) `).FindAllString(text, -1)
	if len(rows) != 14 {
		t.Errorf("the trail has %d rows, want 14 (13 from the repositories, 1 from the backstop):\n%s", len(rows), text)
	}
	if !regexp.MustCompile(`(?m)^\d+ .*db role auditrepo_app +unattributed .* UPDATE +dental_records .*"filling \+ sealant"`).MatchString(text) {
		t.Errorf("no backstop row for the hand-run update of the dental record:\n%s", text)
	}
	if n := strings.Count(text, "refused: "); n != 4 {
		t.Errorf("%d refusals, want 4:\n%s", n, text)
	}
}

// A role that owns the tables could switch the backstop off: the demo reports that as a failure.
func TestDemoFailsForTheOwner(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(t.Context(), &out, testdb.New(t).Owner)
	if err == nil || !strings.Contains(err.Error(), "switch off a backstop trigger: the role could") {
		t.Fatalf("demo as the owner: %v, want it to report that the backstop could be switched off\n%s", err, out.String())
	}
}
