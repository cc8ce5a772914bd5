package audithttp_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/auditrepo/auditrepo/audit/audithttp"
)

var trusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.1/32"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string // "" means the zero Addr
	}{
		{"untrusted peer, no header", "203.0.113.7:5555", nil, "203.0.113.7"},
		{"untrusted peer, spoofed header ignored", "203.0.113.7:5555", []string{"10.0.0.9, 198.51.100.1"}, "203.0.113.7"},
		{"untrusted peer, bare host", "203.0.113.7", nil, "203.0.113.7"},
		{"trusted peer, no header", "10.0.0.1:80", nil, "10.0.0.1"},
		{"trusted peer, one client", "10.0.0.1:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"chain walked right to left", "10.0.0.1:80", []string{"198.51.100.1, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"client-prepended entry ignored", "10.0.0.1:80", []string{"6.6.6.6,198.51.100.1"}, "198.51.100.1"},
		{"all hops trusted: leftmost", "10.0.0.1:80", []string{"10.0.0.5, 127.0.0.1, 10.0.0.2"}, "10.0.0.5"},
		{"garbage stops at last trusted hop", "10.0.0.1:80", []string{"198.51.100.1, bogus, 10.0.0.2"}, "10.0.0.2"},
		{"garbage rightmost: peer", "10.0.0.1:80", []string{"198.51.100.1, unknown"}, "10.0.0.1"},
		{"empty entry is garbage", "10.0.0.1:80", []string{"198.51.100.1,,10.0.0.2"}, "10.0.0.2"},
		{"empty header: peer", "10.0.0.1:80", []string{""}, "10.0.0.1"},
		{"out-of-range port is garbage", "10.0.0.1:80", []string{"198.51.100.1:99999"}, "10.0.0.1"},
		{"multiple header lines concatenated", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.1", "203.0.113.9, 10.0.0.3"}, "203.0.113.9"},
		{"multiple header lines, client in first", "10.0.0.1:80", []string{"198.51.100.1", "10.0.0.3"}, "198.51.100.1"},
		{"IPv4 with port in header", "10.0.0.1:80", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 trusted peer", "[2001:db8:ffff::1]:443", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"IPv6 untrusted peer", "[2001:db8:1::9]:443", []string{"198.51.100.1"}, "2001:db8:1::9"},
		{"IPv6 bracketed with port in header", "10.0.0.1:80", []string{"[2001:db8:1::5]:80"}, "2001:db8:1::5"},
		{"IPv6 bracketed without port in header", "10.0.0.1:80", []string{" [2001:db8:1::5] "}, "2001:db8:1::5"},
		{"IPv6 non-canonical form normalised", "10.0.0.1:80", []string{"2001:DB8:1:0:0:0:0:5"}, "2001:db8:1::5"},
		{"mapped peer matches IPv4 prefix", "[::ffff:10.0.0.1]:80", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"mapped untrusted peer unmapped", "[::ffff:203.0.113.7]:80", nil, "203.0.113.7"},
		{"zone dropped", "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"unparseable remote", "example.com:80", []string{"198.51.100.1"}, ""},
		{"empty remote", "", nil, ""},
		{"unix socket remote", "@", []string{"198.51.100.1"}, ""},
		{"unbalanced bracket remote", "[::1", nil, ""},
		{"unbalanced bracket in header is garbage", "10.0.0.1:80", []string{"[2001:db8:1::5"}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audithttp.ClientIP(tt.remote, tt.xff, trusted)
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("ClientIP(%q, %q) = %v, want %v", tt.remote, tt.xff, got, want)
			}
		})
	}
}

func TestClientIPNoTrustedProxies(t *testing.T) {
	got := audithttp.ClientIP("10.0.0.1:80", []string{"198.51.100.1"}, nil)
	if want := netip.MustParseAddr("10.0.0.1"); got != want {
		t.Errorf("got %v, want %v: without trusted proxies the header must be ignored", got, want)
	}
}

// forms returns every address s could denote as an X-Forwarded-For entry or remote address, normalised;
// it is deliberately written without using the package's parser.
func forms(s string) []netip.Addr {
	s = strings.TrimSpace(s)
	var out []netip.Addr
	cs := []string{s}
	if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
		cs = append(cs, strings.TrimSuffix(inner, "]"))
	}
	for _, c := range cs {
		if a, err := netip.ParseAddr(c); err == nil {
			out = append(out, a.Unmap().WithZone(""))
		}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		out = append(out, ap.Addr().Unmap().WithZone(""))
	}
	return out
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "198.51.100.1, 203.0.113.9, 10.0.0.2")
	f.Add("203.0.113.7:5555", "10.0.0.9")
	f.Add("[::ffff:10.0.0.1]:80", "[2001:db8:1::5]:80,bogus\n::ffff:1.2.3.4")
	f.Add("[fe80::1%eth0]:80", "")
	f.Add("garbage", "1.2.3.4")
	f.Fuzz(func(t *testing.T, remote, header string) {
		xff := strings.Split(header, "\n") // newlines separate header lines
		got := audithttp.ClientIP(remote, xff, trusted)

		peers := forms(remote)
		if len(peers) == 0 {
			if got.IsValid() {
				t.Fatalf("unparseable remote %q gave %v", remote, got)
			}
			return
		}
		peer := peers[0]
		if !got.IsValid() {
			t.Fatalf("valid peer %v gave zero result", peer)
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("result %v not normalised", got)
		}
		if got == peer {
			return
		}
		if !slicesContainsPrefix(trusted, peer) {
			t.Fatalf("untrusted peer %v but result %v", peer, got)
		}
		for _, line := range xff {
			for _, e := range strings.Split(line, ",") {
				for _, a := range forms(e) {
					if a == got {
						return
					}
				}
			}
		}
		t.Fatalf("result %v is neither the peer %v nor in X-Forwarded-For %q", got, peer, header)
	})
}

func slicesContainsPrefix(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
