// Package errcase: DO and EXECUTE hide what they write from the generator; they are refused whatever they write.
// A CALL is not: like a function a query calls, a procedure's writes are recorded by the triggers.
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
