package ir

import "strings"

// Literal is s as an SQL string literal.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlTypeName returns schema.relation as a type name, both parts quoted: where a type is expected PostgreSQL
// reads fewer bare words than in an expression (a schema named time or values is a syntax error there bare).
func sqlTypeName(schema, relation string) string {
	return `"` + strings.ReplaceAll(schema, `"`, `""`) + `"."` + strings.ReplaceAll(relation, `"`, `""`) + `"`
}
