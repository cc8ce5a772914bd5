package errcase

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Person struct {
	audit.Model `table:"people" patient:self`
	ID          int64
	Kind        string
	Name        string
	Secret      string `audit:"exclude"`
	SeenAt      pgtype.Timestamptz
}
