// Package okmultilineliteral: a string literal over several lines (with a backtick, "--", "/*" and "$3" inside) kept as written.
package okmultilineliteral

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
