// Package errcase: a write to a relation sqlc's schema leaves as neither a table nor a view (here a materialized
// view): the generator cannot tell what it reaches, so it is an error at the relation's name; reading one is fine.
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
