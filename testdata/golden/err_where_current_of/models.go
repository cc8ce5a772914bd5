// Package errcurrentof: a DELETE ... WHERE CURRENT OF on a PHI table is refused: no condition can carry the claim.
package errcurrentof

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
