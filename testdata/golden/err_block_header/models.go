// Package errcase: sqlc's other header form, /* name: X :cmd */, is a query too; a :copyfrom query written with it,
// or right before one written with it, is judged like any other.
package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Ledger struct {
	audit.Model `table:"ledger" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Amount      pgtype.Numeric
}
