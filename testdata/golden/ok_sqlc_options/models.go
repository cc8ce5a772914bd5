// Package oksqlcoptions: sqlc's options that change its Go API (pointers for NULL, a nullable enum's included,
// result struct pointers, the DBTX as a method argument, an interface, a rename and a type override) pass through
// the generated methods.
package oksqlcoptions

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/testdata/golden/ok_sqlc_options/db"
)

type Visit struct {
	audit.Model `table:"visits" patient:"patient_id"`
	ID          int64
	PatientID   int64
	Why         *string
	SeenAt      pgtype.Timestamptz
	Fee         float64 `audit:"redact"`
	Kind        *db.VisitKind
}
