// Package errcase: models not named as sqlc names their tables' row structs, one of a table outside public
// (sqlc's PharmacyCustomer) and one plural (sqlc's Prescription).
package errcase

import (
	"github.com/auditrepo/auditrepo/audit"
)

type Customer struct {
	audit.Model `table:"pharmacy.customers" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Name        string
}

type Prescriptions struct {
	audit.Model `table:"prescriptions" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Drug        string
}
