// Package errwritingcte: writes to a PHI table inside a WITH are refused at the table.
package errwritingcte

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
