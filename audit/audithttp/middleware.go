// Package audithttp puts the actor of each HTTP request into its context for the audited repositories: the
// authenticated user (never a client-supplied header), the client IP (X-Forwarded-For believed only from trusted
// proxies), the cleaned user agent and a request id.
package audithttp

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"

	"github.com/auditrepo/auditrepo/audit"
)

// Config configures Middleware.
type Config struct {
	// Authenticate returns the authenticated user's id for r; ok=false means anonymous. A nil Authenticate
	// treats every request as anonymous.
	Authenticate func(r *http.Request) (userID int64, ok bool)
	// TrustedProxies are the proxies run by the application's operator: their X-Forwarded-For is believed (see
	// ClientIP), and so is their request id header.
	TrustedProxies []netip.Prefix
	// RequestIDHeader is the correlation id header a trusted proxy sets ("X-Request-ID" when empty). It is read
	// only when the request's TCP peer is in TrustedProxies, then its last value (a proxy that adds the header
	// puts its own after the client's) cleaned and truncated; otherwise, or when it is absent or empty after
	// cleaning, the middleware generates a random 16-byte hex id. The trusted proxy must set or add the header:
	// one that passes the client's on untouched lets the client choose it.
	RequestIDHeader string
}

// Middleware stores an audit.Actor in each request's context: audit.KindUser with the user id when
// Authenticate succeeds, otherwise audit.KindUnknown, plus client IP, cleaned user agent and request id.
//
// Authenticate is called with the incoming request, so the application's authentication middleware must run
// before this one. The user id is taken only from Authenticate, never from a request header; the request id
// is taken from a header only if a trusted proxy sent the request, so a client cannot choose the id its
// changes are filed under.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	header := cfg.RequestIDHeader
	if header == "" {
		header = "X-Request-ID"
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := audit.Actor{
				Kind:      audit.KindUnknown,
				IP:        ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), cfg.TrustedProxies),
				UserAgent: r.UserAgent(), // cleaned by WithActor
			}
			if peer, ok := parseAddr(r.RemoteAddr); ok && isTrusted(peer, cfg.TrustedProxies) {
				// The last value: a proxy that adds its header rather than replacing the client's puts its own last.
				if vs := r.Header.Values(header); len(vs) > 0 {
					a.RequestID = audit.CleanText(vs[len(vs)-1], audit.MaxRequestID)
				}
			}
			if cfg.Authenticate != nil {
				if id, ok := cfg.Authenticate(r); ok {
					a.Kind, a.UserID = audit.KindUser, id
				}
			}
			if a.RequestID == "" {
				a.RequestID = newRequestID()
			}
			next.ServeHTTP(w, r.WithContext(audit.WithActor(r.Context(), a)))
		})
	}
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails since Go 1.24 (it crashes the program instead)
	return hex.EncodeToString(b[:])
}
