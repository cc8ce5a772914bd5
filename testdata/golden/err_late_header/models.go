// Package errcase: sqlc takes a name header on any line of its statement, but the generator judges a query from
// its header on, so a header after SQL of its statement (here a :copyfrom's INSERT INTO) is an error; comments
// before a header are not SQL.
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
