package audit

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Which errors count as a failed audit row is decided on the error alone: the server's errors below are written
// out so that every rule is exercised; writer_test.go shows the same decisions on errors from a real server.
func TestCallErr(t *testing.T) {
	inTrigger := "SQL statement \"INSERT INTO auditrepo.audit_log ...\"\nPL/pgSQL function auditrepo.audit_public_appointments() line 5 at SQL statement"
	tests := []struct {
		name     string
		err      error
		wantKind error // nil: neither ErrNotFound nor ErrAuditWrite
		wantMsg  string
	}{
		{"no rows", pgx.ErrNoRows, ErrNotFound, "audit: UPDATE appointments: record not found: no rows in result set"},
		{"constraint of the audit table, in the trigger",
			&pgconn.PgError{Severity: "ERROR", Code: "23514", Message: `new row for relation "audit_log_default" violates check constraint "fail"`, Where: inTrigger},
			ErrAuditWrite, `audit: UPDATE appointments: audit row not written, change rolled back: ERROR: new row for relation "audit_log_default" violates check constraint "fail" (SQLSTATE 23514)`},
		{"permission denied in the trigger", &pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log", Where: inTrigger}, ErrAuditWrite, ""},
		{"a message naming the audit table, outside the trigger", &pgconn.PgError{Code: "42501", Message: "permission denied for table audit_log"}, nil, ""},
		{"input value echoed in data exception", &pgconn.PgError{Code: "22P02", Message: `invalid input syntax for type integer: "PL/pgSQL function auditrepo.audit_x"`}, nil, ""},
		{"an application's trigger function named audit_", &pgconn.PgError{Code: "23514", Message: "refused", Where: "PL/pgSQL function audit_status_guard() line 2 at RAISE"}, nil, ""},
		{"an audit_ function of another schema", &pgconn.PgError{Code: "23514", Message: "refused", Where: "PL/pgSQL function app.audit_status_guard() line 2 at RAISE"}, nil, ""},
		{"the audit function's name in a statement's text", &pgconn.PgError{Code: "23514", Message: "refused",
			Where: "SQL statement \"SELECT 'PL/pgSQL function auditrepo.audit_x() line 1'\"\nPL/pgSQL function app.guard() line 3 at EXECUTE"}, nil, ""},
		{"constraint on the PHI table",
			&pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "appointments_pkey"`, TableName: "appointments"}, nil, ""},
		{"an audit_ function of a schema whose claim functions' schema the statement does not call", &pgconn.PgError{Code: "23514", Message: "refused",
			Where: "PL/pgSQL function auditrepo_claim.audit_x() line 2 at RAISE"}, nil, ""},
		{"the statement's claim function missing", &pgconn.PgError{Code: "42883", Message: "function auditrepo_claim.claim_public_appointments(text, unknown) does not exist"},
			ErrNotInstalled, ""},
		{"another function missing", &pgconn.PgError{Code: "42883", Message: "function auditrepo_claim.claim_public_users(text, unknown) does not exist"}, nil, ""},
		// The server prints names unquoted, cut to 63 bytes.
		{"the claim function of a quoted schema missing", &pgconn.PgError{Code: "42883", Message: "function Odd Audit_claim.claim_public_appointments(text, unknown) does not exist"},
			ErrNotInstalled, ""},
		{"a long claim function's name cut", &pgconn.PgError{Code: "42883", Message: "function auditrepo_claim.claim_public_appoint(text, unknown) does not exist"},
			ErrNotInstalled, ""},
		// A schema of a revision from before the claim functions' schema.
		{"the claim functions' schema missing", &pgconn.PgError{Code: "3F000", Message: `schema "auditrepo_claim" does not exist`}, ErrNotInstalled, ""},
		{"another schema missing", &pgconn.PgError{Code: "3F000", Message: `schema "ward_claim" does not exist`}, nil, ""},
		{"other error", errors.New("connection reset"), nil, "audit: UPDATE appointments: connection reset"},
		{"context canceled", context.Canceled, nil, "audit: UPDATE appointments: context canceled"},
	}
	c := NewWriter(nil).Claim(WithSystem(context.Background(), "t"), ActionUpdate, "appointments",
		"UPDATE appointments SET status = $2 WHERE (id = $1) AND auditrepo_claim.claim_public_appointments($3, 'AppointmentRepo.SetStatus')")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Err(tt.err)
			var ae *Error
			if !errors.As(err, &ae) || ae.Action != ActionUpdate || ae.Table != "appointments" {
				t.Fatalf("err = %#v, want *Error for UPDATE appointments", err)
			}
			if ae.Kind != tt.wantKind {
				t.Errorf("Kind = %v, want %v", ae.Kind, tt.wantKind)
			}
			if !errors.Is(err, tt.err) {
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
	if err := c.Err(nil); err != nil {
		t.Errorf("Err(nil) = %v, want nil", err)
	}
}

// The claim functions' schema is found from the audit schema the server names in an error's context, quoted by
// quote_identifier, as the generator quotes it in the statements (sqlparse.QuoteTypeQualifier).
func TestClaimSchemaOf(t *testing.T) {
	for schema, want := range map[string]string{
		"auditrepo":      "auditrepo_claim",
		`"time"`:         "time_claim", // a key word: quoted alone, not with _claim
		`"Odd Audit"`:    `"Odd Audit_claim"`,
		`"1x"`:           `"1x_claim"`,
		`"a""b"`:         `"a""b_claim"`,
		`"audit.schema"`: `"audit.schema_claim"`,
	} {
		if got := claimSchemaOf(schema); got != want {
			t.Errorf("claimSchemaOf(%s) = %s, want %s", schema, got, want)
		}
	}
}
