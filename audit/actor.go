// Package audit is the runtime behind generated audited repositories for PostgreSQL.
//
// Each generated write runs sqlc's statement inside a claim of the actor in its context (Writer.Claim); the
// database's audit triggers write the audit rows from the change itself, in the same statement, so the change and
// its audit rows commit or fail together. This package supplies what the database cannot know: who is acting (the
// [Actor] carried in the context), where from (client IP, user agent, request id); it reports failures as [Error]
// and reads the trail back ([Trail]).
//
// The actor must come from the authenticated session, never from a client-supplied header: use
// audithttp.Middleware (package audit/audithttp) after the application's authentication middleware, or
// [WithActor]/[WithSystem] for other entry points.
package audit

import (
	"context"
	"net/netip"
)

// ActorKind says what kind of principal performed a change.
type ActorKind string

const (
	KindUser    ActorKind = "user"
	KindSystem  ActorKind = "system"
	KindUnknown ActorKind = "unknown" // anonymous: no authenticated user (written only with AllowAnonymous)
	// KindUnattributed marks a change the database recorded without a claim for its statement: raw SQL, another
	// program, a claim set by hand. The database writes such rows; a Writer never claims it.
	KindUnattributed ActorKind = "unattributed"
)

// Actor is who made a change and from where; it is written into every audit row.
type Actor struct {
	UserID    int64      // meaningful only when Kind is KindUser
	Kind      ActorKind  // required: a Writer refuses an actor without one (ErrInvalidActor)
	IP        netip.Addr // zero value means unknown
	UserAgent string
	RequestID string
}

// ctxKey is unexported so only WithActor can store an Actor, which guarantees it has been cleaned.
type ctxKey struct{}

// WithActor returns a context carrying a copy of a. UserAgent and RequestID are cleaned with CleanText because
// they usually come from the client and end up in logs and audit rows (CWE-117). IP is normalised (IPv4-mapped
// IPv6 unmapped, zone dropped) so the same client is always recorded the same way.
func WithActor(ctx context.Context, a Actor) context.Context {
	a.IP = a.IP.Unmap().WithZone("")
	a.UserAgent = CleanText(a.UserAgent, MaxUserAgent)
	a.RequestID = CleanText(a.RequestID, MaxRequestID)
	return context.WithValue(ctx, ctxKey{}, a)
}

// WithSystem returns a context whose actor is the named system process (for example "nightly-billing"); the
// name is recorded in the user agent column.
func WithSystem(ctx context.Context, name string) context.Context {
	return WithActor(ctx, Actor{Kind: KindSystem, UserAgent: name})
}

// ActorFrom returns the actor stored in ctx by WithActor, WithSystem or audithttp.Middleware.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(Actor)
	return a, ok
}
