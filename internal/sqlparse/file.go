package sqlparse

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Statements splits a file of SQL statements as libpg_query (sqlc's parser) does: each Span runs from the end
// of the previous statement's ';' (its leading comments included) to its last byte, without its ';'. Errors
// are *Error.
func Statements(text string) ([]Span, error) {
	tree, err := parseTree(text)
	if err != nil {
		return nil, err
	}
	spans := make([]Span, len(tree.Stmts))
	for i, raw := range tree.Stmts {
		spans[i] = Span{Start: int(raw.StmtLocation), End: int(raw.StmtLocation + raw.StmtLen)}
		if raw.StmtLen == 0 { // the last statement, without a ';'
			spans[i].End = len(text)
		}
	}
	return spans, nil
}

// Schema is what a file of SQL statements (a migration, a schema file) creates, as the generator needs it.
type Schema struct {
	Tables    []Table           // see createdTables
	Views     map[Table][]Table // see views
	PlainText map[Column]bool   // see plainTextColumns
}

// ReadSchema parses a file of SQL statements once and reads its Schema. Errors are *Error.
func ReadSchema(text string) (*Schema, error) {
	tree, err := parseTree(text)
	if err != nil {
		return nil, err
	}
	return &Schema{Tables: createdTables(tree), Views: views(tree), PlainText: plainTextColumns(tree)}, nil
}

// createdTables returns the tables a file of SQL statements creates (CREATE TABLE, CREATE TABLE AS) or renames
// one to, each named as the catalog has it, unqualified ones in public. Tables it drops are not left out: a
// migration's down section drops what its up section creates.
func createdTables(tree *pg_query.ParseResult) []Table {
	var out []Table
	add := func(r *pg_query.RangeVar, rel string) {
		t := catalogName(r)
		t.Name = rel
		out = append(out, t)
	}
	for _, raw := range tree.Stmts {
		switch n := raw.Stmt.Node.(type) {
		case *pg_query.Node_CreateStmt:
			add(n.CreateStmt.Relation, n.CreateStmt.Relation.Relname)
		case *pg_query.Node_CreateTableAsStmt:
			if r := n.CreateTableAsStmt.Into.GetRel(); r != nil && n.CreateTableAsStmt.Objtype == pg_query.ObjectType_OBJECT_TABLE {
				add(r, r.Relname)
			}
		case *pg_query.Node_RenameStmt:
			if r := n.RenameStmt.Relation; r != nil && n.RenameStmt.RenameType == pg_query.ObjectType_OBJECT_TABLE {
				add(r, n.RenameStmt.Newname)
			}
		}
	}
	return out
}

// views returns the views a file of SQL statements creates (CREATE VIEW, CREATE MATERIALIZED VIEW is no view one
// can write through and is left out), each with every relation its query names, as the catalog has them,
// unqualified ones in public (a CTE's name among them: more names only make a write through the view refused
// more readily).
func views(tree *pg_query.ParseResult) map[Table][]Table {
	out := map[Table][]Table{}
	for _, raw := range tree.Stmts {
		v := raw.Stmt.GetViewStmt()
		if v == nil {
			continue
		}
		var reads []Table
		var visit func(m protoreflect.Message, _ bool) bool
		visit = func(m protoreflect.Message, _ bool) bool {
			if r, ok := m.Interface().(*pg_query.RangeVar); ok {
				reads = append(reads, catalogName(r))
			}
			return children(m, visit)
		}
		visit(v.Query.ProtoReflect(), false)
		out[catalogName(v.View)] = reads
	}
	return out
}

// catalogName is the table r names as the catalog has it, an unqualified one in public.
func catalogName(r *pg_query.RangeVar) Table {
	schema := r.Schemaname
	if schema == "" {
		schema = "public"
	}
	return Table{Schema: schema, Name: r.Relname}
}

// Column is a column of a table, named as the catalog has it.
type Column struct {
	Table
	Name string
}

// plainTextColumns reports, for each column a file of SQL statements declares (CREATE TABLE, ALTER TABLE ADD
// COLUMN) or retypes (ALTER COLUMN TYPE), whether it is text, varchar or char without a COLLATE clause: a column
// whose equality is byte equality, since a database's default collation is deterministic. Any other type (citext,
// a domain, an array) or collation is false. The files of a schema are read in order, later ones overriding.
func plainTextColumns(tree *pg_query.ParseResult) map[Column]bool {
	out := map[Column]bool{}
	for _, raw := range tree.Stmts {
		switch n := raw.Stmt.Node.(type) {
		case *pg_query.Node_CreateStmt:
			t := catalogName(n.CreateStmt.Relation)
			for _, el := range n.CreateStmt.TableElts {
				if cd := el.GetColumnDef(); cd != nil {
					out[Column{t, cd.Colname}] = plainText(cd)
				}
			}
		case *pg_query.Node_AlterTableStmt:
			t := catalogName(n.AlterTableStmt.Relation)
			for _, c := range n.AlterTableStmt.Cmds {
				cmd := c.GetAlterTableCmd()
				switch {
				case cmd == nil:
				case cmd.Subtype == pg_query.AlterTableType_AT_AddColumn:
					if cd := cmd.Def.GetColumnDef(); cd != nil {
						out[Column{t, cd.Colname}] = plainText(cd)
					}
				case cmd.Subtype == pg_query.AlterTableType_AT_AlterColumnType:
					cd := cmd.Def.GetColumnDef()
					out[Column{t, cmd.Name}] = cd != nil && plainText(cd)
				}
			}
		}
	}
	return out
}

// plainText reports whether a column definition is text, varchar or char (bpchar) with no COLLATE clause.
func plainText(cd *pg_query.ColumnDef) bool {
	tn := cd.TypeName
	if tn == nil || cd.CollClause != nil || len(tn.ArrayBounds) > 0 || tn.Setof {
		return false
	}
	var names []string
	for _, n := range tn.Names {
		names = append(names, n.GetString_().GetSval())
	}
	switch strings.Join(names, ".") {
	case "text", "pg_catalog.text", "varchar", "pg_catalog.varchar", "bpchar", "pg_catalog.bpchar":
		return true
	}
	return false
}
