// Package errcase: writes through views of a PHI table (directly, or through another view) run on the table but
// carry no claim of it: each is an error at the view's name; reading a view is fine.
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
