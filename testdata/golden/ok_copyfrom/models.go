// Package okcopyfrom: a :copyfrom query on a table that is not a model makes sqlc's DBTX ask for CopyFrom, which
// the claimed call the repositories hand sqlc has (and refuses).
package okcopyfrom

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
