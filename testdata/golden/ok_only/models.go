// Package okonly: UPDATE ONLY and DELETE FROM ONLY, the table in parentheses or not, kept.
package okonly

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
