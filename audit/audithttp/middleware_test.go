package audithttp_test

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/audit/audithttp"
)

// serve runs r through the middleware and returns the actor the handler saw.
func serve(t *testing.T, cfg audithttp.Config, r *http.Request) audit.Actor {
	t.Helper()
	var got audit.Actor
	var ok bool
	audithttp.Middleware(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok = audit.ActorFrom(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), r)
	if !ok {
		t.Fatal("handler saw no actor")
	}
	return got
}

func newRequest(remote string, headers map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/patients/1", nil)
	r.RemoteAddr = remote
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

// authHeader stands in for real session authentication: the user is authenticated only with the secret token.
func authHeader(r *http.Request) (int64, bool) {
	if r.Header.Get("Authorization") == "Bearer good" {
		return 42, true
	}
	return 0, false
}

func TestMiddlewareAuthenticated(t *testing.T) {
	a := serve(t, audithttp.Config{Authenticate: authHeader},
		newRequest("203.0.113.5:1234", map[string]string{"Authorization": "Bearer good", "User-Agent": "app/1.0"}))
	if a.Kind != audit.KindUser || a.UserID != 42 {
		t.Errorf("got kind %q id %d, want user 42", a.Kind, a.UserID)
	}
	if a.IP != netip.MustParseAddr("203.0.113.5") || a.UserAgent != "app/1.0" {
		t.Errorf("got IP %v UA %q", a.IP, a.UserAgent)
	}
}

func TestMiddlewareAnonymous(t *testing.T) {
	for name, cfg := range map[string]audithttp.Config{
		"rejected":         {Authenticate: authHeader},
		"nil Authenticate": {},
	} {
		t.Run(name, func(t *testing.T) {
			// A client-supplied user id header must not make the request attributed.
			a := serve(t, cfg, newRequest("203.0.113.5:1234", map[string]string{"X-User-ID": "1", "Authorization": "Bearer bad"}))
			if a.Kind != audit.KindUnknown || a.UserID != 0 {
				t.Errorf("got kind %q id %d, want unknown 0", a.Kind, a.UserID)
			}
		})
	}
}

func TestMiddlewareClientIP(t *testing.T) {
	cfg := audithttp.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"trusted proxy", "10.0.0.1:80", "198.51.100.1, 10.0.0.2", "198.51.100.1"},
		{"spoofed header from untrusted peer", "203.0.113.5:1234", "198.51.100.1", "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := serve(t, cfg, newRequest(tt.remote, map[string]string{"X-Forwarded-For": tt.xff}))
			if want := netip.MustParseAddr(tt.want); a.IP != want {
				t.Errorf("IP = %v, want %v", a.IP, want)
			}
		})
	}
}

func TestMiddlewareMultipleXFFLines(t *testing.T) {
	r := newRequest("10.0.0.1:80", nil)
	r.Header.Add("X-Forwarded-For", "6.6.6.6, 198.51.100.1")
	r.Header.Add("X-Forwarded-For", "10.0.0.7")
	a := serve(t, audithttp.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, r)
	if want := netip.MustParseAddr("198.51.100.1"); a.IP != want {
		t.Errorf("IP = %v, want %v", a.IP, want)
	}
}

func TestMiddlewareUserAgentCleaned(t *testing.T) {
	a := serve(t, audithttp.Config{}, newRequest("203.0.113.5:1", map[string]string{"User-Agent": "evil\u202E\u0085 agent" + strings.Repeat("x", 1000)}))
	if !strings.HasPrefix(a.UserAgent, "evil agent") || len(a.UserAgent) != audit.MaxUserAgent {
		t.Errorf("UserAgent = %.20q (len %d), want cleaned and truncated to %d", a.UserAgent, len(a.UserAgent), audit.MaxUserAgent)
	}
}

