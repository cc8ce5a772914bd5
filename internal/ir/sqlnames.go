package ir

import (
	"strings"

	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// BodyQuote is the dollar quote the generated trigger SQL (internal/templates) encloses function bodies and DO
// blocks in: a table, column or value written inside a body must not contain it.
const BodyQuote = "$ar$"

// Literal is s as an SQL string literal (sqltext.Literal).
func Literal(s string) string { return sqltext.Literal(s) }

// sqlTypeName returns schema.relation as a type name, both parts quoted: where a type is expected PostgreSQL
// reads fewer bare words than in an expression (a schema named time or values is a syntax error there bare).
func sqlTypeName(schema, relation string) string {
	return `"` + strings.ReplaceAll(schema, `"`, `""`) + `"."` + strings.ReplaceAll(relation, `"`, `""`) + `"`
}
