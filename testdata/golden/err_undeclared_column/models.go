package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

// Note is missing: every column must be declared, so none reaches the trail (or stays out of it) unreviewed.
type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Reason      string
	Time        pgtype.Time
	UpdatedAt   pgtype.Timestamptz
	Intake      []byte
	Chair       pgtype.Point
}
