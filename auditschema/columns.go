package auditschema

import (
	"fmt"
	"strings"
)

// Column is a column of the audit table as the schema SQL creates it: its name and its type as the SQL writes
// it (a domain qualified with the audit schema), which to_regtype reads.
type Column struct {
	Name, Type string
}

// AuditColumns returns the audit table's columns, in order, as c's schema SQL (sql/v1.sql) creates them: the one
// place the expected columns and types come from, for whatever checks that an audit table is still the one it
// installed.
func (c Config) AuditColumns() ([]Column, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	v := c.view()
	sql, err := render("v1.sql", schemaView{view: v})
	if err != nil {
		return nil, err
	}
	head := "CREATE TABLE " + v.S + "." + v.T + " ("
	_, body, ok := strings.Cut(sql, "\n"+head+"\n")
	if !ok {
		return nil, fmt.Errorf("auditschema: the schema SQL has no %s", head)
	}
	body, _, ok = strings.Cut(body, "\n)")
	if !ok {
		return nil, fmt.Errorf("auditschema: the schema SQL's %s does not end", head)
	}
	// A type ends at the first constraint or default of its column.
	ends := map[string]bool{"NOT": true, "NULL": true, "DEFAULT": true, "GENERATED": true, "PRIMARY": true,
		"REFERENCES": true, "CHECK": true, "UNIQUE": true, "COLLATE": true, "CONSTRAINT": true}
	var cols []Column
	for line := range strings.SplitSeq(body, "\n") {
		line, _, _ = strings.Cut(line, "--")
		words := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ","))
		if len(words) < 2 || ends[words[0]] || words[0] == "FOREIGN" || words[0] == "EXCLUDE" {
			continue
		}
		n := 1
		for n < len(words) && !ends[words[n]] {
			n++
		}
		cols = append(cols, Column{Name: words[0], Type: strings.Join(words[1:n], " ")})
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("auditschema: the schema SQL's %s has no columns", head)
	}
	return cols, nil
}
