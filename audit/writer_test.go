package audit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

// fakeDB records the last statement and returns canned results, so Writer can be tested without PostgreSQL.
type fakeDB struct {
	calls int
	sql   string
	args  []any
	err   error // returned by Row.Scan, or by Query when rows is nil
	rows  *fakeRows
}

func (d *fakeDB) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	panic("Writer must not call Exec")
}

func (d *fakeDB) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	d.calls, d.sql, d.args = d.calls+1, sql, args
	if d.rows == nil {
		return nil, d.err
	}
	return d.rows, nil
}

func (d *fakeDB) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	d.calls, d.sql, d.args = d.calls+1, sql, args
	return fakeRow{d.err}
}

type fakeRow struct{ err error }

func (r fakeRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	*dest[0].(*int64) = 99
	return nil
}

// fakeRows yields n rows and then reports err, as pgx does when a statement fails after sending rows.
type fakeRows struct {
	pgx.Rows // methods Writer must not use panic via the nil interface
	n, i     int
	err      error
	closed   bool
}

func (r *fakeRows) Next() bool {
	if r.closed || r.i == r.n {
		r.closed = true
		return false
	}
	r.i++
	return true
}

func (r *fakeRows) Scan(dest ...any) error { *dest[0].(*int) = r.i; return nil }
func (r *fakeRows) Close()                 { r.closed = true }

func (r *fakeRows) Err() error {
	if r.closed {
		return r.err
	}
	return nil
}

func userCtx() context.Context {
	return audit.WithActor(context.Background(), audit.Actor{
		UserID: 42, Kind: audit.KindUser, IP: netip.MustParseAddr("198.51.100.1"), UserAgent: "app/1", RequestID: "r-1",
	})
}

func TestWriterNoActorStrict(t *testing.T) {
	db := &fakeDB{}
	w := audit.NewWriter(db)
	err := w.QueryRow(context.Background(), audit.Update, "appointments", "UPDATE ...", nil, new(int64))
	if !errors.Is(err, audit.ErrNoActor) || err.Error() != "audit: UPDATE appointments: no actor in context" {
		t.Errorf("QueryRow err = %v, want ErrNoActor", err)
	}
	err = w.Query(context.Background(), audit.Create, "patients", "INSERT ...", nil, func(pgx.Rows) error { return nil })
	if !errors.Is(err, audit.ErrNoActor) {
		t.Errorf("Query err = %v, want ErrNoActor", err)
	}
	anon := audit.WithActor(context.Background(), audit.Actor{Kind: audit.KindUnknown, IP: netip.MustParseAddr("203.0.113.9")})
	if err := w.QueryRow(anon, audit.Update, "appointments", "UPDATE ...", nil, new(int64)); !errors.Is(err, audit.ErrNoActor) {
		t.Errorf("anonymous actor: err = %v, want ErrNoActor", err)
	}
	if db.calls != 0 {
		t.Errorf("%d statements ran without an actor", db.calls)
	}
	if err := audit.NewWriter(db, audit.AllowAnonymous()).QueryRow(anon, audit.Update, "appointments", "UPDATE ...", nil, new(int64)); err != nil || db.calls != 1 {
		t.Errorf("AllowAnonymous with an anonymous actor: err = %v, %d statements; want it run", err, db.calls)
	}
}

func TestWriterInvalidActorKind(t *testing.T) {
	db := &fakeDB{}
	w := audit.NewWriter(db, audit.AllowAnonymous())
	for _, kind := range []audit.ActorKind{audit.KindUnattributed, "admin", "User"} {
		ctx := audit.WithActor(context.Background(), audit.Actor{Kind: kind, UserID: 7})
		err := w.QueryRow(ctx, audit.Update, "appointments", "UPDATE ...", nil, new(int64))
		want := fmt.Sprintf("audit: UPDATE appointments: invalid actor kind: kind %q", kind)
		if !errors.Is(err, audit.ErrInvalidActor) || err.Error() != want {
			t.Errorf("kind %q: err = %v, want %s", kind, err, want)
		}
	}
	if db.calls != 0 {
		t.Errorf("%d statements ran with an invalid actor kind", db.calls)
	}
}

