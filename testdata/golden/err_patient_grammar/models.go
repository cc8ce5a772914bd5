package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Person struct {
	audit.Model `table:"people" patient:"self when kind is patient"`
	ID          int64
	Kind        string
	Name        string
	Secret      string
	SeenAt      pgtype.Timestamptz
}
