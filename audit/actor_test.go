package audit_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/auditrepo/auditrepo/audit"
)

func TestWithActor(t *testing.T) {
	ctx := audit.WithActor(context.Background(), audit.Actor{
		UserID:    7,
		Kind:      audit.KindUser,
		IP:        netip.MustParseAddr("::ffff:198.51.100.1"),
		UserAgent: "curl\r\n/8",
		RequestID: "req\u202E-1",
	})
	got, ok := audit.ActorFrom(ctx)
	want := audit.Actor{
		UserID:    7,
		Kind:      audit.KindUser,
		IP:        netip.MustParseAddr("198.51.100.1"),
		UserAgent: "curl/8",
		RequestID: "req-1",
	}
	if !ok || got != want {
		t.Errorf("ActorFrom = %+v, %v; want %+v, true", got, ok, want)
	}
}

// WithActor keeps an empty Kind empty (a Writer refuses it, naming audit.KindUser) and drops the IP's zone.
func TestWithActorKeepsKindAndDropsZone(t *testing.T) {
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 7, IP: netip.MustParseAddr("fe80::1%eth0")})
	got, _ := audit.ActorFrom(ctx)
	if got.Kind != "" || got.IP != netip.MustParseAddr("fe80::1") {
		t.Errorf("got %+v, want no kind and IP fe80::1", got)
	}
}

func TestWithSystem(t *testing.T) {
	got, ok := audit.ActorFrom(audit.WithSystem(context.Background(), "nightly-billing\n"))
	want := audit.Actor{Kind: audit.KindSystem, UserAgent: "nightly-billing"}
	if !ok || got != want {
		t.Errorf("ActorFrom = %+v, %v; want %+v, true", got, ok, want)
	}
}

func TestActorFromEmptyContext(t *testing.T) {
	if a, ok := audit.ActorFrom(context.Background()); ok || a != (audit.Actor{}) {
		t.Errorf("ActorFrom(empty) = %+v, %v; want zero, false", a, ok)
	}
}
