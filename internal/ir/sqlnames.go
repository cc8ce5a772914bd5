package ir

import (
	"fmt"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// BodyQuote is the dollar quote the generated trigger SQL (internal/templates) encloses function bodies and DO
// blocks in: a table, column or value written inside a body must not contain it.
const BodyQuote = sqltext.BodyQuote

// AuditNameError says which of the audit names a generator run was given cannot be written into the trigger
// SQL. It is a usage error: the names come from the caller (auditrepo-gen's flags), not from the input files.
type AuditNameError struct {
	Name, Value string // Name is "schema", "table", "role" or "writer role"
	Max         int    // the most bytes the name may have, when Value has more (auditschema.MaxSchemaName, ...)
}

func (e *AuditNameError) Error() string {
	if e.Max > 0 {
		return fmt.Sprintf("audit %s %q is %d bytes, more than its %d: PostgreSQL keeps 63 bytes of a name, and the SQL names others after it",
			e.Name, e.Value, len(e.Value), e.Max)
	}
	return fmt.Sprintf("audit %s %q: want a name that is not empty and holds no control character and no %s, the trigger bodies' quote",
		e.Name, e.Value, BodyQuote)
}

// Check returns an *AuditNameError for the first of a's names that is empty, holds a control character or the
// trigger bodies' quote, or is longer than auditschema.Config.Check allows.
func (a Audit) Check() error {
	for _, n := range []struct {
		name, value string
		max         int
	}{
		{"schema", a.Schema, auditschema.MaxSchemaName}, {"table", a.Table, auditschema.MaxTableName},
		{"role", a.Role, auditschema.MaxRoleName}, {"writer role", a.Writer, auditschema.MaxRoleName},
	} {
		if !sqltext.BodyName(n.value) {
			return &AuditNameError{Name: n.name, Value: n.value}
		}
		if len(n.value) > n.max {
			return &AuditNameError{Name: n.name, Value: n.value, Max: n.max}
		}
	}
	return nil
}
