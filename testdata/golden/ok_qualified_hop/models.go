// Package okqualifiedhop: a patient path that names its hop table with its schema (public.appointments) while
// the model's tag names it without.
package okqualifiedhop

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
	audit.Model   `table:"billings" patient:"appointment_id -> public.appointments.patient_id"`
	ID            int64
	AppointmentID int64
	Amount        pgtype.Numeric
}
