package integration_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/audit/audithttp"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// createHandler is an application handler behind audithttp.Middleware: it creates a record of kit k with the
// request's context and answers with its id.
func createHandler(f *clinictest.Clinic, k kit, trusted []netip.Prefix, repos *repo.Repos) http.Handler {
	tokens := map[string]int64{"Bearer tok-dentist": f.Dentist, "Bearer tok-patient": f.Patient1}
	mw := audithttp.Middleware(audithttp.Config{
		Authenticate: func(r *http.Request) (int64, bool) {
			id, ok := tokens[r.Header.Get("Authorization")]
			return id, ok
		},
		TrustedProxies: trusted,
	})
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := k.create(r.Context(), f, repos)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, c.id)
	}))
}

// Scenario 6: actor, client IP, user agent and request id reach the audit row through the HTTP middleware,
// and nothing leaks from one request to the next (the seed's "thread-local storage is cleaned up").
func TestHTTPMiddlewareCapturesActor(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	ip := netip.MustParseAddr
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			h := createHandler(f, k, trusted, f.R)
			tests := []struct {
				name    string
				remote  string
				headers map[string]string
				want    audit.Actor // RequestID "" means a generated one
			}{
				{"authenticated, spoofed X-Forwarded-For and X-Request-ID from untrusted peer ignored", "203.0.113.7:5555",
					map[string]string{"Authorization": "Bearer tok-dentist", "X-Forwarded-For": "198.51.100.1",
						"User-Agent": "TestClient/1.0", "X-Request-ID": "req-abc"},
					audit.Actor{Kind: audit.KindUser, UserID: f.Dentist, IP: ip("203.0.113.7"), UserAgent: "TestClient/1.0"}},
				{"X-Forwarded-For from trusted proxy honoured", "10.0.0.1:80",
					map[string]string{"Authorization": "Bearer tok-patient", "X-Forwarded-For": "6.6.6.6, 198.51.100.23, 10.0.0.2",
						"User-Agent": "app/2", "X-Request-ID": "req-def"},
					audit.Actor{Kind: audit.KindUser, UserID: f.Patient1, IP: ip("198.51.100.23"), UserAgent: "app/2", RequestID: "req-def"}},
				{"IPv6 through trusted proxy", "[2001:db8:ffff::1]:443",
					map[string]string{"Authorization": "Bearer tok-dentist", "X-Forwarded-For": "[2001:db8:1::5]:1234",
						"User-Agent": "app/3", "X-Request-ID": "req-v6"},
					audit.Actor{Kind: audit.KindUser, UserID: f.Dentist, IP: ip("2001:db8:1::5"), UserAgent: "app/3", RequestID: "req-v6"}},
				{"control and invisible characters in user agent and request id cleaned", "10.0.0.1:80",
					map[string]string{"Authorization": "Bearer tok-dentist", "X-Forwarded-For": "203.0.113.8",
						"User-Agent": "Evil\r\nX-Injected: 1\x00\t\u202eAg\u200bent\u200f\u061c\u2028\x85", "X-Request-ID": "req\r\n-\u200b7"},
					audit.Actor{Kind: audit.KindUser, UserID: f.Dentist, IP: ip("203.0.113.8"), UserAgent: "EvilX-Injected: 1Agent", RequestID: "req-7"}},
			}
			seen := map[string]bool{}
			for _, tt := range tests {
				req := httptest.NewRequest(http.MethodPost, "/records", nil)
				req.RemoteAddr = tt.remote
				req.Header.Del("User-Agent")
				for k, v := range tt.headers {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: status %d: %s", tt.name, rec.Code, rec.Body)
				}
				id, err := strconv.ParseInt(rec.Body.String(), 10, 64)
				mustNil(t, tt.name, err)
				rows := clinictest.Record(t, f.Reviewer, k.table, id)
				if len(rows) != 1 {
					t.Fatalf("%s: %d audit rows, want 1", tt.name, len(rows))
				}
				r, want := rows[0], tt.want
				if want.RequestID == "" {
					b, err := hex.DecodeString(str(r.RequestID))
					if err != nil || len(b) != 16 || seen[str(r.RequestID)] {
						t.Errorf("%s: request_id = %q, want a fresh generated 32-digit hex id", tt.name, str(r.RequestID))
					}
					want.RequestID = str(r.RequestID)
				}
				seen[str(r.RequestID)] = true
				t.Run(tt.name, func(t *testing.T) { checkActor(t, r, want) })
			}

			// An anonymous request (a forged header names nobody) is refused by the strict repositories and
			// recorded as unknown, with its IP and a generated request id, by lax ones.
			anon := func(h http.Handler) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/records", nil)
				req.RemoteAddr = "203.0.113.9:2"
				req.Header.Set("Authorization", "Bearer forged")
				req.Header.Set("X-User-ID", strconv.FormatInt(f.Dentist, 10))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			if rec := anon(h); rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "no actor") {
				t.Errorf("anonymous request to strict repositories: status %d %q, want refusal", rec.Code, rec.Body)
			}
			rec := anon(createHandler(f, k, trusted, repo.New(f.App, audit.AllowAnonymous())))
			id, err := strconv.ParseInt(rec.Body.String(), 10, 64)
			mustNil(t, "anonymous request to lax repositories", err)
			rows := clinictest.Record(t, f.Reviewer, k.table, id)
			if len(rows) != 1 {
				t.Fatalf("anonymous: %d audit rows, want 1", len(rows))
			}
			if b, err := hex.DecodeString(str(rows[0].RequestID)); err != nil || len(b) != 16 {
				t.Errorf("anonymous: request_id = %q, want a generated 32-digit hex id", str(rows[0].RequestID))
			}
			checkActor(t, rows[0], audit.Actor{Kind: audit.KindUnknown, IP: ip("203.0.113.9"), RequestID: str(rows[0].RequestID)})

			// Outside any request there is no actor: the strict repositories refuse.
			_, err = k.create(context.Background(), f, f.R)
			if !errors.Is(err, audit.ErrNoActor) {
				t.Errorf("create outside a request: err = %v, want ErrNoActor", err)
			}
		})
	}
}

