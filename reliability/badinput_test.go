package reliability_test

// Bad input: hostile and unusual values must reach the audit JSON exactly as they were stored (text, numbers,
// NULLs, timestamps), values PostgreSQL cannot store must be refused without writing anything, and the request
// metadata recorded with each change (client IP, user agent, request id) must not be spoofable or able to
// smuggle control characters into the trail.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/audit/audithttp"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/migrations"
)

// hostileTexts are PHI values that stress quoting, escaping and encoding on the way into the audit JSON.
func hostileTexts() []struct{ name, v string } {
	var binaryish strings.Builder
	for b := 1; b < 0x80; b++ { // every ASCII byte but NUL, controls included
		binaryish.WriteByte(byte(b))
	}
	for r := rune(0x80); r <= 0x2FF; r++ { // C1 controls, Latin-1, Latin Extended
		binaryish.WriteRune(r)
	}
	return []struct{ name, v string }{
		{"quotes", `it's "quoted" ''double'' ""twice"" ` + "`tick`"},
		{"backslashes", `C:\path\to\file \\server\share \n \t \" \\" \u0041 \x00`},
		{"escaped NUL literal", `\u0000 \\u0000 \0`},
		{"json lookalike", `{"notes": "[REDACTED]", "after": null, "password": "x"}`},
		{"redaction marker", "[REDACTED]"},
		{"sql", "'); DROP TABLE audit_log; -- $1 $$ $ar$ E'\\x'"},
		{"binary-ish", binaryish.String()},
		{"emoji", "🦷😀 👩🏽‍⚕️ 👨‍👩‍👧‍👦 🇩🇪🇺🇸 ❤️ 🏳️‍🌈"},
		{"combining", "e\u0301 a\u030a n\u0303 Z\u0351\u0325\u0300\u0302"},
		{"rtl and bidi controls", "مرحبا עברית \u202Eevil\u202C \u2066iso\u2069 \u200F\u200E"},
		{"separators", "line\u2028para\u2029nel\u0085end"},
		{"bom and specials", "\uFEFFbom \uFFFD repl \uFFFE \uFFFF \U0010FFFF \U0001F9B7"},
		{"cjk", "歯科 치과 牙科 ｈａｌｆ"},
		{"empty", ""},
		{"whitespace", " \t\r\n\v\f "},
		{"long line", strings.Repeat("x", 70000)},
	}
}

// megabyteNotes returns more than 1 MiB of mixed text, different for each seed.
func megabyteNotes(seed string) string {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "%s %d: Zahn \"🦷\" \\ ü — 'x' \u202E\n\t", seed, i)
	}
	return b.String()
}

