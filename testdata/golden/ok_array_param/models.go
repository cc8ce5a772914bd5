// Package okarrayparam: an INSERT :one whose parameter has no PostgreSQL array type (an array column's []string,
// a bytea column's []byte) gets Create without CreateMany; generation does not stop.
package okarrayparam

import (
	"github.com/auditrepo/auditrepo/audit"
)

type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Tags        []string
	Scan        []byte
	Intake      []byte
}
