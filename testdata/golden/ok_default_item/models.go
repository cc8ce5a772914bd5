// Package okdefaultitem: a VALUES row with a DEFAULT item: Create only, no CreateMany.
package okdefaultitem

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

type Appointment struct {
	audit.Model `table:"appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Status      string
	BookedAt    pgtype.Timestamptz `audit:"nonphi"`
	Note        pgtype.Text
}