// TestBadInputTextRoundTrip writes each hostile value through Create, Update and Delete and checks every
// image in the trail field by field against what was written, plus the chain and the live row.
func TestBadInputTextRoundTrip(t *testing.T) {
	g := clinictest.New(t, clinictest.PoolSize(4))
	texts := hostileTexts()
	texts = append(texts, struct{ name, v string }{"1 MiB notes", megabyteNotes("a")})
	// The huge values go into notes only, so that the 1 MiB case stays a few MiB of JSON.
	label := func(v string) string {
		if len(v) > 64<<10 {
			return fmt.Sprintf("%d bytes", len(v))
		}
		return v
	}
	for i, tc := range texts {
		next := texts[(i+1)%len(texts)].v
		if tc.name == "1 MiB notes" {
			next = megabyteNotes("b")
		}
		t.Run(tc.name, func(t *testing.T) {
			diag, treat, nextDiag := label(tc.v), "t:"+label(tc.v), label(next)
			rec, err := g.R.DentalRecord.Create(g.Ctx, db.CreateDentalRecordParams{
				PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: diag, Treatment: treat, Notes: tc.v,
			})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if rec.Diagnosis != diag || rec.Treatment != treat || rec.Notes != tc.v {
				t.Errorf("Create returned %q/%q/%q", clinictest.Abbrev(rec.Diagnosis), clinictest.Abbrev(rec.Treatment), clinictest.Abbrev(rec.Notes))
			}
			upd, err := g.R.DentalRecord.Update(g.Ctx, db.UpdateDentalRecordParams{
				ID: rec.ID, PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: nextDiag, Treatment: treat, Notes: next + "!",
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if upd.Diagnosis != nextDiag || upd.Notes != next+"!" {
				t.Errorf("Update returned %q/%q", clinictest.Abbrev(upd.Diagnosis), clinictest.Abbrev(upd.Notes))
			}
			if err := g.R.DentalRecord.Delete(g.Ctx, rec.ID); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			// The chain check ties the images together: the UPDATE's before is the CREATE's after, and the
			// DELETE's deleted_record (the row as it was deleted) is the UPDATE's after.
			trail := g.CheckChain(t, "dental_records", rec.ID, nil, false)
			if len(trail) != 3 {
				t.Fatalf("%d audit rows, want CREATE, UPDATE, DELETE", len(trail))
			}
			want := []map[string]string{
				{"diagnosis": diag, "treatment": treat, "notes": tc.v},
				{"diagnosis": nextDiag, "treatment": treat, "notes": next + "!"},
				{"diagnosis": nextDiag, "treatment": treat, "notes": next + "!"},
			}
			for i, r := range trail {
				if !json.Valid(r.Changes) {
					t.Errorf("audit row %d: changes are not valid JSON", r.ID)
				}
				for k, w := range want[i] {
					if got, ok := r.Image()[k].(string); !ok || got != w {
						t.Errorf("audit row %d (%s): %s = %s, want %s", r.ID, r.Action, k, clinictest.Abbrev(r.Image()[k]), clinictest.Abbrev(w))
					}
				}
			}
			if before, _ := trail[1].Ch["before"].(map[string]any); before["notes"] != tc.v || before["diagnosis"] != diag {
				t.Errorf("UPDATE before = %s", clinictest.Abbrev(before))
			}
			wantChanged := []string{"diagnosis", "notes", "updated_at"}
			if nextDiag == diag {
				wantChanged = []string{"notes", "updated_at"}
			}
			if got := stringsOrNil(trail[1].Ch["changed_fields"]); !sameStrings(got, wantChanged) {
				t.Errorf("changed_fields = %q, want %q", got, wantChanged)
			}
		})
	}
}

func sameStrings(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func mustNumeric(t *testing.T, s string) pgtype.Numeric {
	t.Helper()
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		t.Fatalf("numeric %q: %v", s, err)
	}
	return n
}

// TestBadInputNumbers: numeric(12,2) at its limits, negative, rounded and NaN, and NULL, round trip into the
// audit JSON exactly as PostgreSQL stored them (scale included); out-of-range values are refused and write
// nothing.
func TestBadInputNumbers(t *testing.T) {
	g := clinictest.New(t, clinictest.PoolSize(4))
	cases := []struct{ in, want string }{ // want: the JSON text as stored; NaN, which JSON lacks, is a string
		{"9999999999.99", "9999999999.99"},
		{"-9999999999.99", "-9999999999.99"},
		{"0", "0.00"},
		{"-0", "0.00"},
		{"-0.01", "-0.01"},
		{"12.3", "12.30"},
		{"1.005", "1.01"}, // numeric rounds half away from zero
		{"-1.005", "-1.01"},
		{"123456789.12", "123456789.12"},
		{"NaN", `"NaN"`},
	}
	var prev *db.Billing
	for _, c := range cases {
		b, err := g.R.Billing.Create(g.Ctx, db.CreateBillingParams{PatientID: g.Patient1, Amount: mustNumeric(t, c.in), Status: "pending", Description: c.in})
		if err != nil {
			t.Errorf("Create amount %s: %v", c.in, err)
			continue
		}
		trail := g.CheckChain(t, "billings", b.ID, nil, true)
		if got := jsonText(trail[0].Image()["amount"]); got != c.want {
			t.Errorf("amount %s: audit JSON %s, want %s", c.in, got, c.want)
		}
		if prev != nil { // move the previous billing to this amount: before and after both exact
			if _, err := g.R.Billing.Update(g.Ctx, db.UpdateBillingParams{ID: prev.ID, PatientID: g.Patient1, Amount: b.Amount, Status: "paid", Description: prev.Description}); err != nil {
				t.Errorf("Update to %s: %v", c.in, err)
				continue
			}
			trail := g.CheckChain(t, "billings", prev.ID, nil, true)
			if got := jsonText(trail[len(trail)-1].Image()["amount"]); got != c.want {
				t.Errorf("update to %s: audit JSON %s, want %s", c.in, got, c.want)
			}
		}
		prev = &b
	}

	// Out of range for numeric(12,2): refused, nothing written, and not reported as an audit failure.
	for _, in := range []string{"10000000000", "-10000000000.00", "99999999999.995", "Infinity", "-Infinity"} {
		rows, audits := clinictest.RowCount(t, g.App, "billings"), clinictest.Count(t, g.Reviewer, "true")
		_, err := g.R.Billing.Create(g.Ctx, db.CreateBillingParams{PatientID: g.Patient1, Amount: mustNumeric(t, in), Status: "pending"})
		if code := pgtest.SQLState(err); code != "22003" { // numeric_value_out_of_range: "numeric field overflow"
			t.Errorf("Create amount %s: %v (SQLSTATE %q), want SQLSTATE 22003", in, err, code)
		} else if errors.Is(err, audit.ErrAuditWrite) {
			t.Errorf("Create amount %s: %v is reported as an audit failure", in, err)
		}
		if clinictest.RowCount(t, g.App, "billings") != rows || clinictest.Count(t, g.Reviewer, "true") != audits {
			t.Errorf("Create amount %s wrote rows", in)
		}
		if prev != nil {
			_, err := g.R.Billing.Update(g.Ctx, db.UpdateBillingParams{ID: prev.ID, PatientID: g.Patient1, Amount: mustNumeric(t, in), Status: "void"})
			if code := pgtest.SQLState(err); code != "22003" || errors.Is(err, audit.ErrAuditWrite) || clinictest.Count(t, g.Reviewer, "true") != audits {
				t.Errorf("Update amount %s: err %v (SQLSTATE %q, want 22003, no audit failure), audit rows %d -> %d", in, err, code, audits, clinictest.Count(t, g.Reviewer, "true"))
			}
		}
	}

	// A nullable numeric: NULL is a JSON null (the key is present), and changes to and from it are recorded.
	plan, err := g.R.TreatmentPlan.Create(g.Ctx, db.CreateTreatmentPlanParams{PatientID: g.Patient1, DentistID: g.Dentist, Title: "crown", Status: "proposed"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cost := range []string{"-9999999999.99", "", "9999999999.99", ""} {
		n := pgtype.Numeric{}
		if cost != "" {
			n = mustNumeric(t, cost)
		}
		if _, err := g.R.TreatmentPlan.Update(g.Ctx, db.UpdateTreatmentPlanParams{ID: plan.ID, PatientID: g.Patient1, DentistID: g.Dentist, Title: "crown", Status: "proposed", EstimatedCost: n}); err != nil {
			t.Fatal(err)
		}
	}
	trail := g.CheckChain(t, "treatment_plans", plan.ID, nil, true)
	wantCosts := []string{"null", "-9999999999.99", "null", "9999999999.99", "null"}
	for i, r := range trail {
		v, present := r.Image()["estimated_cost"]
		if got := jsonText(v); !present || i >= len(wantCosts) || got != wantCosts[i] {
			t.Errorf("audit row %d: estimated_cost %s (present %v), want %s", r.ID, got, present, wantCosts[min(i, len(wantCosts)-1)])
		}
	}
}

// jsonText renders a decoded JSON value as JSON text (json.Number keeps its digits).
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// TestBadInputNullsBoolsAndTimes: a nullable boolean (NULL, true, false), timestamps at the edges (infinity,
// year 1, year 9999, microseconds) and NULL, round trip exactly; the redacted insurance_policy never appears.
func TestBadInputNullsBoolsAndTimes(t *testing.T) {
	g := clinictest.New(t, clinictest.PoolSize(4))
	ts := func(tm time.Time) pgtype.Timestamptz { return pgtype.Timestamptz{Time: tm, Valid: true} }
	steps := []struct {
		pregnant pgtype.Bool
		smoker   bool
		signed   pgtype.Timestamptz
	}{
		{pgtype.Bool{}, false, pgtype.Timestamptz{}},
		{pgtype.Bool{Bool: true, Valid: true}, true, pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}},
		{pgtype.Bool{Bool: false, Valid: true}, false, pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}},
		{pgtype.Bool{}, true, ts(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))},
		{pgtype.Bool{Bool: true, Valid: true}, true, ts(time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC))},
		{pgtype.Bool{}, false, ts(time.Date(2026, 2, 28, 13, 14, 15, 123456000, time.FixedZone("x", -(9*3600+30*60))))},
		{pgtype.Bool{Bool: false, Valid: true}, true, pgtype.Timestamptz{}},
	}
	secret := "POLICY-7f3a9c"
	form, err := g.R.PatientIntakeForm.Create(g.Ctx, db.CreatePatientIntakeFormParams{
		PatientID: g.Patient1, Allergies: "penicillin", InsurancePolicy: secret + "-0",
		Pregnant: steps[0].pregnant, Smoker: steps[0].smoker, SignedAt: steps[0].signed,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps[1:] {
		got, err := g.R.PatientIntakeForm.Update(g.Ctx, db.UpdatePatientIntakeFormParams{
			ID: form.ID, Allergies: "penicillin", InsurancePolicy: fmt.Sprintf("%s-%d", secret, i+1),
			Pregnant: s.pregnant, Smoker: s.smoker, SignedAt: s.signed,
		})
		if err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
		if got.Pregnant != s.pregnant || got.SignedAt.InfinityModifier != s.signed.InfinityModifier ||
			got.SignedAt.Valid != s.signed.Valid || !got.SignedAt.Time.Equal(s.signed.Time) {
			t.Errorf("step %d: returned pregnant %+v signed_at %+v", i+1, got.Pregnant, got.SignedAt)
		}
	}
	trail := g.CheckChain(t, "patient_intake_forms", form.ID, []string{"insurance_policy"}, true)
	if len(trail) != len(steps) {
		t.Fatalf("%d audit rows, want %d", len(trail), len(steps))
	}
	for i, r := range trail {
		img, s := r.Image(), steps[i]
		var wantPregnant any
		if s.pregnant.Valid {
			wantPregnant = s.pregnant.Bool
		}
		if v, ok := img["pregnant"]; !ok || v != wantPregnant {
			t.Errorf("audit row %d: pregnant = %#v (present %v), want %#v", r.ID, v, ok, wantPregnant)
		}
		if img["smoker"] != s.smoker {
			t.Errorf("audit row %d: smoker = %#v, want %v", r.ID, img["smoker"], s.smoker)
		}
		if msg := timestampMismatch(img["signed_at"], s.signed); msg != "" {
			t.Errorf("audit row %d: signed_at %s", r.ID, msg)
		}
		if img["insurance_policy"] != "[REDACTED]" {
			t.Errorf("audit row %d: insurance_policy = %#v, want [REDACTED]", r.ID, img["insurance_policy"])
		}
		if strings.Contains(string(string(r.Changes)), secret) || anyLeafContains(r.Ch, secret) {
			t.Errorf("audit row %d: the redacted policy number appears: %s", r.ID, string(r.Changes))
		}
		if i > 0 && !hasString(stringsOrNil(r.Ch["changed_fields"]), "insurance_policy") {
			t.Errorf("audit row %d: changed_fields %v lacks the redacted insurance_policy", r.ID, r.Ch["changed_fields"])
		}
	}
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// timestampMismatch compares a JSON timestamptz with what was written ("" when equal).
func timestampMismatch(v any, want pgtype.Timestamptz) string {
	switch {
	case !want.Valid:
		if v != nil {
			return fmt.Sprintf("= %#v, want null", v)
		}
		return ""
	case want.InfinityModifier == pgtype.Infinity:
		if v != "infinity" {
			return fmt.Sprintf("= %#v, want \"infinity\"", v)
		}
		return ""
	case want.InfinityModifier == pgtype.NegativeInfinity:
		if v != "-infinity" {
			return fmt.Sprintf("= %#v, want \"-infinity\"", v)
		}
		return ""
	}
	s, _ := v.(string)
	got, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !got.Equal(want.Time) {
		return fmt.Sprintf("= %#v, want the instant %s", v, want.Time.Format(time.RFC3339Nano))
	}
	return ""
}

// anyLeafContains reports whether any key or string value in v contains s.
func anyLeafContains(v any, s string) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, s)
	case json.Number:
		return strings.Contains(v.String(), s)
	case []any:
		for _, x := range v {
			if anyLeafContains(x, s) {
				return true
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.Contains(k, s) || anyLeafContains(x, s) {
				return true
			}
		}
	}
	return false
}

// TestBadInputUnstorableText: text PostgreSQL cannot store (NUL, invalid UTF-8) makes every write return an
// error, never panic, and write nothing: no row, no audit row, no change to the existing row. The connection
// stays usable.
func TestBadInputUnstorableText(t *testing.T) {
	g := clinictest.New(t, clinictest.PoolSize(2))
	rec, err := g.R.DentalRecord.Create(g.Ctx, db.CreateDentalRecordParams{PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: "ok", Notes: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	user, err := g.R.User.Create(g.Ctx, db.CreateUserParams{Username: "u-ok", Email: "e", Password: "p", UserType: "patient"})
	if err != nil {
		t.Fatal(err)
	}
	before := clinictest.Snapshot(t, g.Super, "dental_records", "users", migrations.Audit.Schema+"."+migrations.Audit.Table)
	for _, bad := range []string{"a\x00b", "\x00", "\xff\xfe", "ok\xc3\x28", "tooth \xf0\x9f\xa6", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong"} {
		writes := map[string]func() error{
			"dental create": func() error {
				_, err := g.R.DentalRecord.Create(g.Ctx, db.CreateDentalRecordParams{PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: "d", Notes: bad})
				return err
			},
			"dental update": func() error {
				_, err := g.R.DentalRecord.Update(g.Ctx, db.UpdateDentalRecordParams{ID: rec.ID, PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: bad, Notes: "changed"})
				return err
			},
			"user create, bad excluded password": func() error {
				_, err := g.R.User.Create(g.Ctx, db.CreateUserParams{Username: "u-bad", Email: "e", Password: bad, UserType: "patient"})
				return err
			},
			"user update": func() error {
				_, err := g.R.User.Update(g.Ctx, db.UpdateUserParams{ID: user.ID, Email: "new", UserType: "patient", FirstName: bad})
				return err
			},
			"user password": func() error {
				_, err := g.R.User.UpdatePassword(g.Ctx, db.UpdateUserPasswordParams{ID: user.ID, Password: bad})
				return err
			},
			"dental create many": func() error {
				_, err := g.R.DentalRecord.CreateMany(g.Ctx, []db.CreateDentalRecordParams{
					{PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: "fine"},
					{PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: bad},
				})
				return err
			},
		}
		for name, write := range writes {
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s with %q panicked: %v", name, bad, p)
					}
				}()
				err = write()
			}()
			switch e := asPgError(err); {
			case err == nil:
				t.Errorf("%s with %q: no error", name, bad)
			case errors.Is(err, audit.ErrAuditWrite):
				t.Errorf("%s with %q: %v is reported as an audit failure", name, bad, err)
			case e == nil || e.Code != "22021": // character_not_in_repertoire: refused for the value itself
				t.Errorf("%s with %q: %v, want PostgreSQL's invalid byte sequence error", name, bad, err)
			}
		}
		if !clinictest.Unchanged(t, g.Super, before) {
			t.Fatalf("writes with %q changed the database", bad)
		}
	}
	if _, err := g.R.DentalRecord.Update(g.Ctx, db.UpdateDentalRecordParams{ID: rec.ID, PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: "ok", Notes: "after"}); err != nil {
		t.Errorf("a valid write after the refused ones: %v", err)
	}
}

