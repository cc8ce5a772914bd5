package audit

import (
	"errors"
	"strings"
)

// Sentinel error kinds; test for them with errors.Is.
var (
	ErrNotFound   = errors.New("audit: record not found")
	ErrAuditWrite = errors.New("audit: audit row not written, change rolled back")
	ErrNoActor    = errors.New("audit: no actor in context")
	// ErrInvalidActor: the actor's kind is not one a Writer records (user, system, or unknown), or a user
	// actor has no UserID. Kind unattributed is the database's alone.
	ErrInvalidActor = errors.New("audit: invalid actor")
	// ErrCopy: a claimed call was asked to COPY. A claim is a condition of one audited statement, which COPY has
	// no place for.
	ErrCopy = errors.New("audit: COPY cannot carry a claim")
	// ErrNotInstalled: the table's audit triggers are not installed (the generated repo.Install installs them),
	// so the statement was refused before it changed anything.
	ErrNotInstalled = errors.New("audit: the table's audit triggers are not installed")
)

// Action is the kind of change an audit row records.
type Action string

const (
	ActionCreate Action = "CREATE"
	ActionUpdate Action = "UPDATE"
	ActionDelete Action = "DELETE"
	// ActionMove: a record's patient changed because a record its patient path goes through moved.
	ActionMove Action = "MOVE"
)

// Error is returned by every failing Writer call. Kind is one of the sentinels (or nil) and Err the underlying
// cause (or nil); both are reachable through errors.Is and errors.As, so callers can test for ErrAuditWrite and
// still extract the *pgconn.PgError.
type Error struct {
	Action Action
	Table  string
	Kind   error
	Err    error
}

func (e *Error) Error() string {
	s := "audit: " + string(e.Action) + " " + e.Table
	if e.Kind != nil {
		s += ": " + strings.TrimPrefix(e.Kind.Error(), "audit: ") // avoid "audit: ...: audit: ..."
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
