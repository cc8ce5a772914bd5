package ir

import (
	"fmt"

	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// BodyQuote is the dollar quote the generated trigger SQL (internal/templates) encloses function bodies and DO
// blocks in: a table, column or value written inside a body must not contain it.
const BodyQuote = sqltext.BodyQuote

// AuditNameError says which of the audit names a generator run was given cannot be written into the trigger
// SQL. It is a usage error: the names come from the caller (auditrepo-gen's flags), not from the input files.
type AuditNameError struct {
	Name, Value string // Name is "schema", "table", "role" or "writer role"
}

func (e *AuditNameError) Error() string {
	return fmt.Sprintf("audit %s %q: want a name that is not empty and holds no control character and no %s, the trigger bodies' quote",
		e.Name, e.Value, BodyQuote)
}

// Check returns an *AuditNameError for the first of a's names that is empty, holds a control character or the
// trigger bodies' quote.
func (a Audit) Check() error {
	for _, n := range []struct{ name, value string }{{"schema", a.Schema}, {"table", a.Table}, {"role", a.Role}, {"writer role", a.Writer}} {
		if !sqltext.BodyName(n.value) {
			return &AuditNameError{Name: n.name, Value: n.value}
		}
	}
	return nil
}
