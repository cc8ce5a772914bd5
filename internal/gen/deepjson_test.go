package gen

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/audit/audithttp"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/seal"
)

// TestDeepClientJSONIsReadSealedAndVerified: a remote client (an authenticated patient, through
// audithttp.Middleware and the generated CreateVisit statement, which fills the json column intake from the
// request body as the golden case's query does) sends a JSON document nested 9,999 levels deep (which
// encoding/json itself accepts). PostgreSQL takes it (its limit is max_stack_depth, deeper), the trigger writes
// the audit row, and the write commits. The audit row's changes column is then {"after": {..., "intake": <9,999
// levels>}}: 10,001 levels, past encoding/json's fixed limit of 10,000. Every Go reader of the trail decoded that
// column with it, so (red team, fixed):
//   - audit.Trail (and so `auditrepo trail` / `auditrepo record`) failed on the event, so the reviewers saw none
//     of the patient's or the record's history (in table format not even the events before it, which are
//     buffered);
//   - seal.Seal failed for the whole database ("seal: column changes: exceeded max depth"), so no later row of
//     anyone was ever sealed; verify failed likewise.
//
// A row the database wrote is readable, sealable and verifiable: CanonicalJSON and audit.Trail read any depth.
func TestDeepClientJSONIsReadSealedAndVerified(t *testing.T) {
	t.Parallel()
	_, sqls, super, pool := okCase(t, caseOptions("ok"))
	ctx := t.Context()

	var patient int64
	var skip [4]any
	if err := pool.QueryRow(ctx, sqls["auditedCreatePerson"], "patient", "Eve", "x", goldenActor).Scan(&patient, &skip[0], &skip[1], &skip[2], &skip[3]); err != nil {
		t.Fatal(err)
	}
	// The application's handler: authenticated user, body = the intake form (JSON), created through the claimed
	// statement exactly as the generated VisitRepo.Create runs it.
	h := audithttp.Middleware(audithttp.Config{Authenticate: func(r *http.Request) (int64, bool) {
		return patient, r.Header.Get("Authorization") == "Bearer eve"
	}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		intake := string(body)
		call := audit.NewWriter(pool).Claim(r.Context(), audit.ActionCreate, "visits", sqls["auditedCreateVisit"])
		var id int64
		rows, err := call.Query(r.Context(), "", patient, "checkup", "", nil, &intake)
		if err == nil {
			if rows.Next() {
				var vals []any
				if vals, err = rows.Values(); err == nil {
					id, _ = vals[0].(int64)
				}
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err := call.Err(err); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, strconv.FormatInt(id, 10))
	}))
	// 9,999 levels: valid for encoding/json itself (an application that checks the body with json.Valid or
	// json.Unmarshal accepts it); the audit row's two levels of wrapping take it past 10,000.
	const depth = 9999
	doc := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	if !json.Valid([]byte(doc)) {
		t.Fatal("the document is not valid JSON for encoding/json")
	}
	req := httptest.NewRequest(http.MethodPost, "/visits", strings.NewReader(doc))
	req.RemoteAddr = "203.0.113.50:4000"
	req.Header.Set("Authorization", "Bearer eve")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("the request was refused (%d: %s): then there is no finding", rec.Code, rec.Body)
	}
	visit, err := strconv.ParseInt(rec.Body.String(), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := super.QueryRow(ctx, "SELECT count(*) FROM auditrepo.audit_log WHERE target_table = 'visits' AND target_id = $1", visit).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit rows of the visit: %d, %v; want 1", n, err)
	}

	// The reviewers' reader.
	if evs, err := (audit.Trail{}).ListRecord(ctx, super, "visits", visit); err != nil {
		t.Errorf("audit.Trail cannot read the visit's history: %v", err)
	} else if len(evs) != 1 {
		t.Errorf("audit.Trail: %d events, want 1", len(evs))
	}
	if _, err := (audit.Trail{}).ListPatient(ctx, super, patient, time.Time{}, time.Time{}); err != nil {
		t.Errorf("audit.Trail cannot read the patient's trail: %v", err)
	}

	// Sealing (as the sealing job would, every row of the database).
	key, err := seal.NewKey("deepjson")
	if err != nil {
		t.Fatal(err)
	}
	var xid uint64
	if err := super.QueryRow(ctx, "SELECT max(transaction_id)::text::bigint FROM auditrepo.audit_log").Scan(&xid); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFinal(t, super, xid)
	if _, err := seal.Seal(context.Background(), super, key.Signer, seal.Options{}); err != nil {
		t.Errorf("seal fails for the whole trail: %v", err)
	} else if _, err := seal.Verify(context.Background(), super, []note.Verifier{key.Verifier}, seal.Options{}); err != nil {
		t.Errorf("verify fails: %v", err)
	}
}
