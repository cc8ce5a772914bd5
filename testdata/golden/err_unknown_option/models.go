package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Reason      string
	Note        string `audit:"redact,redcat"`
	Time        pgtype.Time
	UpdatedAt   pgtype.Timestamptz
	Intake      []byte
	Chair       pgtype.Point
}
