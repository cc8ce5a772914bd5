// Package errdollarquote: a column whose name holds the trigger bodies' dollar quote is refused; it would end
// the generated function's body early.
package errdollarquote

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

type Appointment struct {
	audit.Model `table:"appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Status      string
	NoteArX     pgtype.Text
}
