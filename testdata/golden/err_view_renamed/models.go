// Package errcase: writes through views of a PHI table whose names the schema changed after creating them (a view
// renamed or moved, a table renamed under a view): each is an error at the view's name, as for err_view_write.
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
