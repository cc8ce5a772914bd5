// Package errcase: a model's table needs a bigint id column that is the primary key or NOT NULL UNIQUE.
package errcase

import (
	"github.com/auditrepo/auditrepo/audit"
)

type Record struct {
	audit.Model `table:"records" patient:"patient_id"`
	Key         int64
	PatientID   int64
}

type Chart struct {
	audit.Model `table:"charts" patient:"patient_id"`
	ID          string
	PatientID   int64
}
