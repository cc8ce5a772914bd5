package reliability_test

// Helpers of the role, raw-write and audit-failure tests: the tables they guard, literals and error helpers.
// The fixture and the trail reader are internal/clinictest's.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/migrations"
)

// phiTables are the tables of gen/repo's models; guardedTables adds the others the application may write and
// the audit table (read as the superuser).
var (
	phiTables     = clinictest.Tables
	guardedTables = append([]string{"clinic_locations", migrations.Audit.Schema + "." + migrations.Audit.Table}, phiTables...)
)

func pgDate(y, m, d int) pgtype.Date {
	var v pgtype.Date
	_ = v.Scan(fmt.Sprintf("%04d-%02d-%02d", y, m, d))
	return v
}

func pgTime(hour int) pgtype.Time {
	return pgtype.Time{Microseconds: int64(hour) * 3600e6, Valid: true}
}

func pgNumeric(s string) pgtype.Numeric {
	var v pgtype.Numeric
	_ = v.Scan(s)
	return v
}

func ptrStr[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

func eqPtr(p *int64, want int64, valid bool) bool {
	if !valid {
		return p == nil
	}
	return p != nil && *p == want
}

// execAs runs one statement on q and returns its error.
func execAs(q db.DBTX, sql string, args ...any) error {
	_, err := q.Exec(context.Background(), sql, args...)
	return err
}

// queryIDs runs a statement that returns ids (INSERT ... RETURNING id).
func queryIDs(t *testing.T, q db.DBTX, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := q.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", firstLine(sql), err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", firstLine(sql), err)
	}
	return ids
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
