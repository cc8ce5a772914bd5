// Package okgoosedown: sqlc's schema is a directory of goose migrations, whose Down sections sqlc does not read.
// The second migration makes temp a float and chair a point; its Down section makes them numeric and text again.
package okgoosedown

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

type Patient struct {
	audit.Model `table:"patients" patient:"self"`
	ID          int64
	Temp        pgtype.Float8
	Chair       pgtype.Point
}
