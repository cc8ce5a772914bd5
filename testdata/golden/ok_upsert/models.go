// Package okupsert: INSERT ... ON CONFLICT DO UPDATE (and DO NOTHING), in Create and CreateMany.
package okupsert

import (
	"github.com/auditrepo/auditrepo/audit"
)

type Appointment struct {
	audit.Model `table:"appointments" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Slot        string
	Status      string
}
