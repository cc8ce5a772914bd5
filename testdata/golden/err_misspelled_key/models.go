// Package errmisspelledkey: a field tag key misspelled (aduit) is refused, not read as plain PHI; so is any key
// other than audit.
package errmisspelledkey

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

type Appointment struct {
	audit.Model `table:"appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Status      string      `json:"status" Audit:"nonphi"`
	Note        pgtype.Text `aduit:"exclude"`
}
