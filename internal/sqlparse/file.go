package sqlparse

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
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

// CreatedTables returns the tables a file of SQL statements creates (CREATE TABLE, CREATE TABLE AS) or renames
// one to, each named as the catalog has it, unqualified ones in public. Tables it drops are not left out: a
// migration's down section drops what its up section creates. Errors are *Error.
func CreatedTables(text string) ([]Table, error) {
	tree, err := parseTree(text)
	if err != nil {
		return nil, err
	}
	var out []Table
	add := func(r *pg_query.RangeVar, rel string) {
		schema := r.Schemaname
		if schema == "" {
			schema = "public"
		}
		out = append(out, Table{Schema: schema, Name: rel})
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
	return out, nil
}
