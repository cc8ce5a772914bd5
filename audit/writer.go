package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what pgxpool.Pool, pgx.Conn and pgx.Tx have in common; sqlc's generated DBTX has the same methods.
type DBTX interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}

// Option configures a Writer.
type Option func(*Writer)

// AllowAnonymous records writes whose context has no actor, or only an anonymous one (kind "unknown", as the
// middleware sets for unauthenticated requests), as actor kind "unknown" instead of refusing them with ErrNoActor.
func AllowAnonymous() Option {
	return func(w *Writer) { w.strict = false }
}

// Writer runs the generated repositories' statements: each carries the claim of the actor in its context.
type Writer struct {
	db     DBTX
	strict bool
}

// NewWriter returns a Writer over db, which must not be nil. Pass a pgx.Tx to make the audited statements part
// of the caller's transaction.
func NewWriter(db DBTX, opts ...Option) *Writer {
	w := &Writer{db: db, strict: true}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Claim returns the DBTX through which a generated method runs one sqlc query: whatever SQL sqlc sends, it
// sends sql instead (the generated statement that wraps sqlc's with the claim), with the actor of ctx appended to
// the arguments. Errors come back as they happened; pass the method's error through Call.Err. A context
// without an acceptable actor makes every call fail with ErrNoActor or ErrInvalidActor before anything is sent.
//
// It is used by generated code; its contract with the generated SQL (the claim's one placeholder, after the
// statement's own, and the form of the actor's text) is internal.
func (w *Writer) Claim(ctx context.Context, action Action, table, sql string) *Call {
	c := &Call{w: w, action: action, table: table, sql: sql}
	c.actor, c.refused = w.claimActor(ctx)
	if e, ok := c.refused.(*Error); ok {
		e.Action, e.Table = action, table
	}
	return c
}

// Call is one claimed statement (see Writer.Claim). It is not safe for concurrent use and runs one statement.
type Call struct {
	w             *Writer
	action        Action
	table, sql    string
	actor         string
	refused, sent error
	tag           pgconn.CommandTag
	ran           bool
}

// errTwice guards the contract with sqlc's generated methods: each runs exactly one statement.
var errTwice = errors.New("audit: a claimed call ran a second statement")

func (c *Call) args(args []any) ([]any, error) {
	if c.refused != nil {
		return nil, c.refused
	}
	if c.ran {
		return nil, errTwice
	}
	c.ran = true
	all := make([]any, 0, len(args)+1)
	return append(append(all, args...), c.actor), nil
}

// Exec runs the claimed statement; the command tag counts the changed rows.
func (c *Call) Exec(ctx context.Context, _ string, args ...any) (pgconn.CommandTag, error) {
	all, err := c.args(args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	c.tag, err = c.w.db.Exec(ctx, c.sql, all...)
	return c.tag, err
}

// Query runs the claimed statement and returns its rows.
func (c *Call) Query(ctx context.Context, _ string, args ...any) (pgx.Rows, error) {
	all, err := c.args(args)
	if err != nil {
		return nil, err
	}
	return c.w.db.Query(ctx, c.sql, all...)
}

// QueryRow runs the claimed statement and returns its one row.
func (c *Call) QueryRow(ctx context.Context, _ string, args ...any) pgx.Row {
	all, err := c.args(args)
	if err != nil {
		return errRow{err}
	}
	return c.w.db.QueryRow(ctx, c.sql, all...)
}

// CopyFrom refuses with an error matching ErrCopy, sending nothing. It is there because sqlc's DBTX asks for it
// once any query of its package is :copyfrom; the generator wraps no :copyfrom query, so no generated method calls it.
func (c *Call) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, &Error{Action: c.action, Table: c.table, Kind: ErrCopy}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Err maps the error of the generated method's sqlc call to *Error; nil stays nil. No row for a query that
// must return one matches both ErrNotFound and pgx.ErrNoRows.
func (c *Call) Err(err error) error {
	if err == nil {
		return nil
	}
	if c.refused != nil && errors.Is(err, c.refused) { // already an *Error, sent nothing
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &Error{Action: c.action, Table: c.table, Kind: ErrNotFound, Err: pgx.ErrNoRows}
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && inAuditTrigger(pgErr, c.sql) {
		return &Error{Action: c.action, Table: c.table, Kind: ErrAuditWrite, Err: err}
	} else if ok && (noClaimFunc(pgErr, c.sql) || noClaimSchema(pgErr, c.sql)) {
		return &Error{Action: c.action, Table: c.table, Kind: ErrNotInstalled, Err: err}
	}
	return &Error{Action: c.action, Table: c.table, Err: err}
}

// Changed is Err for a method that returns only an error (sqlc's :exec): a statement that changed no row is
// ErrNotFound, as for a method that returns the row.
func (c *Call) Changed(err error) error {
	if err == nil && c.tag.RowsAffected() == 0 {
		return &Error{Action: c.action, Table: c.table, Kind: ErrNotFound, Err: pgx.ErrNoRows}
	}
	return c.Err(err)
}

// inAuditTrigger reports whether e was raised while the audit triggers wrote the audit rows: a line of the error
// context (written by the server) names a generated trigger function, schema.audit_...(), whatever the error, so
// a failed audit row is never mistaken for an ordinary error. The schema must be the audit schema, the one whose
// claim functions' schema (its name and "_claim") holds the claim function (claim_...) the statement sql calls:
// an application's own trigger function named audit_... is in another schema (the generated functions run with a
// search_path that never holds the audit schema, so the server always qualifies their names).
func inAuditTrigger(e *pgconn.PgError, sql string) bool {
	for line := range strings.Lines(e.Where) {
		fn, ok := strings.CutPrefix(line, "PL/pgSQL function ")
		if !ok {
			continue
		}
		schema, _, ok := strings.Cut(fn, ".audit_")
		if ok && schema != "" && strings.Contains(sql, claimSchemaOf(schema)+".claim_") {
			return true
		}
	}
	return false
}

// claimSchemaOf is the claim functions' schema of the audit schema the server names schema (quoted by
// quote_identifier), as the generated statements name it: the audit schema's name and "_claim"
// (auditschema.Config.ClaimSchema), quoted as quote_identifier quotes it, bare when it is a plain lower-case word
// (no key word ends in "_claim").
func claimSchemaOf(schema string) string {
	name := schema
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
	}
	name += "_claim"
	if (name[0] < '0' || name[0] > '9') && !strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// noClaimSchema reports whether e says that the schema of the claim function the statement sql calls does not
// exist: the audit schema installed is of a revision from before the claim functions had a schema of their own (or
// none is). The server names the schema quoted, as sql does but for a name it needs no quotes for.
func noClaimSchema(e *pgconn.PgError, sql string) bool {
	name, ok := strings.CutPrefix(e.Message, "schema ")
	name, found := strings.CutSuffix(name, " does not exist")
	if !ok || !found || e.Code != "3F000" || len(name) < 2 || name[0] != '"' || name[len(name)-1] != '"' {
		return false
	}
	name = strings.ReplaceAll(name[1:len(name)-1], `"`, `""`)
	return strings.HasSuffix(name, "_claim") && (strings.Contains(sql, name+".claim_") || strings.Contains(sql, `"`+name+`".claim_`))
}

// noClaimFunc reports whether e says that the claim function the statement sql calls does not exist: the table's
// audit triggers, installed with it, are not installed. The server names the function unquoted and cut to 63
// bytes: its name, after the schema's (the claim functions' schema), is matched as a prefix of the one in sql.
func noClaimFunc(e *pgconn.PgError, sql string) bool {
	fn, ok := strings.CutPrefix(e.Message, "function ")
	fn, _, found := strings.Cut(fn, "(")
	name := fn[strings.LastIndexByte(fn, '.')+1:]
	return ok && found && e.Code == "42883" && strings.HasPrefix(name, "claim_") && strings.Contains(sql, "."+name)
}

// claimActor returns the claim's actor for the actor of ctx, or why the write is refused: the fields of an
// auditrepo.claimed row after its method (kind, user id, IP, user agent, request id) and the row's closing
// parenthesis, as record_in reads them. A field left empty is NULL.
func (w *Writer) claimActor(ctx context.Context) (string, error) {
	a, ok := ActorFrom(ctx)
	switch a.Kind {
	case KindUser:
		if a.UserID == 0 {
			return "", &Error{Kind: ErrInvalidActor, Err: errors.New("a user actor needs its UserID (0 is the zero value: none set)")}
		}
	case KindSystem, KindUnknown:
	case "":
		if ok {
			return "", &Error{Kind: ErrInvalidActor, Err: errors.New("the actor has no Kind: set audit.KindUser for a user (with UserID), or use audit.WithSystem")}
		}
	default:
		// Refused here rather than by the database, so the error names the cause and nothing is sent.
		return "", &Error{Kind: ErrInvalidActor, Err: fmt.Errorf("kind %q (want audit.KindUser, audit.KindSystem or audit.KindUnknown)", a.Kind)}
	}
	// Strict writers refuse anonymous actors too: every row they write names a user or a system job.
	if !ok || a.Kind == KindUnknown {
		if w.strict {
			return "", &Error{Kind: ErrNoActor}
		}
		if !ok {
			a = Actor{Kind: KindUnknown}
		}
	}
	var b strings.Builder
	b.Grow(80 + len(a.UserAgent) + len(a.RequestID)) // the one allocation: the kind, an id, an address, quotes
	var num [48]byte                                 // an int64 or an IPv6 address, formatted on the stack
	b.WriteString(string(a.Kind))
	b.WriteByte(',')
	if a.Kind == KindUser {
		b.Write(strconv.AppendInt(num[:0], a.UserID, 10))
	}
	b.WriteByte(',')
	if a.IP.IsValid() {
		b.Write(a.IP.AppendTo(num[:0]))
	}
	b.WriteByte(',')
	writeField(&b, a.UserAgent)
	b.WriteByte(',')
	writeField(&b, a.RequestID)
	b.WriteByte(')')
	return b.String(), nil
}

// writeField writes s as a quoted field of a row's text form (backslash and double quote escaped), or nothing
// (NULL) when s is empty.
func writeField(b *strings.Builder, s string) {
	if s == "" {
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}