// expectCleaned is the specification of what may be stored from a client-supplied header: invalid UTF-8, C0
// and C1 controls, U+2028/U+2029 and the invisible characters (format characters: zero-width, directional
// marks, bidi embedding, override and isolate characters; the other default-ignorable code points) dropped, then
// cut to max bytes on a rune boundary. Written independently of audit.CleanText.
func expectCleaned(s string, max int) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		if (r == utf8.RuneError && n == 1) || unicode.IsControl(r) || r == 0x2028 || r == 0x2029 ||
			unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
			unicode.Is(unicode.Variation_Selector, r) {
			continue
		}
		if b.Len()+n > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestBadInputRequestMetadata sends requests through audithttp.Middleware to a handler that makes an audited
// write, and checks what the audit row records: a spoofed X-Forwarded-For from an untrusted peer never becomes
// the IP; user agents and request ids are cleaned and truncated; the user comes only from authentication.
func TestBadInputRequestMetadata(t *testing.T) {
	g := clinictest.New(t, clinictest.PoolSize(2))
	rec, err := g.R.DentalRecord.Create(g.Ctx, db.CreateDentalRecordParams{PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: "d"})
	if err != nil {
		t.Fatal(err)
	}
	// Strict repositories refuse anonymous actors; anonymous requests are recorded through a lenient one.
	lenient := repo.New(g.App, audit.AllowAnonymous())
	n := 0
	handler := audithttp.Middleware(audithttp.Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")},
		Authenticate: func(r *http.Request) (int64, bool) {
			return g.Dentist, r.Header.Get("Authorization") == "Bearer good"
		},
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		p := db.UpdateDentalRecordParams{ID: rec.ID, PatientID: g.Patient1, DentistID: g.Dentist, Diagnosis: "d", Notes: fmt.Sprint("request ", n)}
		_, err := g.R.DentalRecord.Update(r.Context(), p)
		if a, _ := audit.ActorFrom(r.Context()); a.Kind == audit.KindUnknown {
			if !errors.Is(err, audit.ErrNoActor) {
				http.Error(w, fmt.Sprintf("strict repository with an anonymous actor: %v, want ErrNoActor", err), http.StatusInternalServerError)
				return
			}
			_, err = lenient.DentalRecord.Update(r.Context(), p)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))

	type request struct {
		name    string
		remote  string
		headers http.Header
		wantIP  string // "" means NULL
	}
	longUA := strings.Repeat("Mozilla/5.0 (X11; Linux x86_64) ", 400) // ~13 KB
	multibyteUA := strings.Repeat("é", 300) + "🦷"                     // 600+ bytes of 2-byte runes
	hostileUA := "curl/8\r\nX-Injected: 1\x00\x1b[31mred\x1b[0m\u202Egnp.exe\u200b\u200f\u061c\u2028\u0085\xff\xfe\tend"
	requests := []request{
		{"untrusted peer, spoofed XFF", "203.0.113.7:5555", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.7"},
		{"untrusted peer, XFF claims a trusted proxy", "203.0.113.7:5555", http.Header{"X-Forwarded-For": {"198.51.100.1, 10.0.0.2"}}, "203.0.113.7"},
		{"untrusted peer, several XFF lines", "203.0.113.7:5555", http.Header{"X-Forwarded-For": {"1.1.1.1", "10.0.0.9", "8.8.8.8"}}, "203.0.113.7"},
		{"untrusted IPv6 peer, spoofed XFF", "[2001:db8::7]:443", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "2001:db8::7"},
		{"untrusted mapped peer", "[::ffff:203.0.113.8]:443", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.8"},
		{"untrusted peer, X-Real-IP ignored", "203.0.113.7:5555", http.Header{"X-Real-Ip": {"198.51.100.1"}, "Forwarded": {"for=198.51.100.1"}}, "203.0.113.7"},
		{"trusted proxy, client prepended a fake hop", "10.0.0.1:80", http.Header{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1"}}, "198.51.100.1"},
		{"trusted proxy, garbage hop", "10.0.0.1:80", http.Header{"X-Forwarded-For": {"198.51.100.1, <script>alert(1)</script>"}}, "10.0.0.1"},
		{"trusted proxy, SQL in XFF", "10.0.0.1:80", http.Header{"X-Forwarded-For": {"1.2.3.4'); DROP TABLE audit_log;--"}}, "10.0.0.1"},
		{"trusted IPv6 proxy", "[fd00::1]:80", http.Header{"X-Forwarded-For": {"[2001:db8::9]:1234"}}, "2001:db8::9"},
		{"unparseable peer", "not-an-address", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, ""},
		{"oversized user agent", "203.0.113.7:1", http.Header{"User-Agent": {longUA}}, "203.0.113.7"},
		{"multibyte user agent at the limit", "203.0.113.7:1", http.Header{"User-Agent": {multibyteUA}}, "203.0.113.7"},
		{"4-byte rune across the limit", "203.0.113.7:1", http.Header{"User-Agent": {strings.Repeat("a", audit.MaxUserAgent-2) + "🦷"}}, "203.0.113.7"},
		{"control characters in user agent", "203.0.113.7:1", http.Header{"User-Agent": {hostileUA}}, "203.0.113.7"},
		{"user agent of controls only", "203.0.113.7:1", http.Header{"User-Agent": {"\r\n\x00\x7f\u0085"}}, "203.0.113.7"},
		{"hostile request id from a trusted proxy", "10.0.0.1:1", http.Header{"X-Request-Id": {"id\r\n\u200b" + strings.Repeat("r", 500) + "\x00"}}, "10.0.0.1"},
		{"request id from the client ignored", "203.0.113.7:1", http.Header{"X-Request-Id": {"chosen-by-client"}}, "203.0.113.7"},
		{"spoofed user id header", "203.0.113.7:1", http.Header{"X-User-Id": {"1"}, "Authorization": {"Bearer bad"}}, "203.0.113.7"},
		{"authenticated", "203.0.113.7:1", http.Header{"Authorization": {"Bearer good"}}, "203.0.113.7"},
	}
	for _, rq := range requests {
		t.Run(rq.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/records", nil)
			req.RemoteAddr = rq.remote
			req.Header = rq.headers
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("handler: %d %s", w.Code, w.Body)
			}
			trail := clinictest.Record(t, g.Reviewer, "dental_records", rec.ID)
			r := trail[len(trail)-1]
			if r.Image()["notes"] != fmt.Sprint("request ", n) {
				t.Fatalf("the request's audit row is missing")
			}
			gotIP := ""
			if r.IP != nil {
				gotIP = r.IP.String()
			}
			if gotIP != rq.wantIP {
				t.Errorf("ip = %q, want %q", gotIP, rq.wantIP)
			}
			for _, spoof := range []string{"198.51.100.1", "6.6.6.6", "1.1.1.1", "8.8.8.8"} {
				if gotIP == spoof && rq.wantIP != spoof {
					t.Errorf("the spoofed address %s was recorded", spoof)
				}
			}
			ua := rq.headers.Get("User-Agent")
			checkStoredText(t, "user_agent", r.UserAgent, expectCleaned(ua, audit.MaxUserAgent), audit.MaxUserAgent)
			if id := rq.headers.Get("X-Request-Id"); id != "" && strings.HasPrefix(rq.remote, "10.") {
				checkStoredText(t, "request_id", r.RequestID, expectCleaned(id, audit.MaxRequestID), audit.MaxRequestID)
			} else if r.RequestID == nil || len(*r.RequestID) != 32 || strings.Trim(*r.RequestID, "0123456789abcdef") != "" {
				t.Errorf("request_id = %v, want a generated 32-digit hex id", r.RequestID)
			}
			wantKind := "unknown"
			if rq.headers.Get("Authorization") == "Bearer good" {
				wantKind = "user"
			}
			if r.ActorKind != wantKind {
				t.Errorf("actor_kind = %q, want %q", r.ActorKind, wantKind)
			}
		})
	}
}

// checkStoredText checks a stored header value: exactly the cleaned input (NULL when nothing is left), and in
// any case valid UTF-8 without control or bidi characters within max bytes.
func checkStoredText(t *testing.T, col string, got *string, want string, max int) {
	t.Helper()
	if want == "" {
		if got != nil {
			t.Errorf("%s = %q, want NULL", col, *got)
		}
		return
	}
	if got == nil {
		t.Errorf("%s = NULL, want %q", col, clinictest.Abbrev(want))
		return
	}
	if *got != want {
		t.Errorf("%s = %q, want %q", col, clinictest.Abbrev(*got), clinictest.Abbrev(want))
	}
	if len(*got) > max || !utf8.ValidString(*got) || strings.ContainsFunc(*got, func(r rune) bool {
		return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
	}) {
		t.Errorf("%s = %q: longer than %d bytes, invalid UTF-8 or unsafe characters", col, clinictest.Abbrev(*got), max)
	}
}
