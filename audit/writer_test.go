package audit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/internal/testdb"
)

// The Writer's tests run their statements on a fresh migrated database, connected as the application role.
// Each statement names the five actor parameters the Writer appends in a CTE of its own (with the types a
// generated statement's audit insert gives them), after the statement's own parameters.
func actorCTE(own int) string {
	return fmt.Sprintf("WITH ar_actor AS (SELECT $%d::bigint, $%d::text, $%d::inet, $%d::text, $%d::text)", own+1, own+2, own+3, own+4, own+5)
}

// failingAudit is a CTE whose audit row violates a constraint of audit_log: the statement fails before it
// returns a row.
const failingAudit = `, ar_fail AS (INSERT INTO public.audit_log (actor_kind, action, target_table, target_id, changes)
	VALUES (NULL, 'CREATE', 't', 1, '{}'))`

// lateAudit is a CTE whose audit rows violate a deferred constraint, so the statement's rows arrive and the
// failure comes after them, at the commit that ends the statement. A temporary table stands in for audit_log
// (the server names it in the error as it would the real one): the application role cannot add a constraint
// to the real table.
const lateAudit = `, ar_fail AS (INSERT INTO pg_temp.audit_log VALUES (1), (1))`

// withLateAudit creates the temporary table lateAudit writes to, on db's connection.
func withLateAudit(t *testing.T, db *pgx.Conn) {
	t.Helper()
	if _, err := db.Exec(t.Context(), "CREATE TEMP TABLE audit_log (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)"); err != nil {
		t.Fatal(err)
	}
}

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

func userCtx() context.Context {
	return audit.WithActor(context.Background(), audit.Actor{
		UserID: 42, Kind: audit.KindUser, IP: netip.MustParseAddr("198.51.100.1"), UserAgent: "app/1", RequestID: "r-1",
	})
}

func TestWriterNoActorStrict(t *testing.T) {
	db, sent := conn(t)
	w := audit.NewWriter(db)
	one := actorCTE(0) + " SELECT 1::bigint FROM ar_actor"
	err := w.QueryRow(context.Background(), audit.Update, "appointments", one, nil, new(int64))
	if !errors.Is(err, audit.ErrNoActor) || err.Error() != "audit: UPDATE appointments: no actor in context" {
		t.Errorf("QueryRow err = %v, want ErrNoActor", err)
	}
	err = w.Query(context.Background(), audit.Create, "patients", one, nil, func(pgx.Rows) error { return nil })
	if !errors.Is(err, audit.ErrNoActor) {
		t.Errorf("Query err = %v, want ErrNoActor", err)
	}
	anon := audit.WithActor(context.Background(), audit.Actor{Kind: audit.KindUnknown, IP: netip.MustParseAddr("203.0.113.9")})
	if err := w.QueryRow(anon, audit.Update, "appointments", one, nil, new(int64)); !errors.Is(err, audit.ErrNoActor) {
		t.Errorf("anonymous actor: err = %v, want ErrNoActor", err)
	}
	if n := sent.n.Load(); n != 0 {
		t.Errorf("%d statements sent without an actor", n)
	}
	if err := audit.NewWriter(db, audit.AllowAnonymous()).QueryRow(anon, audit.Update, "appointments", one, nil, new(int64)); err != nil || sent.n.Load() != 1 {
		t.Errorf("AllowAnonymous with an anonymous actor: err = %v, %d statements; want it run", err, sent.n.Load())
	}
}

func TestWriterInvalidActorKind(t *testing.T) {
	db, sent := conn(t)
	w := audit.NewWriter(db, audit.AllowAnonymous())
	for _, kind := range []audit.ActorKind{audit.KindUnattributed, "admin", "User"} {
		ctx := audit.WithActor(context.Background(), audit.Actor{Kind: kind, UserID: 7})
		err := w.QueryRow(ctx, audit.Update, "appointments", actorCTE(0)+" SELECT 1::bigint FROM ar_actor", nil, new(int64))
		want := fmt.Sprintf("audit: UPDATE appointments: invalid actor kind: kind %q", kind)
		if !errors.Is(err, audit.ErrInvalidActor) || err.Error() != want {
			t.Errorf("kind %q: err = %v, want %s", kind, err, want)
		}
	}
	if n := sent.n.Load(); n != 0 {
		t.Errorf("%d statements sent with an invalid actor kind", n)
	}
}

// row is what TestWriterActorArgs reads back: the statement's two arguments and the actor's five.
type row struct {
	own1      string
	own2      int32
	id        *int64
	kind      string
	ip        *netip.Prefix
	ua, reqID *string
}

