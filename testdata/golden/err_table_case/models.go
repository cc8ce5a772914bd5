// Package errcase: the table tag names the table as the catalog has it; a name sqlc's schema does not create (in
// another case, misspelled) is refused, not left with no wrapper for the queries that write the real table.
package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Appointment struct {
	audit.Model `table:"Appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Status      string
}

type Invoice struct {
	audit.Model `table:"public.invoice" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Amount      pgtype.Numeric
}
