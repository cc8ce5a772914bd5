package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/testdata/golden/err_patient_unresolved/db"
)

// visits is not declared as a model here, so the path cannot be followed.
type ClaimLine struct {
	audit.Model `table:"claim_lines" patient:"claim_id -> claims.visit_id -> visits.patient_id"`
	ID          int64
	ClaimID     int64
	Code        string
	Kind        db.ClaimLineKind
	BilledAs    db.NullClaimLineKind
}

type Claim struct {
	audit.Model `table:"claims" patient:"visit_id -> visits.patient_id"`
	ID          int64
	VisitID     int64
	Amount      pgtype.Numeric
}
