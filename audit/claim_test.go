package audit

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// FuzzClaimActor checks the runtime's half of the claim's text against PostgreSQL's: whatever the actor's user
// agent and request id hold (they come from the client), the row the trigger functions parse back has exactly
// the actor's fields, so no header can add, shift or end a field (a chosen kind or user id would be a forged
// actor on a true row).
func FuzzClaimActor(f *testing.F) {
	db := pgtest.Audited(f, auditschema.Config{})
	for _, s := range []struct {
		ua, rid string
		user    bool
		ip      string
	}{
		{"Mozilla/5.0 (X11; Linux x86_64)", "0f8fa5b2-7c1e", true, "10.1.2.3"},
		{`a",system,1,,"x`, `\`, true, "2001:db8::1"},
		{`\",user,7,,,)`, `"`, false, ""},
		{"", "", false, "::ffff:10.0.0.1"},
		{") ( , \"\" \\\\ ", " ", true, ""},
		{"ünïcödé 東京 \u200b", "NULL", false, ""},
	} {
		f.Add(s.ua, s.rid, s.user, s.ip)
	}
	f.Fuzz(func(t *testing.T, ua, rid string, user bool, ip string) {
		a := Actor{Kind: KindSystem, UserAgent: ua, RequestID: rid}
		if user {
			a.Kind, a.UserID = KindUser, int64(len(ua))*1_000_003-int64(len(rid))
			if a.UserID == 0 { // refused before anything is sent (TestClaimRefusesBeforeSending)
				a.UserID = -1
			}
		}
		a.IP, _ = netip.ParseAddr(ip)
		ctx := WithActor(context.Background(), a)
		a, _ = ActorFrom(ctx) // cleaned, as the runtime claims it
		text, err := NewWriter(nil).claimActor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ipArg any
		if a.IP.IsValid() {
			ipArg = a.IP.String()
		}
		var id *int64
		if a.Kind == KindUser {
			id = &a.UserID
		}
		opt := func(s string) *string { // the runtime claims an empty text as NULL
			if s == "" {
				return nil
			}
			return &s
		}
		// claim() stores it, the trigger functions' actor() reads it back, in one statement as they do.
		var same bool
		err = db.QueryRow(context.Background(), `WITH cl AS MATERIALIZED (SELECT auditrepo_claim.claim($1, 'appointments', 'm') AS ok)
			SELECT (c).kind::text = $2 AND (c).actor_id IS NOT DISTINCT FROM $3
				AND (c).ip IS NOT DISTINCT FROM $4::inet AND (c).user_agent IS NOT DISTINCT FROM $5
				AND (c).request_id IS NOT DISTINCT FROM $6 AND (c).method = 'm'
			FROM cl, LATERAL (SELECT auditrepo.actor('appointments') AS c) x WHERE cl.ok`,
			text, string(a.Kind), id, ipArg, opt(a.UserAgent), opt(a.RequestID)).Scan(&same)
		if err != nil {
			t.Fatalf("the claim's actor %q does not parse: %v", text, err)
		}
		if !same {
			t.Errorf("the claim's actor %q parses to other fields than %+v", text, a)
		}
	})
}

// The actor kinds the runtime claims are the labels of the audit schema's enum, which is what refuses any other.
func TestClaimKinds(t *testing.T) {
	db := pgtest.Audited(t, auditschema.Config{})
	var labels []string
	if err := db.QueryRow(t.Context(), "SELECT enum_range(NULL::auditrepo.actor_kind)::text[]").Scan(&labels); err != nil {
		t.Fatal(err)
	}
	if want := []string{string(KindUser), string(KindSystem), string(KindUnknown)}; !slices.Equal(labels, want) {
		t.Errorf("auditrepo.actor_kind is %v, the runtime claims %v", labels, want)
	}
}

// A claim binds to its table by the quoted name: a claim for one table is never read as another's, whether one
// name starts the other or the names hold quotes, backslashes or commas.
func TestClaimBoundToTable(t *testing.T) {
	db := pgtest.Audited(t, auditschema.Config{})
	names := []string{"claims", "claim", "claim_lines", `a"b`, `a"`, `a\`, `a\"b`, "a,b", "a", `"a"`}
	for _, made := range names {
		for _, read := range names {
			var kind *string
			err := db.QueryRow(t.Context(), `WITH cl AS MATERIALIZED (SELECT auditrepo_claim.claim('system,,,,)', $1, 'm') AS ok)
				SELECT (auditrepo.actor($2)).kind::text FROM cl WHERE cl.ok`, made, read).Scan(&kind)
			if err != nil {
				t.Fatalf("claim for %q read as %q: %v", made, read, err)
			}
			if got, want := kind != nil, made == read; got != want {
				t.Errorf("a claim for table %q read for table %q: found %v, want %v", made, read, got, want)
			}
		}
	}
}
