// Package ok uses every tag form: a self patient with a condition, a direct patient column, one- and
// two-hop patient paths, and the exclude, redact and nonphi field classes.
package ok

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/testdata/golden/ok/db"
)

type Person struct {
	audit.Model `table:"people" patient:"self if kind = 'patient'"`
	ID          int64
	Kind        string
	Name        string
	Secret      string             `audit:"exclude"`
	SeenAt      pgtype.Timestamptz `audit:"nonphi"`
}

type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Reason      string
	Note        string `audit:"redact, nonphi"`
	Time        pgtype.Time
	UpdatedAt   pgtype.Timestamptz `audit:"nonphi"`
	Intake      []byte
	Chair       pgtype.Point
	Temp        pgtype.Float8
	Tooth       interface{}
}

type Claim struct {
	audit.Model `table:"claims" patient:"visit_id -> visits.patient_id"`
	ID          int64
	VisitID     int64
	Amount      pgtype.Numeric `audit:"redact"`
}

type ClaimLine struct {
	audit.Model `table:"claim_lines" patient:"claim_id -> claims.visit_id -> visits.patient_id"`
	ID          int64
	ClaimID     int64
	Code        string
	Kind        db.ClaimLineKind
	BilledAs    db.NullClaimLineKind
}
