// Package okself uses the plain self form: every row of people is a patient, and no field is tagged.
package okself

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Person struct {
	audit.Model `table:"people" patient:"self"`
	ID          int64
	Kind        string
	Name        string
	Secret      string
	SeenAt      pgtype.Timestamptz
}
