package audithttp

import (
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that made a request.
//
// remoteAddr is the TCP peer ("host:port" or a bare host). X-Forwarded-For is attacker-controlled unless it was
// written by a proxy we run, so it is consulted only when the peer is in trusted; then the header values (in
// order, comma-separated) are walked right to left, skipping trusted proxies, and the first untrusted address is
// the client. An entry that is not an IP address stops the walk and the last trusted hop is returned, never the
// garbage; if every hop is trusted the leftmost one is returned. IPv4-mapped IPv6 addresses are unmapped and
// zones dropped. The zero Addr is returned when remoteAddr cannot be parsed.
func ClientIP(remoteAddr string, xff []string, trusted []netip.Prefix) netip.Addr {
	peer, ok := parseAddr(remoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !isTrusted(peer, trusted) {
		return peer
	}
	last := peer
	for i := len(xff) - 1; i >= 0; i-- {
		entries := strings.Split(xff[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, ok := parseAddr(entries[j])
			if !ok {
				return last
			}
			if !isTrusted(a, trusted) {
				return a
			}
			last = a
		}
	}
	return last
}

// parseAddr accepts "addr", "addr:port", "[v6]:port" and "[v6]", normalised so prefix matching and storage
// see one form per address.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		switch {
		case perr == nil:
			a = ap.Addr()
		case len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']':
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil {
				return netip.Addr{}, false
			}
		default:
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}

// isTrusted reports whether a (unmapped, see parseAddr) is in one of the prefixes; a prefix written in
// IPv4-mapped IPv6 form (::ffff:10.0.0.0/104) stands for its IPv4 addresses.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Contains(a) {
			return true
		}
	}
	return false
}
