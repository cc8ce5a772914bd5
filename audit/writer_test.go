package audit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/internal/testdb"
)

// counter counts the statements a connection sends.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// conn opens one connection as the application role to a fresh migrated database, counting what it sends.
func conn(t *testing.T) (*pgx.Conn, *counter) {
	t.Helper()
	cfg := testdb.Pool(t).Config().ConnConfig.Copy()
	c := &counter{}
	cfg.Tracer = c
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, c
}

// superConn is conn as the superuser, on a fresh migrated database: for statements that read the claim as the
// trigger functions do, as an auditrepo.claimed row, a type of the audit schema, which the application role may not
// look up.
func superConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.ConnectConfig(t.Context(), testdb.New(t).Super.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func userCtx() context.Context {
	return audit.WithActor(context.Background(), audit.Actor{
		UserID: 42, Kind: audit.KindUser, IP: netip.MustParseAddr("198.51.100.1"), UserAgent: "app/1", RequestID: "r-1",
	})
}

// claimParams types the claim's one parameter, the actor, after one of the statement's own, for statements that
// ignore it.
const claimParams = " AND num_nonnulls($2::text) >= 0"

// echo returns the statement's own argument and the claim's actor, as the server received them, then the actor's
// fields as the trigger functions read them: claim()'s value (this statement's prefix, the method, the actor)
// parsed as an auditrepo.claimed row (run it as the superuser: superConn).
const echo = `SELECT $1::text, $2::text, (c).kind::text, (c).actor_id, host((c).ip), (c).user_agent, (c).request_id
	FROM (SELECT (auditrepo_claim.claim_prefix('t') || auditrepo_claim.claim_field('m') || ',' || $2::text)::auditrepo.claimed AS c) x`

func TestClaimRefusesBeforeSending(t *testing.T) {
	db, sent := conn(t)
	tests := []struct {
		name string
		ctx  context.Context
		opts []audit.Option
		want error
		msg  string
	}{
		{"no actor", context.Background(), nil, audit.ErrNoActor, "audit: UPDATE appointments: no actor in context"},
		{"anonymous, strict", audit.WithActor(context.Background(), audit.Actor{Kind: audit.KindUnknown}), nil, audit.ErrNoActor, ""},
		{"no kind", audit.WithActor(context.Background(), audit.Actor{UserID: 7}), []audit.Option{audit.AllowAnonymous()}, audit.ErrInvalidActor,
			"audit: UPDATE appointments: invalid actor: the actor has no Kind: set audit.KindUser for a user (with UserID), or use audit.WithSystem"},
		{"unattributed is the database's", audit.WithActor(context.Background(), audit.Actor{Kind: audit.KindUnattributed}), nil, audit.ErrInvalidActor, ""},
		// A user without an id would be claimed as user 0: the zero value, most likely a missing assignment.
		{"user without id", audit.WithActor(context.Background(), audit.Actor{Kind: audit.KindUser}), nil, audit.ErrInvalidActor,
			"audit: UPDATE appointments: invalid actor: a user actor needs its UserID (0 is the zero value: none set)"},
		{"a typo", audit.WithActor(context.Background(), audit.Actor{Kind: "User", UserID: 7}), nil, audit.ErrInvalidActor,
			`audit: UPDATE appointments: invalid actor: kind "User" (want audit.KindUser, audit.KindSystem or audit.KindUnknown)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := audit.NewWriter(db, tt.opts...).Claim(tt.ctx, audit.ActionUpdate, "appointments", echo)
			var s string
			err := c.Err(c.QueryRow(tt.ctx, "", "own").Scan(&s))
			if !errors.Is(err, tt.want) || (tt.msg != "" && err.Error() != tt.msg) {
				t.Errorf("err = %v, want %v %q", err, tt.want, tt.msg)
			}
			if _, err := c.Exec(tt.ctx, ""); !errors.Is(err, tt.want) {
				t.Errorf("Exec err = %v, want %v", err, tt.want)
			}
			if _, err := c.Query(tt.ctx, ""); !errors.Is(err, tt.want) {
				t.Errorf("Query err = %v, want %v", err, tt.want)
			}
		})
	}
	if n := sent.n.Load(); n != 0 {
		t.Errorf("%d statements sent for refused actors", n)
	}
}

// The server receives the claimed SQL, not sqlc's, with the statement's own arguments, then the claim's actor:
// one text, the fields of an auditrepo.claimed row after its method, that PostgreSQL reads back as the actor's
// kind, user id, address (an inet), user agent and request id, with absent values as empty fields (NULL).
func TestClaimArguments(t *testing.T) {
	db := superConn(t)
	tests := []struct {
		name  string
		ctx   context.Context
		opts  []audit.Option
		actor string // the claim's argument
		want  string // the statement's own argument and the actor's fields, as the server parses them
	}{
		{"user", userCtx(), nil, `user,42,198.51.100.1,"app/1","r-1")`, "own user 42 198.51.100.1 app/1 r-1"},
		{"system", audit.WithSystem(context.Background(), "nightly-billing"), nil, `system,,,"nightly-billing",)`,
			"own system NULL NULL nightly-billing NULL"},
		{"anonymous, allowed", audit.WithActor(context.Background(), audit.Actor{Kind: audit.KindUnknown, UserID: 5}),
			[]audit.Option{audit.AllowAnonymous()}, "unknown,,,,)", "own unknown NULL NULL NULL NULL"},
		{"no actor, allowed", context.Background(), []audit.Option{audit.AllowAnonymous()}, "unknown,,,,)", "own unknown NULL NULL NULL NULL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := audit.NewWriter(db, tt.opts...).Claim(tt.ctx, audit.ActionUpdate, "t", echo)
			var own, actor, kind string
			var id *int64
			var ip, ua, req *string
			if err := c.QueryRow(tt.ctx, "SELECT 'sqlc''s statement is not sent'", "own").Scan(&own, &actor, &kind, &id, &ip, &ua, &req); err != nil {
				t.Fatal(err)
			}
			if actor != tt.actor {
				t.Errorf("the server got the actor %s, want %s", actor, tt.actor)
			}
			if got := fmt.Sprintf("%s %s %s %s %s %s", own, kind, orNull(id), orNull(ip), orNull(ua), orNull(req)); got != tt.want {
				t.Errorf("the server got %s, want %s", got, tt.want)
			}
		})
	}
}

func orNull[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

// A claim covers one statement: sqlc's methods run exactly one, and a second is refused rather than sent with the
// first one's claim.
func TestClaimRunsOneStatement(t *testing.T) {
	db, sent := conn(t)
	c := audit.NewWriter(db).Claim(userCtx(), audit.ActionCreate, "t", "SELECT 1 WHERE $1::text IS NOT NULL"+claimParams)
	if _, err := c.Exec(t.Context(), "", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(t.Context(), "", "a"); err == nil {
		t.Error("a second statement through one claim was accepted")
	}
	if n := sent.n.Load(); n != 1 {
		t.Errorf("%d statements sent, want 1", n)
	}
}

// sqlcCopyDBTX is sqlc's DBTX in a package with a :copyfrom query, which generated methods hand a Call to.
type sqlcCopyDBTX interface {
	audit.DBTX
	CopyFrom(ctx context.Context, tableName pgx.Identifier, columnNames []string, rowSrc pgx.CopyFromSource) (int64, error)
}

// A claim cannot ride on a COPY: a Call refuses one, and the rows stay where they are.
func TestClaimRefusesCopy(t *testing.T) {
	db, _ := conn(t)
	var call sqlcCopyDBTX = audit.NewWriter(db).Claim(userCtx(), audit.ActionCreate, "appointments", "SELECT 1")
	n, err := call.CopyFrom(t.Context(), pgx.Identifier{"appointments"}, []string{"status"}, pgx.CopyFromRows([][]any{{"new"}}))
	if n != 0 || !errors.Is(err, audit.ErrCopy) || err.Error() != "audit: CREATE appointments: COPY cannot carry a claim" {
		t.Errorf("CopyFrom = %d, %v; want 0 and ErrCopy", n, err)
	}
}

// Changed reports a statement that changed nothing as ErrNotFound, as a method returning the row would.
func TestClaimChanged(t *testing.T) {
	db, _ := conn(t)
	for _, tt := range []struct {
		sql  string
		want error
	}{
		{"SELECT 1 FROM generate_series(1, 2) WHERE $1::text IS NOT NULL" + claimParams, nil},
		{"SELECT 1 WHERE $1::text IS NULL" + claimParams, audit.ErrNotFound},
	} {
		c := audit.NewWriter(db).Claim(userCtx(), audit.ActionDelete, "t", tt.sql)
		_, err := c.Exec(t.Context(), "", "a")
		if err = c.Changed(err); !errors.Is(err, tt.want) || (tt.want != nil && !errors.Is(err, pgx.ErrNoRows)) {
			t.Errorf("%s: Changed = %v, want %v (and pgx.ErrNoRows)", tt.sql, err, tt.want)
		}
	}
}

// A failure inside the audit triggers, from a real server, is ErrAuditWrite and leaves nothing changed; an
// ordinary constraint error on the PHI table is not.
func TestClaimAuditWriteFailure(t *testing.T) {
	d := testdb.New(t)
	ctx := audit.WithSystem(t.Context(), "test")
	insert := `WITH ar_write AS (INSERT INTO users (username, email, password, user_type) VALUES ($1, 'e', 'p', 'patient') RETURNING id)
		SELECT ar_write.id FROM ar_write WHERE (SELECT auditrepo_claim.claim_public_users($2, 'test'))`
	run := func(name string) error {
		c := audit.NewWriter(d.App).Claim(ctx, audit.ActionCreate, "users", insert)
		var id int64
		return c.Err(c.QueryRow(ctx, "", name).Scan(&id))
	}
	if err := run("first"); err != nil {
		t.Fatal(err)
	}
	if err := run("first"); errors.Is(err, audit.ErrAuditWrite) || err == nil {
		t.Errorf("duplicate username: err = %v, want an error that is not ErrAuditWrite", err)
	}
	if _, err := d.Super.Exec(t.Context(), "ALTER TABLE auditrepo.audit_log ADD CONSTRAINT fail CHECK (false) NOT VALID"); err != nil {
		t.Fatal(err)
	}
	if err := run("second"); !errors.Is(err, audit.ErrAuditWrite) {
		t.Errorf("audit row refused: err = %v, want ErrAuditWrite", err)
	}
	var n int
	if err := d.App.QueryRow(t.Context(), "SELECT count(*) FROM users WHERE username = 'second'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the user whose audit row failed exists (%d rows, %v)", n, err)
	}
}
