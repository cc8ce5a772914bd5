package audit

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
)

// MiddlewareConfig configures Middleware.
type MiddlewareConfig struct {
	// Authenticate returns the authenticated user's id for r; ok=false means anonymous. A nil Authenticate
	// treats every request as anonymous.
	Authenticate func(r *http.Request) (userID int64, ok bool)
	// TrustedProxies are the proxies whose X-Forwarded-For is believed; see ClientIP.
	TrustedProxies []netip.Prefix
	// RequestIDHeader is read for a correlation id ("X-Request-ID" when empty); cleaned and truncated; when
	// absent a random 16-byte hex id is generated.
	RequestIDHeader string
}

// Middleware stores an Actor in each request's context: KindUser with the user id when Authenticate succeeds,
// otherwise KindUnknown, plus client IP, cleaned user agent and request id.
//
// Authenticate is called with the incoming request, so the application's authentication middleware must run
// before this one. The user id is taken only from Authenticate, never from a request header.
func Middleware(cfg MiddlewareConfig) func(http.Handler) http.Handler {
	header := cfg.RequestIDHeader
	if header == "" {
		header = "X-Request-ID"
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := Actor{
				Kind:      KindUnknown,
				IP:        ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), cfg.TrustedProxies),
				UserAgent: r.UserAgent(), // cleaned by WithActor
				RequestID: CleanText(r.Header.Get(header), MaxRequestID),
			}
			if cfg.Authenticate != nil {
				if id, ok := cfg.Authenticate(r); ok {
					a.Kind, a.UserID = KindUser, id
				}
			}
			if a.RequestID == "" {
				a.RequestID = newRequestID()
			}
			next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), a)))
		})
	}
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails since Go 1.24 (it crashes the program instead)
	return hex.EncodeToString(b[:])
}
