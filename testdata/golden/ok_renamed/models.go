// Package okrenamed: a table created under another name and renamed, its columns renamed too, keeps its columns'
// declared types: tooth (bpchar) is compared by its length too, and installing checks the types.
package okrenamed

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

type Chart struct {
	audit.Model `table:"charts" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Tooth       interface{}
	Grade       pgtype.Text
	Note        pgtype.Text
}
