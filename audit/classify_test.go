package audit

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Which errors count as a failed audit row is decided on the error alone: the server's messages below are
// written out so that every rule is exercised, including those no test database can be made to produce
// (a longer or prefixed table name, an input value echoed in a data exception). writer_test.go shows the
// same decisions on errors from a real server.
func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantKind error // nil: neither ErrNotFound nor ErrAuditWrite
		wantMsg  string
	}{
		{"no rows", pgx.ErrNoRows, ErrNotFound, "audit: UPDATE appointments: record not found"},
		{"not-null on audit table",
			&pgconn.PgError{Severity: "ERROR", Code: "23502", Message: `null value in column "actor_kind" of relation "audit_log" violates not-null constraint`, TableName: "audit_log"},
			ErrAuditWrite, `audit: UPDATE appointments: audit row not written, change rolled back: ERROR: null value in column "actor_kind" of relation "audit_log" violates not-null constraint (SQLSTATE 23502)`},
		{"permission denied on audit table", &pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log"}, ErrAuditWrite, ""},
		{"append-only trigger naming the table", &pgconn.PgError{Code: "P0001", Message: "audit_log is append-only"}, ErrAuditWrite, ""},
		{"schema-qualified in message", &pgconn.PgError{Code: "42P01", Message: `relation "phi.audit_log" does not exist`}, ErrAuditWrite, ""},
		{"longer table name is not a match", &pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log_archive"}, nil, ""},
		{"prefixed table name is not a match", &pgconn.PgError{Code: "42501", Message: "permission denied for table old_audit_log"}, nil, ""},
		{"input value echoed in data exception", &pgconn.PgError{Code: "22P02", Message: `invalid input syntax for type integer: "audit_log"`}, nil, ""},
		{"constraint on the PHI table",
			&pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "appointments_pkey"`, TableName: "appointments"}, nil, ""},
		{"other error", errors.New("connection reset"), nil, "audit: UPDATE appointments: connection reset"},
		{"context canceled", context.Canceled, nil, "audit: UPDATE appointments: context canceled"},
	}
	w := NewWriter(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.classify(Update, "appointments", tt.err)
			var ae *Error
			if !errors.As(err, &ae) || ae.Action != Update || ae.Table != "appointments" {
				t.Fatalf("err = %#v, want *Error for UPDATE appointments", err)
			}
			if ae.Kind != tt.wantKind {
				t.Errorf("Kind = %v, want %v", ae.Kind, tt.wantKind)
			}
			if tt.wantKind != ErrNotFound && !errors.Is(err, tt.err) {
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
	if err := w.classify(Update, "appointments", nil); err != nil {
		t.Errorf("classify(nil) = %v, want nil", err)
	}
}
