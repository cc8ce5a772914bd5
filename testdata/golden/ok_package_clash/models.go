// Package okpackageclash names its sqlc package audit, as the runtime package is named: the output imports both.
package okpackageclash

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
