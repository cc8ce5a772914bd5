package integration_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

func exists(t *testing.T, q db.DBTX, table string, id int64) bool {
	t.Helper()
	var ok bool
	err := q.QueryRow(t.Context(), fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE id = $1)", pgx.Identifier{table}.Sanitize()), id).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// checkRow checks an audit row's action, target and patients.
func checkRow(t *testing.T, r clinictest.Row, action, table string, id int64, patient, prior pgtype.Int8) {
	t.Helper()
	if r.Action != action || r.TargetTable != table || r.TargetID != id {
		t.Errorf("audit row %d: %s %s/%d, want %s %s/%d", r.ID, r.Action, r.TargetTable, r.TargetID, action, table, id)
	}
	if p8(r.PatientID) != patient {
		t.Errorf("audit row %d (%s): patient_id = %s, want %s", r.ID, r.Action, i8(p8(r.PatientID)), i8(patient))
	}
	if p8(r.PriorPatientID) != prior {
		t.Errorf("audit row %d (%s): prior_patient_id = %s, want %s", r.ID, r.Action, i8(p8(r.PriorPatientID)), i8(prior))
	}
}

// checkActor checks the five actor columns against what Writer stores for a.
func checkActor(t *testing.T, r clinictest.Row, a audit.Actor) {
	t.Helper()
	wantID := pgtype.Int8{}
	if a.Kind == audit.KindUser {
		wantID = some(a.UserID)
	}
	if p8(r.ActorID) != wantID || r.ActorKind != string(a.Kind) {
		t.Errorf("audit row %d: actor %s/%s, want %s/%s", r.ID, r.ActorKind, i8(p8(r.ActorID)), a.Kind, i8(wantID))
	}
	var gotIP netip.Addr
	if r.IP != nil {
		gotIP = *r.IP
	}
	if gotIP != a.IP {
		t.Errorf("audit row %d: ip = %v, want %v", r.ID, gotIP, a.IP)
	}
	if ptext(r.UserAgent) != text(a.UserAgent) {
		t.Errorf("audit row %d: user_agent = %v, want %q", r.ID, ptext(r.UserAgent), a.UserAgent)
	}
	if ptext(r.RequestID) != text(a.RequestID) {
		t.Errorf("audit row %d: request_id = %v, want %q", r.ID, ptext(r.RequestID), a.RequestID)
	}
}

// image is the expected JSON image of a row: column -> value. Values are nil, string, bool, int/int64,
// json.Number (numeric columns, compared textually so the scale matters) or time.Time (compared as an instant).
type image map[string]any

// checkImage checks that got is exactly want: same keys, equal values.
func checkImage(t *testing.T, what string, got any, want image) {
	t.Helper()
	m, ok := got.(map[string]any)
	if !ok {
		t.Errorf("%s = %#v, want an object", what, got)
		return
	}
	for k, v := range m {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected key %q = %#v", what, k, v)
		}
	}
	for k, w := range want {
		g, ok := m[k]
		if !ok {
			t.Errorf("%s: missing key %q", what, k)
		} else if !jsonEq(g, w) {
			t.Errorf("%s[%q] = %#v, want %#v", what, k, g, w)
		}
	}
}

func jsonEq(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		s, ok := got.(string)
		if !ok {
			return false
		}
		g, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && g.Equal(w)
	case int64:
		n, ok := got.(json.Number)
		return ok && n.String() == strconv.FormatInt(w, 10)
	case int:
		return jsonEq(got, int64(w))
	case json.Number:
		n, ok := got.(json.Number)
		return ok && n == w
	default:
		return reflect.DeepEqual(got, want)
	}
}

// checkChanged checks changes.changed_fields as a set.
func checkChanged(t *testing.T, r clinictest.Row, want []string) {
	t.Helper()
	raw, ok := r.Ch["changed_fields"].([]any)
	if !ok {
		t.Errorf("audit row %d: changed_fields = %#v, want a list", r.ID, r.Ch["changed_fields"])
		return
	}
	var got []string
	for _, v := range raw {
		s, _ := v.(string)
		got = append(got, s)
	}
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("audit row %d: changed_fields = %q, want %q", r.ID, got, want)
	}
}

// checkKeys checks the top-level keys of changes.
func checkKeys(t *testing.T, r clinictest.Row, want ...string) {
	t.Helper()
	var got []string
	for k := range r.Ch {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("audit row %d: changes keys = %q, want %q", r.ID, got, want)
	}
}

func some(v int64) pgtype.Int8 { return pgtype.Int8{Int64: v, Valid: true} }

// p8 is an audit row's nullable bigint as pgtype.Int8.
func p8(p *int64) pgtype.Int8 {
	if p == nil {
		return pgtype.Int8{}
	}
	return some(*p)
}

// str is an audit row's nullable text, "" for NULL.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ptext is an audit row's nullable text as pgtype.Text.
func ptext(p *string) pgtype.Text {
	if p == nil {
		return pgtype.Text{}
	}
	return pgtype.Text{String: *p, Valid: true}
}

func i8(v pgtype.Int8) string {
	if !v.Valid {
		return "NULL"
	}
	return strconv.FormatInt(v.Int64, 10)
}

func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

func date(y int, m time.Month, d int) pgtype.Date {
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}

func clock(h, m int) pgtype.Time {
	return pgtype.Time{Microseconds: int64(h*3600+m*60) * 1e6, Valid: true}
}

func num(s string) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		panic(err)
	}
	return n
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ended reports whether a write has sent its outcome to done, without taking it.
func ended(done chan error) func() bool { return func() bool { return len(done) > 0 } }
