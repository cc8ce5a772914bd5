// Package okschemaqualified: PHI tables named with their schema in the queries (public.appointments) and in a table tag (public.billings).
package okschemaqualified

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

type Billing struct {
	audit.Model `table:"public.billings" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Amount      pgtype.Numeric
}
