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
	Memo        []byte
}
