package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what pgxpool.Pool, pgx.Conn and pgx.Tx have in common (same as sqlc's DBTX).
type DB interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}

// ActorArgs is the number of actor arguments appended after a statement's own arguments.
const ActorArgs = 5

// Option configures a Writer.
type Option func(*Writer)

// AllowAnonymous records writes whose context has no actor, or only an anonymous one (kind "unknown", as the
// middleware sets for unauthenticated requests), as actor kind "unknown" instead of refusing them with ErrNoActor.
func AllowAnonymous() Option {
	return func(w *Writer) { w.strict = false }
}

// Writer runs generated audited statements: it supplies the actor arguments and maps errors to *Error.
type Writer struct {
	db     DB
	strict bool
}

// auditTable is the table the generated statements write audit rows to.
const auditTable = "audit_log"

// NewWriter returns a Writer over db, which must not be nil. Pass a pgx.Tx to make the audited statement part
// of the caller's transaction.
func NewWriter(db DB, opts ...Option) *Writer {
	w := &Writer{db: db, strict: true}
	for _, o := range opts {
		o(w)
	}
	return w
}

// QueryRow runs one generated audited statement that returns one row and scans it into dest.
// args are the statement's own arguments; the five actor arguments are appended after them ($len(args)+1 .. +5):
// actor_id (int8, NULL unless KindUser), actor_kind (text), ip (inet, NULL when unknown), user_agent (text, NULL
// when empty), request_id (text, NULL when empty).
//
// No row is reported as ErrNotFound (an update or delete matched nothing). A nil dest skips its column, as pgx
// does: the generated :exec methods pass nil, since they only need to know whether a row changed.
func (w *Writer) QueryRow(ctx context.Context, action Action, table, sql string, args []any, dest ...any) error {
	all, err := w.withActor(ctx, action, table, args)
	if err != nil {
		return err
	}
	return w.classify(action, table, w.db.QueryRow(ctx, sql, all...).Scan(dest...))
}

// Query runs a statement that returns many rows (bulk create); scan is called for each row. Arguments are as for
// QueryRow. PostgreSQL may report a failed audit insert only after the returned rows, so the result is final only
// once all rows are read: if scan fails, the rest is drained and a statement error found then takes precedence.
// Otherwise the scan error is returned, and the statement may already have taken effect (outside a transaction,
// committed).
func (w *Writer) Query(ctx context.Context, action Action, table, sql string, args []any, scan func(pgx.Rows) error) error {
	all, err := w.withActor(ctx, action, table, args)
	if err != nil {
		return err
	}
	rows, err := w.db.Query(ctx, sql, all...)
	if err != nil {
		return w.classify(action, table, err)
	}
	defer rows.Close() // releases the connection even if scan panics
	for rows.Next() {
		if err := scan(rows); err != nil {
			rows.Close()
			return w.classify(action, table, cmp.Or(rows.Err(), err))
		}
	}
	return w.classify(action, table, rows.Err())
}

// QueryOne runs a statement that returns one row, as QueryRow, and returns it as a T. fields lists the addresses
// of a T's fields in the order of the statement's columns (the generated repositories' scan functions). On error
// it returns the zero T.
func QueryOne[T any](ctx context.Context, w *Writer, action Action, table, sql string, args []any, fields func(*T) []any) (T, error) {
	var v T
	if err := w.QueryRow(ctx, action, table, sql, args, fields(&v)...); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// QueryAll runs a statement that returns many rows, as Query, and returns them as Ts in the order they came;
// fields is as for QueryOne and n, the number of rows expected, sizes the result. On error it returns nil.
func QueryAll[T any](ctx context.Context, w *Writer, action Action, table, sql string, args []any, n int, fields func(*T) []any) ([]T, error) {
	out := make([]T, 0, n)
	err := w.Query(ctx, action, table, sql, args, func(rows pgx.Rows) error {
		var v T
		if err := rows.Scan(fields(&v)...); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// withActor returns a new slice (the caller's args are not modified) with the actor arguments appended. Absent
// values are typed nil pointers, which pgx encodes as NULL.
func (w *Writer) withActor(ctx context.Context, action Action, table string, args []any) ([]any, error) {
	a, ok := ActorFrom(ctx)
	switch a.Kind {
	case KindUser, KindSystem, KindUnknown, "": // "" only when ctx holds no actor: WithActor fills it in
	default:
		// Refused here rather than by the database, so the error names the cause and nothing is sent.
		return nil, &Error{Action: action, Table: table, Kind: ErrInvalidActor, Err: fmt.Errorf("kind %q", a.Kind)}
	}
	// Strict writers refuse anonymous actors too: every row they write names a user or a system job.
	if !ok || a.Kind == KindUnknown {
		if w.strict {
			return nil, &Error{Action: action, Table: table, Kind: ErrNoActor}
		}
		if !ok {
			a = Actor{Kind: KindUnknown}
		}
	}
	var id *int64
	if a.Kind == KindUser {
		id = &a.UserID
	}
	var ip *netip.Addr
	if a.IP.IsValid() {
		ip = &a.IP
	}
	all := make([]any, 0, len(args)+ActorArgs)
	all = append(all, args...)
	return append(all, id, string(a.Kind), ip, nullIfEmpty(a.UserAgent), nullIfEmpty(a.RequestID)), nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// classify maps a statement error to *Error, keeping the cause reachable for errors.Is/As; nil stays nil.
func (w *Writer) classify(action Action, table string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &Error{Action: action, Table: table, Kind: ErrNotFound}
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && onAuditTable(pgErr) {
		return &Error{Action: action, Table: table, Kind: ErrAuditWrite, Err: err}
	}
	return &Error{Action: action, Table: table, Err: err}
}

// onAuditTable reports whether e is a failure on the audit table. Constraint errors name the table in TableName;
// others (such as "permission denied for table audit_log") only in Message. Data exceptions (SQLSTATE class 22)
// are not matched on Message because they can quote input values, which would let a client make an ordinary
// error look like an audit failure.
func onAuditTable(e *pgconn.PgError) bool {
	if e.TableName == auditTable {
		return true
	}
	return !strings.HasPrefix(e.Code, "22") && containsWord(e.Message, auditTable)
}

// containsWord reports whether word occurs in s not adjacent to identifier characters, so "audit_log" does not
// match "audit_log_archive".
func containsWord(s, word string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if !isIdentRune(before) && !isIdentRune(after) {
			return true
		}
		i = start + 1
	}
}

func isIdentRune(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