// Scenario 6 over a real TCP connection: the peer address is the loopback, trusted or not.
func TestHTTPServerClientIP(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	k := kitByName("DentalRecord")
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		want    func(peer netip.Addr) netip.Addr
	}{
		{"loopback proxy trusted", loopback, func(netip.Addr) netip.Addr { return netip.MustParseAddr("198.51.100.77") }},
		{"no trusted proxies", nil, func(peer netip.Addr) netip.Addr { return peer }},
	} {
		srv := httptest.NewServer(createHandler(f, k, tt.trusted, f.R))
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, nil)
		mustNil(t, "request", err)
		req.Header.Set("Authorization", "Bearer tok-dentist")
		req.Header.Set("X-Forwarded-For", "198.51.100.77")
		req.Header.Set("User-Agent", "real-client/1")
		resp, err := srv.Client().Do(req)
		mustNil(t, "do", err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tt.name, resp.StatusCode, body)
		}
		id, err := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
		mustNil(t, "id", err)
		rows := clinictest.Record(t, f.Reviewer, k.table, id)
		if len(rows) != 1 {
			t.Fatalf("%s: %d audit rows, want 1", tt.name, len(rows))
		}
		peer := netip.MustParseAddrPort(srv.Listener.Addr().String()).Addr()
		t.Run(tt.name, func(t *testing.T) {
			checkActor(t, rows[0], audit.Actor{Kind: audit.KindUser, UserID: f.Dentist, IP: tt.want(peer),
				UserAgent: "real-client/1", RequestID: str(rows[0].RequestID)})
		})
	}
}
