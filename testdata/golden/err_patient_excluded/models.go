package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

// A patient path may not go through an excluded column: every audit row carries what it leads to.
type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64 `audit:"exclude"`
	Reason      string
	Note        string
	Time        pgtype.Time
	UpdatedAt   pgtype.Timestamptz
	Intake      []byte
	Chair       pgtype.Point
}

// Nor may the condition of a self path: whether a row has a patient would show it.
type Person struct {
	audit.Model `table:"people" patient:"self if kind = 'patient'"`
	ID          int64
	Kind        string `audit:"exclude"`
	Name        string
	Secret      string `audit:"exclude"`
	SeenAt      pgtype.Timestamptz
}