func TestMiddlewareRequestID(t *testing.T) {
	proxies := audithttp.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	isGenerated := func(id string) bool {
		b, err := hex.DecodeString(id)
		return err == nil && len(b) == 16
	}
	t.Run("from a trusted proxy: supplied and cleaned", func(t *testing.T) {
		a := serve(t, proxies, newRequest("10.0.0.1:80", map[string]string{"X-Request-ID": "abc\r\n123" + strings.Repeat("z", 200)}))
		if !strings.HasPrefix(a.RequestID, "abc123z") || len(a.RequestID) != audit.MaxRequestID {
			t.Errorf("RequestID = %q, want cleaned and truncated to %d", a.RequestID, audit.MaxRequestID)
		}
	})
	// A proxy that adds its header rather than replacing the client's sends both: the last is the proxy's.
	t.Run("from a trusted proxy: the last of two", func(t *testing.T) {
		r := newRequest("10.0.0.1:80", nil)
		r.Header.Add("X-Request-ID", "chosen-by-client")
		r.Header.Add("X-Request-ID", "proxy-7")
		if a := serve(t, proxies, r); a.RequestID != "proxy-7" {
			t.Errorf("RequestID = %q, want the proxy's proxy-7", a.RequestID)
		}
	})
	// A proxy listed in IPv4-mapped IPv6 form is trusted when it connects over IPv4 or a dual-stack socket.
	t.Run("from a trusted proxy listed IPv4-mapped", func(t *testing.T) {
		cfg := audithttp.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}
		for _, remote := range []string{"[::ffff:10.0.0.1]:80", "10.0.0.1:80"} {
			a := serve(t, cfg, newRequest(remote, map[string]string{"X-Request-ID": "proxy-8", "X-Forwarded-For": "198.51.100.1"}))
			if a.RequestID != "proxy-8" || a.IP != netip.MustParseAddr("198.51.100.1") {
				t.Errorf("peer %s: RequestID %q, IP %v; want proxy-8 and 198.51.100.1", remote, a.RequestID, a.IP)
			}
		}
	})
	t.Run("from a trusted proxy: custom header", func(t *testing.T) {
		cfg := proxies
		cfg.RequestIDHeader = "X-Correlation-ID"
		a := serve(t, cfg, newRequest("10.0.0.1:80", map[string]string{"X-Correlation-ID": "corr-9", "X-Request-ID": "other"}))
		if a.RequestID != "corr-9" {
			t.Errorf("RequestID = %q, want corr-9", a.RequestID)
		}
	})
	// A client that reaches the application directly (or pretends, in X-Forwarded-For, to be a trusted proxy)
	// cannot choose the request id its changes are filed under.
	for name, tc := range map[string]struct {
		cfg    audithttp.Config
		remote string
		xff    string
	}{
		"no trusted proxies":                  {audithttp.Config{}, "203.0.113.5:1", ""},
		"untrusted peer":                      {proxies, "203.0.113.5:1", ""},
		"untrusted peer naming a trusted hop": {proxies, "203.0.113.5:1", "10.0.0.1"},
		"unparseable peer":                    {proxies, "not-an-address", ""},
	} {
		t.Run("from the client: generated ("+name+")", func(t *testing.T) {
			h := map[string]string{"X-Request-ID": "chosen-by-client", "X-Correlation-ID": "chosen-by-client"}
			if tc.xff != "" {
				h["X-Forwarded-For"] = tc.xff
			}
			a := serve(t, tc.cfg, newRequest(tc.remote, h))
			if !isGenerated(a.RequestID) {
				t.Errorf("RequestID = %q, want generated", a.RequestID)
			}
		})
	}
	t.Run("generated when absent", func(t *testing.T) {
		a1 := serve(t, proxies, newRequest("10.0.0.1:80", nil))
		a2 := serve(t, proxies, newRequest("10.0.0.1:80", nil))
		if !isGenerated(a1.RequestID) || !isGenerated(a2.RequestID) || a1.RequestID == a2.RequestID {
			t.Errorf("RequestIDs %q, %q: want two distinct 32-char hex ids", a1.RequestID, a2.RequestID)
		}
	})
	t.Run("generated when empty after cleaning", func(t *testing.T) {
		a := serve(t, proxies, newRequest("10.0.0.1:80", map[string]string{"X-Request-ID": "\u202E\t\u200b\u061c"}))
		if !isGenerated(a.RequestID) {
			t.Errorf("RequestID = %q, want generated", a.RequestID)
		}
	})
}

// Invisible and bidi marks cannot hide in a user agent: zero-width characters, the directional marks and the
// Arabic letter mark, joiners, the BOM, soft hyphen, variation selectors, tags and the other default-ignorable
// code points are dropped.
func TestMiddlewareUserAgentInvisible(t *testing.T) {
	ua := "Mozilla\u200b/5.0\u200c\u200d\u200e\u200f (\u061cX11\u2060\u2061\u2064\u2066\u2069\u206a\u206f)\ufeff\u00ad\u034f\u115f\u1160\u3164\uffa0\u180e\ufe0f\U000e0041\U000e0001\U000e0100 ok"
	a := serve(t, audithttp.Config{}, newRequest("203.0.113.5:1", map[string]string{"User-Agent": ua}))
	if want := "Mozilla/5.0 (X11) ok"; a.UserAgent != want {
		t.Errorf("UserAgent = %+q, want %q", a.UserAgent, want)
	}
}
