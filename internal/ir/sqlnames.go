package ir

import (
	"errors"
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
	Same        string // another of the names naming the same role
}

func (e *AuditNameError) Error() string {
	if e.Same != "" {
		return fmt.Sprintf("audit %s %q names the %s too: the trigger functions' role must be another than the audit schema's", e.Name, e.Value, e.Same)
	}
	if e.Max > 0 {
		return fmt.Sprintf("audit %s %q is %d bytes, more than its %d: PostgreSQL keeps 63 bytes of a name, and the SQL names others after it",
			e.Name, e.Value, len(e.Value), e.Max)
	}
	return fmt.Sprintf("audit %s %q: want a name that is not empty and holds no control character and no %s, the trigger bodies' quote",
		e.Name, e.Value, BodyQuote)
}

// Check returns an *AuditNameError for the first of a's names that is empty, or that auditschema.Config.Check
// refuses (a control character, the trigger bodies' quote, longer than PostgreSQL keeps, one role for both).
func (a Audit) Check() error {
	names := map[string]string{"Schema": "schema", "Table": "table", "Audit": "role", "Writer": "writer role"}
	for _, n := range []struct{ name, value string }{{"schema", a.Schema}, {"table", a.Table}, {"role", a.Role}, {"writer role", a.Writer}} {
		if n.value == "" {
			return &AuditNameError{Name: n.name, Value: n.value}
		}
	}
	err := auditschema.Config{Schema: a.Schema, Table: a.Table, Audit: a.Role, Writer: a.Writer}.Check()
	if e, ok := errors.AsType[*auditschema.NameError](err); ok {
		return &AuditNameError{Name: names[e.Field], Value: e.Value, Max: e.Max, Same: names[e.Same]}
	}
	return err
}
