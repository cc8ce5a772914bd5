// Package okcasts: parameters cast with :: and CAST(... AS ...).
package okcasts

import (
	"github.com/auditrepo/auditrepo/audit"
)

type Appointment struct {
	audit.Model `table:"appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Status      string
	Visits      int32
}
