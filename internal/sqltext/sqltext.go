// Package sqltext writes Go values as PostgreSQL SQL text. It imports nothing outside the standard library, so
// the runtime package auditschema can use it as well as the generator (internal/ir, internal/templates) and
// cmd/auditbench: they all quote string literals the one way.
package sqltext

import (
	"strings"
	"unicode"
)

// Literal is s as an SQL string literal: s between single quotes, each ' in it doubled.
//
// A backslash is left as it is: with standard_conforming_strings on, PostgreSQL's default since 9.1, it is an
// ordinary character in '...' (only in E'...' is it an escape). s must hold no NUL byte, which no PostgreSQL text
// can: the server refuses a statement containing one.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// BodyQuote is the dollar quote the audit schema's SQL (package auditschema) and the generated trigger SQL
// (internal/templates) enclose function bodies and DO blocks in: a name or value written inside one must not
// contain it.
const BodyQuote = "$ar$"

// BodyName reports whether name may be written, as an identifier or a literal, into SQL enclosed in BodyQuote: it
// is not empty and holds no control character and no BodyQuote.
func BodyName(name string) bool {
	return name != "" && !strings.Contains(name, BodyQuote) && !strings.ContainsFunc(name, unicode.IsControl)
}
