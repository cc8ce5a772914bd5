// Package okstrings: E” strings (with \' and $1 inside) and dollar quoting ($$...$1...$$) kept as literals.
package okstrings

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