// The server receives the statement's own arguments, then the actor's: absent values as SQL NULL, the address
// as inet.
func TestWriterActorArgs(t *testing.T) {
	db, _ := conn(t)
	str := func(s string) *string { return &s }
	id, ip := int64(42), netip.MustParsePrefix("198.51.100.1/32")
	tests := []struct {
		name string
		ctx  context.Context
		opts []audit.Option
		want row
	}{
		{"user", userCtx(), nil, row{"a", 1, &id, "user", &ip, str("app/1"), str("r-1")}},
		{"system", audit.WithSystem(context.Background(), "nightly-billing"), nil, row{"a", 1, nil, "system", nil, str("nightly-billing"), nil}},
		{"unknown kind ignores UserID", audit.WithActor(context.Background(), audit.Actor{UserID: 5}), []audit.Option{audit.AllowAnonymous()},
			row{"a", 1, nil, "unknown", nil, nil, nil}},
		{"no actor, allowed", context.Background(), []audit.Option{audit.AllowAnonymous()}, row{"a", 1, nil, "unknown", nil, nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own := make([]any, 2, 10) // spare capacity would expose appending into the caller's array
			own[0], own[1] = "a", 1
			var got row
			err := audit.NewWriter(db, tt.opts...).QueryRow(tt.ctx, audit.Update, "t",
				"SELECT $1::text, $2::int, $3::bigint, $4::text, $5::inet, $6::text, $7::text", own,
				&got.own1, &got.own2, &got.id, &got.kind, &got.ip, &got.ua, &got.reqID)
			if err != nil {
				t.Fatal(err)
			}
			if own[:3][2] != nil {
				t.Error("caller's args array was modified")
			}
			if show(got) != show(tt.want) {
				t.Errorf("the server got %s, want %s", show(got), show(tt.want))
			}
		})
	}
}

func show(r row) string {
	return fmt.Sprintf("%s %d %s %s %s %s %s", r.own1, r.own2, orNull(r.id), r.kind, orNull(r.ip), orNull(r.ua), orNull(r.reqID))
}

