// Package okpositional follows sqlc's emit_exported_queries and query_parameter_limit.
package okpositional

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Person struct {
	audit.Model `table:"people" patient:"self"`
	ID          int64
	Name        string
	Secret      string `audit:"redact"`
	Note        pgtype.Text
}
