// Package okselfnamedcolumn: a table with a column of its own name (allergies.allergies).
package okselfnamedcolumn

import (
	"github.com/auditrepo/auditrepo/audit"
)

type Allergy struct {
	audit.Model `table:"allergies" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Allergies   string
}