func orNull[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

// Errors from a real server, as the Writer classifies them (classify_test.go covers every rule).
func TestWriterQueryRowErrors(t *testing.T) {
	db, _ := conn(t)
	owner := testdb.New(t).Owner
	if _, err := owner.Exec(t.Context(), `INSERT INTO audit_log (actor_kind, action, target_table, target_id, changes)
		VALUES ('system', 'CREATE', 't', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(userCtx())
	cancel()
	tests := []struct {
		name     string
		db       audit.DB
		ctx      context.Context
		sql      string
		wantKind error // nil: neither ErrNotFound nor ErrAuditWrite
		wantCode string
	}{
		{"no row", db, userCtx(), " SELECT 1::bigint WHERE false", audit.ErrNotFound, ""},
		{"audit row rejected by a constraint", db, userCtx(), failingAudit + " SELECT 1::bigint", audit.ErrAuditWrite, "23502"},
		{"audit table not writable by the role", db, userCtx(), " DELETE FROM audit_log WHERE false RETURNING id", audit.ErrAuditWrite, "42501"},
		{"append-only trigger", owner, userCtx(), " UPDATE audit_log SET target_id = 0 RETURNING id", audit.ErrAuditWrite, "42501"},
		{"constraint on a PHI table", db, userCtx(), ` INSERT INTO appointments (patient_id, dentist_id, date, time, type, status)
			VALUES (-1, -1, '2026-01-01', '10:00', 'checkup', 'scheduled') RETURNING id`, nil, "23503"},
		{"input value naming the table", db, userCtx(), " SELECT 'audit_log'::bigint", nil, "22P02"},
		{"context canceled", db, canceled, " SELECT 1::bigint", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := audit.NewWriter(tt.db).QueryRow(tt.ctx, audit.Update, "appointments", actorCTE(0)+tt.sql, nil, new(int64))
			var ae *audit.Error
			if !errors.As(err, &ae) || ae.Action != audit.Update || ae.Table != "appointments" {
				t.Fatalf("err = %#v, want *audit.Error for UPDATE appointments", err)
			}
			if ae.Kind != tt.wantKind {
				t.Errorf("Kind = %v, want %v (%v)", ae.Kind, tt.wantKind, err)
			}
			if pe, ok := errors.AsType[*pgconn.PgError](err); tt.wantCode != "" && (!ok || pe.Code != tt.wantCode) {
				t.Errorf("err = %v, want SQLSTATE %s reachable with errors.As", err, tt.wantCode)
			}
			if tt.ctx == canceled && !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want it to match context.Canceled", err)
			}
		})
	}
}

// A statement's rows may arrive before the failure of its audit insert (lateAudit): the rows are read, and the
// failure is the result.
func TestWriterQuery(t *testing.T) {
	db, _ := conn(t)
	withLateAudit(t, db)
	scanErr := errors.New("bad row")
	tests := []struct {
		name      string
		rows      int
		audit     string // lateAudit, or ""
		failAt    int    // scan returns scanErr on this row (1-based); 0 never
		wantRows  int
		wantErr   error // nil: success
		wantAudit bool
	}{
		{"all rows", 3, "", 0, 3, nil, false},
		{"no rows is not an error", 0, "", 0, 0, nil, false},
		{"audit failure after rows", 2, lateAudit, 0, 2, nil, true},
		{"audit failure before rows", 2, failingAudit, 0, 0, nil, true},
		{"scan error", 3, "", 2, 2, scanErr, false},
		{"statement error wins over scan error", 3, lateAudit, 1, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql := actorCTE(1) + tt.audit + " SELECT g FROM generate_series(1, $1::int) g"
			var seen []int
			err := audit.NewWriter(db).Query(userCtx(), audit.Create, "patients", sql, []any{tt.rows}, func(r pgx.Rows) error {
				var i int
				if err := r.Scan(&i); err != nil {
					return err
				}
				seen = append(seen, i)
				if i == tt.failAt {
					return scanErr
				}
				return nil
			})
			if len(seen) != tt.wantRows {
				t.Errorf("scanned %d rows, want %d", len(seen), tt.wantRows)
			}
			if _, err := db.Exec(context.Background(), "SELECT 1"); err != nil {
				t.Errorf("the connection is not free after Query (rows left open?): %v", err)
			}
			switch {
			case tt.wantErr == nil && !tt.wantAudit:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case tt.wantAudit:
				if !errors.Is(err, audit.ErrAuditWrite) {
					t.Errorf("err = %v, want ErrAuditWrite", err)
				}
			default:
				if !errors.Is(err, tt.wantErr) || errors.Is(err, audit.ErrAuditWrite) {
					t.Errorf("err = %v, want %v and not ErrAuditWrite", err, tt.wantErr)
				}
			}
			if ae := (*audit.Error)(nil); err != nil && (!errors.As(err, &ae) || ae.Action != audit.Create) {
				t.Errorf("err = %#v, want an *audit.Error for CREATE", err)
			}
		})
	}
}

func TestWriterQueryClosesRowsWhenScanPanics(t *testing.T) {
	db, _ := conn(t)
	func() {
		defer func() { _ = recover() }()
		_ = audit.NewWriter(db).Query(userCtx(), audit.Create, "patients", actorCTE(0)+" SELECT g FROM generate_series(1, 3) g", nil,
			func(pgx.Rows) error { panic("scan bug") })
	}()
	if _, err := db.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Errorf("the connection is not free after a panicking scan: %v", err)
	}
}

func TestQueryOneAndQueryAll(t *testing.T) {
	db, _ := conn(t)
	w := audit.NewWriter(db)
	cte := actorCTE(0)
	type rec struct{ ID int64 }
	one := func(r *rec) []any { return []any{&r.ID} }
	got, err := audit.QueryOne(userCtx(), w, audit.Update, "t", cte+" SELECT 99::bigint", nil, one)
	if err != nil || got.ID != 99 {
		t.Errorf("QueryOne = %v, %v; want {99}, nil", got, err)
	}
	got, err = audit.QueryOne(userCtx(), w, audit.Update, "t", cte+" SELECT 99::bigint WHERE false", nil,
		func(r *rec) []any { r.ID = 5; return []any{&r.ID} })
	if !errors.Is(err, audit.ErrNotFound) || got != (rec{}) {
		t.Errorf("QueryOne with no row = %v, %v; want the zero value and ErrNotFound", got, err)
	}

	type item struct{ I int }
	all := func(v *item) []any { return []any{&v.I} }
	items, err := audit.QueryAll(userCtx(), w, audit.Create, "t", cte+" SELECT g FROM generate_series(1, 3) g", nil, 3, all)
	if err != nil || !slices.Equal(items, []item{{1}, {2}, {3}}) {
		t.Errorf("QueryAll = %v, %v; want [{1} {2} {3}]", items, err)
	}
	withLateAudit(t, db)
	failing := cte + lateAudit + " SELECT g FROM generate_series(1, 2) g"
	items, err = audit.QueryAll(userCtx(), w, audit.Create, "t", failing, nil, 2, all)
	if !errors.Is(err, audit.ErrAuditWrite) || items != nil {
		t.Errorf("QueryAll failing after its rows = %v, %v; want nil and ErrAuditWrite", items, err)
	}
}
