// Package okpointerenum: with emit_pointers_for_null_types, a nullable enum column's parameter is a pointer to
// sqlc's enum type, and CreateVisitMany sends it as text like the enum itself.
package okpointerenum

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/testdata/golden/ok_pointer_enum/db"
)

type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Kind        db.VisitKind
	FollowupOf  *db.VisitKind
	Note        *string
}
