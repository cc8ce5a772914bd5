// Package errpatienttypo: a patient path through a misspelled table: "no such table", and the nearest model table.
package errpatienttypo

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

type Appointment struct {
	audit.Model `table:"appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Status      string
	Note        pgtype.Text
}

type Billing struct {
	audit.Model   `table:"billings" patient:"appointment_id -> appointmnets.patient_id"`
	ID            int64
	AppointmentID int64
	Amount        pgtype.Numeric
}
