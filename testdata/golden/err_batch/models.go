// Package errcase: sqlc's batch commands are refused, each with the command to write instead.
package errcase

import (
	"github.com/auditrepo/auditrepo/audit"
)

type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Reason      string
}
