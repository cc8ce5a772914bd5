// Package errcase: structs meant as models that do not embed audit.Model by value, and a struct with a
// model's tags but no marker. Each would leave its table with no repository and no audit triggers.
package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Person struct {
	*audit.Model `table:"people" patient:"self"`
	ID           int64
	Kind         string
	Name         string
	Secret       string
	SeenAt       pgtype.Timestamptz
}

type Visit struct {
	Meta      audit.Model `table:"visits" patient:"patient_id"`
	ID        int64
	PatientID int64
}

type Claim struct {
	Model   *audit.Model `table:"claims" patient:"visit_id -> visits.patient_id"`
	ID      int64
	VisitID int64
}

type ClaimLine struct {
	ID      int64 `table:"claim_lines" patient:"claim_id -> claims.visit_id -> visits.patient_id"`
	ClaimID int64
}

// Marker is audit.Model under another name: a field of it is no embedded audit.Model either.
type Marker = audit.Model

type Note struct {
	Marker2 Marker `table:"notes" patient:"visit_id -> visits.patient_id"`
	ID      int64
}

// Tags of other libraries on a struct that is no model are not the generator's.
type Page struct {
	Size int `json:"size" audit:"whatever" malformed`
}