func TestWriterActorArgs(t *testing.T) {
	strPtr := func(s string) *string { return &s }
	ip := netip.MustParseAddr("198.51.100.1")
	id := int64(42)
	tests := []struct {
		name string
		ctx  context.Context
		opts []audit.Option
		want []any // the five actor arguments
	}{
		{"user", userCtx(), nil, []any{&id, "user", &ip, strPtr("app/1"), strPtr("r-1")}},
		{"system", audit.WithSystem(context.Background(), "nightly-billing"), nil,
			[]any{(*int64)(nil), "system", (*netip.Addr)(nil), strPtr("nightly-billing"), (*string)(nil)}},
		{"unknown kind ignores UserID", audit.WithActor(context.Background(), audit.Actor{UserID: 5}), []audit.Option{audit.AllowAnonymous()},
			[]any{(*int64)(nil), "unknown", (*netip.Addr)(nil), (*string)(nil), (*string)(nil)}},
		{"unattributed allowed", context.Background(), []audit.Option{audit.AllowAnonymous()},
			[]any{(*int64)(nil), "unknown", (*netip.Addr)(nil), (*string)(nil), (*string)(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{}
			own := make([]any, 2, 10) // spare capacity would expose appending into the caller's array
			own[0], own[1] = "a", 1
			var out int64
			if err := audit.NewWriter(db, tt.opts...).QueryRow(tt.ctx, audit.Update, "t", "SQL", own, &out); err != nil {
				t.Fatal(err)
			}
			if out != 99 || db.sql != "SQL" {
				t.Errorf("dest = %d, sql = %q", out, db.sql)
			}
			if len(db.args) != len(own)+audit.ActorArgs || db.args[0] != "a" || db.args[1] != 1 {
				t.Fatalf("args = %v, want own args then %d actor args", db.args, audit.ActorArgs)
			}
			if own[:3][2] != nil {
				t.Error("caller's args array was modified")
			}
			for i, want := range tt.want {
				if got := db.args[len(own)+i]; !equalDeref(got, want) {
					t.Errorf("actor arg %d = %#v, want %#v", i+1, got, want)
				}
			}
		})
	}
}

func equalDeref(a, b any) bool {
	switch a := a.(type) {
	case *int64:
		b := b.(*int64)
		return (a == nil) == (b == nil) && (a == nil || *a == *b)
	case *netip.Addr:
		b := b.(*netip.Addr)
		return (a == nil) == (b == nil) && (a == nil || *a == *b)
	case *string:
		b := b.(*string)
		return (a == nil) == (b == nil) && (a == nil || *a == *b)
	}
	return a == b
}

// TestWriterActorArgsEncoding checks with pgx's own encoder that absent values are sent as SQL NULL and present
// ones as the expected PostgreSQL types.
func TestWriterActorArgsEncoding(t *testing.T) {
	oids := []uint32{pgtype.Int8OID, pgtype.TextOID, pgtype.InetOID, pgtype.TextOID, pgtype.TextOID}
	m := pgtype.NewMap()
	for name, ctx := range map[string]context.Context{"user": userCtx(), "anonymous": audit.WithActor(context.Background(), audit.Actor{})} {
		db := &fakeDB{}
		if err := audit.NewWriter(db, audit.AllowAnonymous()).QueryRow(ctx, audit.Delete, "t", "SQL", nil, new(int64)); err != nil {
			t.Fatal(err)
		}
		for i, oid := range oids {
			for _, format := range []int16{pgtype.BinaryFormatCode, pgtype.TextFormatCode} {
				buf, err := m.Encode(oid, format, db.args[i], nil)
				if err != nil {
					t.Fatalf("%s: arg %d: %v", name, i+1, err)
				}
				isNull := buf == nil
				wantNull := name == "anonymous" && i != 1 // actor_kind is never NULL
				if isNull != wantNull {
					t.Errorf("%s: arg %d format %d: NULL = %v, want %v", name, i+1, format, isNull, wantNull)
				}
				if name == "user" && i == 2 && format == pgtype.TextFormatCode && string(buf) != "198.51.100.1/32" {
					t.Errorf("ip encoded as %q", buf)
				}
			}
		}
	}
}

func TestWriterQueryRowErrors(t *testing.T) {
	other := errors.New("connection reset")
	tests := []struct {
		name     string
		opts     []audit.Option
		err      error
		wantKind error // nil: neither ErrNotFound nor ErrAuditWrite
		wantMsg  string
	}{
		{"no rows", nil, pgx.ErrNoRows, audit.ErrNotFound, "audit: UPDATE appointments: record not found"},
		{"not-null on audit table", nil,
			&pgconn.PgError{Severity: "ERROR", Code: "23502", Message: `null value in column "actor_kind" of relation "audit_log" violates not-null constraint`, TableName: "audit_log"},
			audit.ErrAuditWrite, `audit: UPDATE appointments: audit row not written, change rolled back: ERROR: null value in column "actor_kind" of relation "audit_log" violates not-null constraint (SQLSTATE 23502)`},
		{"permission denied on audit table", nil,
			&pgconn.PgError{Severity: "ERROR", Code: "42501", Message: "permission denied for table audit_log"}, audit.ErrAuditWrite, ""},
		{"append-only trigger naming the table", nil,
			&pgconn.PgError{Code: "P0001", Message: "audit_log is append-only"}, audit.ErrAuditWrite, ""},
		{"schema-qualified in message", nil,
			&pgconn.PgError{Code: "42P01", Message: `relation "phi.audit_log" does not exist`}, audit.ErrAuditWrite, ""},
		{"longer table name is not a match", nil,
			&pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log_archive"}, nil, ""},
		{"prefixed table name is not a match", nil,
			&pgconn.PgError{Code: "42501", Message: "permission denied for table old_audit_log"}, nil, ""},
		{"input value echoed in data exception", nil,
			&pgconn.PgError{Code: "22P02", Message: `invalid input syntax for type integer: "audit_log"`}, nil, ""},
		{"constraint on the PHI table", nil,
			&pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "appointments_pkey"`, TableName: "appointments"}, nil, ""},
		{"other error", nil, other, nil, "audit: UPDATE appointments: connection reset"},
		{"context canceled", nil, context.Canceled, nil, "audit: UPDATE appointments: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := audit.NewWriter(&fakeDB{err: tt.err}, tt.opts...).
				QueryRow(userCtx(), audit.Update, "appointments", "SQL", nil, new(int64))
			var ae *audit.Error
			if !errors.As(err, &ae) || ae.Action != audit.Update || ae.Table != "appointments" {
				t.Fatalf("err = %#v, want *audit.Error for UPDATE appointments", err)
			}
			if ae.Kind != tt.wantKind {
				t.Errorf("Kind = %v, want %v", ae.Kind, tt.wantKind)
			}
			if tt.wantKind != audit.ErrNotFound && !errors.Is(err, tt.err) {
				t.Errorf("cause %v not reachable through %v", tt.err, err)
			}
			if pe := (*pgconn.PgError)(nil); errors.As(tt.err, &pe) {
				var got *pgconn.PgError
				if !errors.As(err, &got) || got != pe {
					t.Error("errors.As could not extract the *pgconn.PgError")
				}
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestWriterQuery(t *testing.T) {
	auditErr := &pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log"}
	scanErr := errors.New("bad row")
	tests := []struct {
		name      string
		db        *fakeDB
		failAt    int // scan returns scanErr on this row (1-based); 0 never
		wantRows  int
		wantErr   error // nil: success
		wantAudit bool
	}{
		{"all rows", &fakeDB{rows: &fakeRows{n: 3}}, 0, 3, nil, false},
		{"no rows is not an error", &fakeDB{rows: &fakeRows{}}, 0, 0, nil, false},
		{"Query fails", &fakeDB{err: auditErr}, 0, 0, auditErr, true},
		{"audit failure after rows", &fakeDB{rows: &fakeRows{n: 2, err: auditErr}}, 0, 2, auditErr, true},
		{"scan error", &fakeDB{rows: &fakeRows{n: 3}}, 2, 2, scanErr, false},
		{"statement error wins over scan error", &fakeDB{rows: &fakeRows{n: 3, err: auditErr}}, 1, 1, auditErr, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []int
			err := audit.NewWriter(tt.db).Query(userCtx(), audit.Create, "patients", "SQL", []any{"x"}, func(r pgx.Rows) error {
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
			if len(tt.db.args) != 1+audit.ActorArgs {
				t.Errorf("%d args, want %d", len(tt.db.args), 1+audit.ActorArgs)
			}
			if tt.db.rows != nil && !tt.db.rows.closed {
				t.Error("rows not closed")
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var ae *audit.Error
			if !errors.As(err, &ae) || ae.Action != audit.Create || !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want *audit.Error wrapping %v", err, tt.wantErr)
			}
			if errors.Is(err, audit.ErrAuditWrite) != tt.wantAudit {
				t.Errorf("errors.Is(err, ErrAuditWrite) = %v, want %v", !tt.wantAudit, tt.wantAudit)
			}
		})
	}
}

func TestWriterQueryClosesRowsWhenScanPanics(t *testing.T) {
	db := &fakeDB{rows: &fakeRows{n: 3}}
	func() {
		defer func() { _ = recover() }()
		_ = audit.NewWriter(db).Query(userCtx(), audit.Create, "patients", "SQL", nil, func(pgx.Rows) error { panic("scan bug") })
	}()
	if !db.rows.closed {
		t.Error("rows left open after a panicking scan")
	}
}

func TestQueryOneAndQueryAll(t *testing.T) {
	type rec struct{ ID int64 }
	one := func(r *rec) []any { return []any{&r.ID} }
	got, err := audit.QueryOne(userCtx(), audit.NewWriter(&fakeDB{}), audit.Update, "t", "SQL", nil, one)
	if err != nil || got.ID != 99 {
		t.Errorf("QueryOne = %v, %v; want {99}, nil", got, err)
	}
	got, err = audit.QueryOne(userCtx(), audit.NewWriter(&fakeDB{err: pgx.ErrNoRows}), audit.Update, "t", "SQL", nil,
		func(r *rec) []any { r.ID = 5; return []any{&r.ID} })
	if !errors.Is(err, audit.ErrNotFound) || got != (rec{}) {
		t.Errorf("QueryOne with no row = %v, %v; want the zero value and ErrNotFound", got, err)
	}

	type item struct{ I int }
	all := func(v *item) []any { return []any{&v.I} }
	items, err := audit.QueryAll(userCtx(), audit.NewWriter(&fakeDB{rows: &fakeRows{n: 3}}), audit.Create, "t", "SQL", nil, 3, all)
	if err != nil || !slices.Equal(items, []item{{1}, {2}, {3}}) {
		t.Errorf("QueryAll = %v, %v; want [{1} {2} {3}]", items, err)
	}
	auditErr := &pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log"}
	items, err = audit.QueryAll(userCtx(), audit.NewWriter(&fakeDB{rows: &fakeRows{n: 2, err: auditErr}}), audit.Create, "t", "SQL", nil, 2, all)
	if !errors.Is(err, audit.ErrAuditWrite) || items != nil {
		t.Errorf("QueryAll failing after its rows = %v, %v; want nil and ErrAuditWrite", items, err)
	}
}
