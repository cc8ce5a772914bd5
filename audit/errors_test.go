package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/audit"
)

func TestErrorMessage(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		err  *audit.Error
		want string
	}{
		{&audit.Error{Action: audit.ActionUpdate, Table: "appointments", Kind: audit.ErrNotFound}, "audit: UPDATE appointments: record not found"},
		{&audit.Error{Action: audit.ActionUpdate, Table: "appointments", Kind: audit.ErrAuditWrite, Err: cause}, "audit: UPDATE appointments: audit row not written, change rolled back: boom"},
		{&audit.Error{Action: audit.ActionCreate, Table: "patients", Kind: audit.ErrNoActor}, "audit: CREATE patients: no actor in context"},
		{&audit.Error{Action: audit.ActionDelete, Table: "patients", Err: cause}, "audit: DELETE patients: boom"},
		{&audit.Error{}, "audit:  "},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorUnwrap(t *testing.T) {
	pgErr := &pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log"}
	var err error = &audit.Error{Action: audit.ActionUpdate, Table: "appointments", Kind: audit.ErrAuditWrite, Err: pgErr}

	if !errors.Is(err, audit.ErrAuditWrite) {
		t.Error("errors.Is(err, ErrAuditWrite) = false")
	}
	if errors.Is(err, audit.ErrNotFound) {
		t.Error("errors.Is(err, ErrNotFound) = true")
	}
	var got *pgconn.PgError
	if !errors.As(err, &got) || got != pgErr {
		t.Errorf("errors.As(*pgconn.PgError) = %v", got)
	}
	var ae *audit.Error
	if !errors.As(err, &ae) || ae.Table != "appointments" {
		t.Errorf("errors.As(*audit.Error) = %v", ae)
	}

	wrapped := &audit.Error{Err: context.DeadlineExceeded}
	if !errors.Is(wrapped, context.DeadlineExceeded) || len(wrapped.Unwrap()) != 1 {
		t.Errorf("Unwrap() = %v, want only the cause", wrapped.Unwrap())
	}
	if u := (&audit.Error{}).Unwrap(); len(u) != 0 {
		t.Errorf("empty Error Unwrap() = %v, want none", u)
	}
}
