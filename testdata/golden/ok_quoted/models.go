// Package okquoted: a quoted table name with a space and capitals, and quoted column names.
package okquoted

import (
	"github.com/auditrepo/auditrepo/audit"
	"github.com/jackc/pgx/v5/pgtype"
)

type ChartNote struct {
	audit.Model `table:"Chart Notes" patient:"Patient"`
	ID          int64
	Patient     int64
	BodyText    string
	Select      pgtype.Text
}
