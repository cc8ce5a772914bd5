package sqlparse

import (
	"maps"
	"slices"
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

// Schema is a file of SQL statements (a migration, a schema file), parsed once, for Relations.Read.
type Schema struct {
	tree *pg_query.ParseResult
}

// ReadSchema parses a file of SQL statements. Errors are *Error.
func ReadSchema(text string) (*Schema, error) {
	tree, err := parseTree(text)
	if err != nil {
		return nil, err
	}
	return &Schema{tree: tree}, nil
}

// Relations follows the tables, views and types a schema's files make, as PostgreSQL runs them, in order: it knows
// each as the object it is, so that a view reads the tables and views it was made on, and a column is of the type
// it was declared of, whatever they are renamed or moved to later, as PostgreSQL's views and columns do. Relations
// and types share a schema's names, as in PostgreSQL, where a relation's row type is a type named as it.
//
// Relations are named as sqlc names them: an unqualified name is public's, whatever the search path (sqlc's catalog
// ignores SET search_path). Types are named as PostgreSQL names them: an unqualified one is created in, and looked
// up along, the search path the files set (SET [LOCAL] search_path, SET SCHEMA, RESET, set_config), pg_catalog
// searched first unless the path names it.
type Relations struct {
	byName map[Table]*relation
	path   searchPath
}

// relation is a relation or a type, as made.
type relation struct {
	name Table
	kind relKind
	// cols are a table's columns whose declarations were read (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE), by
	// their names now (RENAME COLUMN), with their declared types.
	cols map[string]ColumnType
	// reads are what a view's query names: the relations it named when it was made (made again by CREATE OR
	// REPLACE), and the names that named none then (a CTE's, say), kept as written.
	reads   []*relation
	unbound []Table
	// parts are the types made with it, which go with it when it is dropped (a range's multirange).
	parts []*relation
	// deps are the objects of the files' (types, or relations: their row types) that a domain's base type or a
	// range's subtype names, an array's element type for an array: PostgreSQL drops the domain or range with any
	// of them (DROP ... CASCADE, or DROP SCHEMA), and the types and columns of it in turn. A composite type's
	// attributes are none: PostgreSQL drops the attribute, the composite type stays.
	deps []*relation
	// foreign are the base or subtype names that named no object of the files' and no pg_catalog builtin: a type
	// the files do not describe (an extension's, one made before them), which a statement the replay cannot bind
	// to an object may drop, rename or move.
	foreign []foreignDep
	// unsure: the type may be gone, dropped with a dependency the replay cannot follow (see foreign), or it
	// depends on a type that may be. A name that resolves to it is unsure (see ColumnType.unsure).
	unsure bool
}

// foreignDep is a dependency on a type the files do not describe: its name as written, and the schemas it may be
// in (its own when qualified, else the search path's when it was named, pg_catalog aside: its types stay).
type foreignDep struct {
	name    Table
	schemas []string
}

type relKind int

const (
	relTable relKind = iota
	relView
	relOther  // a foreign table, a materialized view: neither a table the generator audits nor a view it follows
	typeEnum  // CREATE TYPE ... AS ENUM
	typeOther // a domain, a composite, range, multirange or base type
)

// isRel: an object of kind k is a relation (ALTER TABLE and its kin name it), not a type (ALTER TYPE, DOMAIN).
func (k relKind) isRel() bool { return k <= relOther }

// NewRelations returns the relations of an empty schema.
func NewRelations() *Relations {
	return &Relations{byName: map[Table]*relation{}, path: searchPath{schemas: map[string]schemaState{}, extensions: map[string]bool{}}}
}

// Read replays what a file's statements (its Schema) do to the schema's relations and types, and to the search
// path types are resolved along.
//
// Relations: CREATE TABLE (AS), CREATE [OR REPLACE] VIEW, CREATE FOREIGN TABLE and MATERIALIZED VIEW, a relation's
// RENAME TO and SET SCHEMA (by ALTER TABLE, VIEW, MATERIALIZED VIEW or FOREIGN TABLE: PostgreSQL lets ALTER TABLE
// rename or move a view), ALTER SCHEMA ... RENAME TO, and DROP of a relation (CASCADE dropping the views that read
// it) or of a schema; and a table's columns, which CREATE TABLE declares: ALTER TABLE's ADD COLUMN, ALTER COLUMN
// TYPE, DROP COLUMN and RENAME COLUMN, applied to the relation the statement's name names when it runs.
//
// Types: CREATE TYPE (enum, composite, range and its multirange, base or shell) and CREATE DOMAIN, ALTER TYPE and
// ALTER DOMAIN's RENAME TO and SET SCHEMA, ALTER SCHEMA ... RENAME TO, DROP TYPE and DOMAIN, DROP SCHEMA. Dropping
// a type or a relation drops the columns of its type, and the domains and ranges over it with theirs (PostgreSQL
// refuses the drop without CASCADE, which drops them). A domain or range over a type the files do not describe is
// unsure after a statement that may have dropped, renamed or moved that type (DROP EXTENSION among them): so is a
// name that resolves to it. A column's declared type is bound when it is declared: a later type of the name it was
// declared with is not its type.
//
// The search path: SET [LOCAL] search_path TO (or =) ..., SET SCHEMA, SET search_path TO DEFAULT, RESET
// search_path, RESET ALL, and SELECT [pg_catalog.]set_config('search_path', '...', false|true) with constant
// arguments and no FROM. A session's setting holds for the later files too (they run in one session, in order); a
// transaction's (SET LOCAL, set_config(..., true)) until its COMMIT, ROLLBACK or END, or the end of its file (which
// a migration tool runs in a transaction). CREATE EXTENSION tells which schemas hold types the files do not
// describe.
func (rs *Relations) Read(sc *Schema) {
	for _, raw := range sc.tree.Stmts {
		switch n := raw.Stmt.Node.(type) {
		case *pg_query.Node_CreateStmt:
			if rel := rs.make(n.CreateStmt.Relation, relTable, n.CreateStmt.IfNotExists); rel != nil {
				for _, el := range n.CreateStmt.TableElts {
					if cd := el.GetColumnDef(); cd != nil {
						rel.cols[cd.Colname] = rs.columnType(cd)
					}
				}
			}
		case *pg_query.Node_AlterTableStmt:
			if a := n.AlterTableStmt; a.Relation != nil {
				if rel := rs.relation(catalogName(a.Relation)); rel != nil {
					rs.alterColumns(rel, a.Cmds)
				}
			}
		case *pg_query.Node_CreateForeignTableStmt:
			if b := n.CreateForeignTableStmt.BaseStmt; b != nil {
				rs.make(b.Relation, relOther, b.IfNotExists)
			}
		case *pg_query.Node_CreateTableAsStmt:
			kind := relOther
			if n.CreateTableAsStmt.Objtype == pg_query.ObjectType_OBJECT_TABLE {
				kind = relTable
			}
			if r := n.CreateTableAsStmt.Into.GetRel(); r != nil {
				rs.make(r, kind, n.CreateTableAsStmt.IfNotExists)
			}
		case *pg_query.Node_ViewStmt:
			rs.view(n.ViewStmt)
		case *pg_query.Node_CreateEnumStmt:
			rs.makeType(n.CreateEnumStmt.TypeName, typeEnum)
		case *pg_query.Node_CreateDomainStmt:
			rs.depend(rs.makeType(n.CreateDomainStmt.Domainname, typeOther), n.CreateDomainStmt.TypeName)
		case *pg_query.Node_CompositeTypeStmt:
			if r := n.CompositeTypeStmt.Typevar; r != nil {
				rs.newType(rs.path.creationName(r.Schemaname, r.Relname), typeOther)
			}
		case *pg_query.Node_CreateRangeStmt:
			rs.makeRange(n.CreateRangeStmt)
		case *pg_query.Node_DefineStmt:
			if d := n.DefineStmt; d.Kind == pg_query.ObjectType_OBJECT_TYPE {
				// CREATE TYPE name (...) completes the shell type CREATE TYPE name made: the same type.
				if name, ok := rs.path.creationNameOf(d.Defnames); ok {
					if old := rs.byName[name]; old == nil || old.kind != typeOther {
						rs.newType(name, typeOther)
					}
				}
			}
		case *pg_query.Node_CreateSchemaStmt:
			// A schema CREATE SCHEMA IF NOT EXISTS names may be one made before the files, with types of its own.
			if c := n.CreateSchemaStmt; c.Schemaname != "" && (!c.IfNotExists || rs.path.schemas[c.Schemaname] == schemaGone) {
				rs.path.schemas[c.Schemaname] = schemaMade
			}
		case *pg_query.Node_CreateExtensionStmt:
			rs.extension(n.CreateExtensionStmt)
		case *pg_query.Node_VariableSetStmt:
			rs.path.set(n.VariableSetStmt)
		case *pg_query.Node_SelectStmt:
			rs.path.setConfig(n.SelectStmt)
		case *pg_query.Node_TransactionStmt:
			switch n.TransactionStmt.Kind {
			case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK,
				pg_query.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED,
				pg_query.TransactionStmtKind_TRANS_STMT_PREPARE:
				rs.path.endTransaction()
			}
		case *pg_query.Node_RenameStmt:
			r := n.RenameStmt
			switch {
			case r.RenameType == pg_query.ObjectType_OBJECT_SCHEMA:
				rs.moveSchema(r.Subname, r.Newname)
			case isRelation(r.RenameType) && r.Relation != nil:
				if rel := rs.relation(catalogName(r.Relation)); rel != nil {
					rs.rename(rel, Table{Schema: rel.name.Schema, Name: r.Newname})
				} else {
					rs.foreignGone(rangeVarNames(r.Relation))
				}
			case isType(r.RenameType):
				if t := rs.typeNamed(r.Object.GetList().GetItems()); t != nil {
					rs.rename(t, Table{Schema: t.name.Schema, Name: r.Newname})
				} else {
					rs.foreignGone(nodeNames(r.Object.GetList().GetItems()))
				}
			case r.RenameType == pg_query.ObjectType_OBJECT_COLUMN && r.Relation != nil:
				if rel := rs.relation(catalogName(r.Relation)); rel != nil {
					ct, ok := rel.cols[r.Subname]
					delete(rel.cols, r.Subname)
					delete(rel.cols, r.Newname)
					if ok {
						rel.cols[r.Newname] = ct
					}
				}
			}
		case *pg_query.Node_AlterObjectSchemaStmt:
			a := n.AlterObjectSchemaStmt
			switch {
			case isRelation(a.ObjectType) && a.Relation != nil:
				if rel := rs.relation(catalogName(a.Relation)); rel != nil {
					rs.rename(rel, Table{Schema: a.Newschema, Name: rel.name.Name})
				} else {
					rs.foreignGone(rangeVarNames(a.Relation))
				}
			case isType(a.ObjectType):
				if t := rs.typeNamed(a.Object.GetList().GetItems()); t != nil {
					rs.rename(t, Table{Schema: a.Newschema, Name: t.name.Name})
				} else {
					rs.foreignGone(nodeNames(a.Object.GetList().GetItems()))
				}
			}
		case *pg_query.Node_DropStmt:
			d := n.DropStmt
			cascade := d.Behavior == pg_query.DropBehavior_DROP_CASCADE
			switch {
			case d.RemoveType == pg_query.ObjectType_OBJECT_SCHEMA:
				for _, o := range d.Objects {
					s := o.GetString_().GetSval()
					for _, rel := range slices.Collect(maps.Values(rs.byName)) {
						if rel.name.Schema == s {
							rs.drop(rel, true)
						}
					}
					rs.path.schemas[s] = schemaGone
					delete(rs.path.extensions, s)
					rs.foreignSchemaGone(s)
				}
			case isRelation(d.RemoveType):
				for _, o := range d.Objects {
					if rel := rs.relation(relationName(o.GetList().GetItems())); rel != nil {
						rs.drop(rel, cascade)
					} else {
						rs.foreignGone(nodeNames(o.GetList().GetItems()))
					}
				}
			case isType(d.RemoveType):
				for _, o := range d.Objects {
					if t := rs.typeNamed(o.GetTypeName().GetNames()); t != nil {
						rs.drop(t, cascade)
					} else {
						rs.foreignGone(nodeNames(o.GetTypeName().GetNames()))
					}
				}
			case d.RemoveType == pg_query.ObjectType_OBJECT_EXTENSION:
				// An extension's types are not described: any type the files do not make may be one of them.
				rs.markForeign(func(foreignDep) bool { return true })
			}
		}
	}
	rs.path.endTransaction() // a migration tool runs each file in a transaction
}

// isRelation: an object of type o is a table, view, materialized view or foreign table.
func isRelation(o pg_query.ObjectType) bool {
	switch o {
	case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW, pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		return true
	}
	return false
}

// isType: an object of type o is a type or a domain.
func isType(o pg_query.ObjectType) bool {
	return o == pg_query.ObjectType_OBJECT_TYPE || o == pg_query.ObjectType_OBJECT_DOMAIN
}

// relation is the relation named name (as sqlc names it), nil if none is (a type may be).
func (rs *Relations) relation(name Table) *relation {
	if rel := rs.byName[name]; rel != nil && rel.kind.isRel() {
		return rel
	}
	return nil
}

// typeNamed is the type (not a relation's row type: ALTER TYPE and DROP TYPE refuse one) that a qualified name
// (a List's or a TypeName's items) names now, found along the search path when unqualified; nil if none the files
// made is.
func (rs *Relations) typeNamed(nodes []*pg_query.Node) *relation {
	if t := rs.lookup(nodeNames(nodes)); t != nil && !t.kind.isRel() {
		return t
	}
	return nil
}

// nodeNames are the names of a qualified name's String nodes.
func nodeNames(nodes []*pg_query.Node) []string {
	var names []string
	for _, n := range nodes {
		names = append(names, n.GetString_().GetSval())
	}
	return names
}

// lookup is the object of the files' (a type, or a relation, whose row type is a type) that the qualified type name
// names now, as PostgreSQL looks a type name up: a qualified one in its schema, an unqualified one along the search
// path, pg_catalog first unless the path names it. Of pg_catalog's types it knows only builtins' names: any other
// name is looked up past it (installing then checks that the name the generator prints is the column's type). nil
// when no object of the files' is named so.
func (rs *Relations) lookup(names []string) *relation {
	switch len(names) {
	case 2:
		return rs.byName[Table{Schema: names[0], Name: names[1]}]
	case 1:
		for _, s := range rs.path.order() {
			if s == "pg_catalog" {
				if builtin[names[0]] {
					return nil
				}
				continue
			}
			if t := rs.byName[Table{Schema: s, Name: names[0]}]; t != nil {
				return t
			}
		}
	}
	return nil
}

// make records a relation of kind named by r, unless ifNotExists and one has its name.
func (rs *Relations) make(r *pg_query.RangeVar, kind relKind, ifNotExists bool) *relation {
	name := catalogName(r)
	if old := rs.byName[name]; old != nil && ifNotExists {
		return nil
	}
	rel := &relation{name: name, kind: kind, cols: map[string]ColumnType{}}
	rs.byName[name] = rel
	return rel
}

// makeType records a type of kind named by a qualified name (a TypeName's items), created along the search path
// when unqualified.
func (rs *Relations) makeType(nodes []*pg_query.Node, kind relKind) *relation {
	name, ok := rs.path.creationNameOf(nodes)
	if !ok {
		return nil
	}
	return rs.newType(name, kind)
}

// newType records a type of kind named name.
func (rs *Relations) newType(name Table, kind relKind) *relation {
	t := &relation{name: name, kind: kind, cols: map[string]ColumnType{}}
	rs.byName[name] = t
	return t
}

// makeRange records a range type and the multirange type PostgreSQL makes with it, in its schema: named by its
// multirange_type_name, else the range's with "range" replaced by "multirange", else with "_multirange" added.
func (rs *Relations) makeRange(c *pg_query.CreateRangeStmt) {
	r := rs.makeType(c.TypeName, typeOther)
	if r == nil {
		return
	}
	multi := Table{}
	for _, p := range c.Params {
		if d := p.GetDefElem(); d != nil && d.Defname == "subtype" {
			rs.depend(r, d.Arg.GetTypeName())
		}
		if d := p.GetDefElem(); d != nil && d.Defname == "multirange_type_name" {
			names := nodeNames(d.Arg.GetTypeName().GetNames())
			switch len(names) {
			case 1:
				multi = Table{Schema: r.name.Schema, Name: names[0]}
			case 2:
				multi = Table{Schema: names[0], Name: names[1]}
			}
		}
	}
	if multi.Name == "" {
		multi = Table{Schema: r.name.Schema, Name: r.name.Name + "_multirange"}
		if i := strings.Index(r.name.Name, "range"); i >= 0 {
			multi.Name = r.name.Name[:i] + "multirange" + r.name.Name[i+len("range"):]
		}
	}
	m := rs.newType(multi, typeOther)
	m.unsure = r.unsure
	r.parts = append(r.parts, m)
}

// depend records that t (a domain, a range) is over the type tn names now (an array's: its element type's, which
// the array type goes with): an object of the files' (deps), or another type, not a pg_catalog builtin (foreign).
// A name that resolves to a type that may be gone, or that the replay cannot read, leaves t unsure.
func (rs *Relations) depend(t *relation, tn *pg_query.TypeName) {
	if t == nil {
		return
	}
	if tn == nil || tn.Setof || tn.PctType {
		t.unsure = true
		return
	}
	names := nodeNames(tn.Names)
	var written Table
	switch len(names) {
	case 1:
		written = Table{Name: names[0]}
	case 2:
		written = Table{Schema: names[0], Name: names[1]}
	default:
		t.unsure = true
		return
	}
	if d := rs.lookup(names); d != nil {
		t.deps = append(t.deps, d)
		t.unsure = t.unsure || d.unsure
		return
	}
	if written.Schema == "pg_catalog" || written.Schema == "" && builtin[written.Name] {
		return
	}
	dep := foreignDep{name: written, schemas: []string{written.Schema}}
	if written.Schema == "" {
		dep.schemas = slices.DeleteFunc(rs.path.order(), func(s string) bool { return s == "pg_catalog" })
	}
	t.foreign = append(t.foreign, dep)
}

// foreignGone follows a DROP, RENAME or SET SCHEMA of a type or relation the files do not make (names: its
// qualified name as written): the types over a type the files do not describe of that name may be gone, or over
// a type by a name it no longer has, which a later statement may drop by its new one.
func (rs *Relations) foreignGone(names []string) {
	var name Table
	switch len(names) {
	case 1:
		name = Table{Name: names[0]}
	case 2:
		name = Table{Schema: names[0], Name: names[1]}
	default:
		rs.markForeign(func(foreignDep) bool { return true })
		return
	}
	rs.markForeign(func(f foreignDep) bool {
		return f.name.Name == name.Name && (name.Schema == "" || slices.Contains(f.schemas, name.Schema))
	})
}

// foreignSchemaGone follows a DROP or RENAME of schema s: the types over a type the files do not describe that may
// be s's may be gone, or over a type whose schema has another name now.
func (rs *Relations) foreignSchemaGone(s string) {
	rs.markForeign(func(f foreignDep) bool { return slices.Contains(f.schemas, s) })
}

// markForeign marks unsure the types with a foreign dependency that gone reports.
func (rs *Relations) markForeign(gone func(foreignDep) bool) {
	for _, t := range slices.Collect(maps.Values(rs.byName)) {
		if slices.ContainsFunc(t.foreign, gone) {
			rs.markUnsure(t)
		}
	}
}

// markUnsure marks t unsure (it may be gone), with the types that depend on it, the types made with it, and the
// columns of it (a column of a type dropped is dropped).
func (rs *Relations) markUnsure(t *relation) {
	if t.unsure { // already: what depends on it was marked, or made since, unsure
		return
	}
	t.unsure = true
	for _, p := range t.parts {
		rs.markUnsure(p)
	}
	for _, other := range slices.Collect(maps.Values(rs.byName)) {
		for c, ct := range other.cols {
			if ct.obj == t {
				ct.obj, ct.unsure = nil, true
				other.cols[c] = ct
			}
		}
		if slices.Contains(other.deps, t) {
			rs.markUnsure(other)
		}
	}
}

// extension records that CREATE EXTENSION puts types the files do not describe in its schema: the one its SCHEMA
// clause names, else the search path's first.
func (rs *Relations) extension(c *pg_query.CreateExtensionStmt) {
	schema := ""
	for _, o := range c.Options {
		if d := o.GetDefElem(); d != nil && d.Defname == "schema" {
			schema = d.Arg.GetString_().GetSval()
		}
	}
	if schema == "" {
		schema = rs.path.creationName("", "").Schema
	}
	rs.path.extensions[schema] = true
}

// view records a view, binding the relations its query names to those of the schema now. CREATE OR REPLACE of a
// view keeps it (the views reading it read the new query).
func (rs *Relations) view(v *pg_query.ViewStmt) {
	var names []Table
	var visit func(m protoreflect.Message, _ bool) bool
	visit = func(m protoreflect.Message, _ bool) bool {
		if r, ok := m.Interface().(*pg_query.RangeVar); ok {
			names = append(names, catalogName(r))
		}
		return children(m, visit)
	}
	visit(v.Query.ProtoReflect(), false)
	rel := rs.relation(catalogName(v.View))
	if rel == nil || !v.Replace || rel.kind != relView {
		rel = rs.make(v.View, relView, false)
	}
	rel.reads, rel.unbound = nil, nil
	for _, n := range names {
		if r := rs.relation(n); r != nil {
			rel.reads = append(rel.reads, r)
		} else {
			rel.unbound = append(rel.unbound, n)
		}
	}
}

// rename gives rel another name (or schema).
func (rs *Relations) rename(rel *relation, to Table) {
	if rs.byName[rel.name] == rel {
		delete(rs.byName, rel.name)
	}
	rel.name = to
	rs.byName[to] = rel
}

// moveSchema renames schema from to to, with its relations and types.
func (rs *Relations) moveSchema(from, to string) {
	rs.foreignSchemaGone(from)
	for _, rel := range slices.Collect(maps.Values(rs.byName)) {
		if rel.name.Schema == from {
			rs.rename(rel, Table{Schema: to, Name: rel.name.Name})
		}
	}
	rs.path.schemas[to] = rs.path.schemas[from]
	if rs.path.schemas[to] == schemaGone {
		rs.path.schemas[to] = schemaMade
	}
	rs.path.schemas[from] = schemaGone
	rs.path.extensions[to] = rs.path.extensions[from]
	delete(rs.path.extensions, from)
}

// drop removes rel, the columns of its type, the types made with it, the domains and ranges over it (deps) with
// their columns, and, with cascade, the views that read it (PostgreSQL refuses a drop without CASCADE that would
// leave a view without its relation, a column without its type, or a domain without its base type).
func (rs *Relations) drop(rel *relation, cascade bool) {
	if rs.byName[rel.name] != rel {
		return
	}
	delete(rs.byName, rel.name)
	for _, p := range rel.parts {
		rs.drop(p, cascade)
	}
	for _, other := range rs.byName {
		for c, ct := range other.cols {
			if ct.obj == rel {
				delete(other.cols, c)
			}
		}
	}
	for _, t := range slices.Collect(maps.Values(rs.byName)) {
		if slices.Contains(t.deps, rel) {
			rs.drop(t, true)
		}
	}
	if !cascade {
		return
	}
	for _, v := range slices.Collect(maps.Values(rs.byName)) {
		if slices.Contains(v.reads, rel) {
			rs.drop(v, true)
		}
	}
}

// Tables are the tables the schema has now (CREATE TABLE, CREATE TABLE AS, renamed or moved since).
func (rs *Relations) Tables() map[Table]bool {
	out := map[Table]bool{}
	for name, rel := range rs.byName {
		if rel.kind == relTable {
			out[name] = true
		}
	}
	return out
}

// Columns are the columns of the tables the schema has now (Tables) whose declarations were read, by their names
// now, each with its declared type: a table renamed or moved keeps its columns, a table dropped and made again
// has only the new one's.
func (rs *Relations) Columns() map[Column]ColumnType {
	out := map[Column]ColumnType{}
	for name, rel := range rs.byName {
		if rel.kind != relTable {
			continue
		}
		for c, ct := range rel.cols {
			out[Column{name, c}] = ct
		}
	}
	return out
}

// Views are the views the schema has now, each with the relations its query names, by the names they have now
// (a relation it named and that was dropped since by its last name), and the names that named no relation when it
// was made (a CTE's name among them: more names only make a write through the view refused more readily).
func (rs *Relations) Views() map[Table][]Table {
	out := map[Table][]Table{}
	for name, rel := range rs.byName {
		if rel.kind != relView {
			continue
		}
		reads := []Table{}
		for _, r := range rel.reads {
			reads = append(reads, r.name)
		}
		out[name] = append(reads, rel.unbound...)
	}
	return out
}

// catalogName is the relation r names as sqlc names it: an unqualified one in public, whatever the search path.
func catalogName(r *pg_query.RangeVar) Table {
	return qualified(r.Schemaname, r.Relname)
}

// qualified is the object named name in schema, or in public when schema is "".
func qualified(schema, name string) Table {
	if schema == "" {
		schema = "public"
	}
	return Table{Schema: schema, Name: name}
}

// rangeVarNames are a RangeVar's qualified name's parts, as written.
func rangeVarNames(r *pg_query.RangeVar) []string {
	if r.Schemaname != "" {
		return []string{r.Schemaname, r.Relname}
	}
	return []string{r.Relname}
}

// relationName is the relation a qualified name (a List's items) names, as sqlc names it: an unqualified one in public;
// zero when it has more than two parts.
func relationName(nodes []*pg_query.Node) Table {
	switch names := nodeNames(nodes); len(names) {
	case 1:
		return qualified("", names[0])
	case 2:
		return qualified(names[0], names[1])
	}
	return Table{}
}

// Column is a column of a table, named as the catalog has it.
type Column struct {
	Table
	Name string
}

// ColumnType is what a column's declared type tells of its equality and of its text.
type ColumnType struct {
	// Type is the declared type's name, arrays and collation aside, as written: Schema "" when unqualified. Zero
	// when unread.
	Type Table
	// obj is the type (or relation: its row type) of the files' that the declaration named when it ran, nil when
	// it named none of theirs (a built-in, an extension's type).
	obj *relation
	// unsure: the declaration names, unqualified, a type the files do not make, along a search path with a schema
	// whose types the files do not describe (see searchPath.opaque): the generator cannot tell which type it is.
	unsure bool
	// PlainText: pg_catalog's text, varchar or char (bpchar) with no COLLATE clause, whose equality is byte
	// equality, since a database's default collation is deterministic.
	PlainText bool
	// Padded: pg_catalog's char (bpchar), no array, COLLATE clause or not. Its equality and its cast to text drop
	// trailing spaces, which its images keep: unbounded (bpchar), 'a' and 'a  ' are stored as written.
	Padded bool
	// Array: the column is an array of Type (any number of dimensions, bounds or not, which PostgreSQL ignores).
	Array bool
	// collated: a COLLATE clause.
	collated bool
}

// Resolved is the column's type, for installing to check that the database's column is of it (see auditschema's
// model_problems): a type of the files' by the name it has now, schema-qualified (a type renamed, moved, or its
// schema renamed is the column's still); another qualified name as written; another unqualified name alone, which
// installing resolves in pg_catalog first, else in public, as PostgreSQL did when the files ran with no other
// schema on their search path. Names are quoted where to_regtype would fold or misread them (an unqualified name's
// key words too: "char" is not char), and an array is its element type's name followed by []. The SQL standard's
// spellings (bigint, double precision, char(n)) are pg_catalog's names already, qualified, as the parser gives
// them; serial's and its kin's are their integer types, pg_catalog's. It is "" when the declaration was not read,
// or names a type the generator cannot tell (unsure), which installing then does not check by name.
func (ct ColumnType) Resolved() string {
	t := ct.Type
	switch {
	case t.Name == "" || ct.unsure:
		return ""
	case ct.obj != nil:
		t = ct.obj.name
	case t.Schema == "" && !ct.Array && serials[t.Name] != "":
		t = Table{Schema: "pg_catalog", Name: serials[t.Name]}
	}
	out := QuoteTypeQualifier(t.Name)
	if t.Schema != "" {
		out = QuoteTypeQualifier(t.Schema) + "." + quote(t.Name)
	}
	if ct.Array {
		out += "[]"
	}
	return out
}

// serials are the names CREATE TABLE and ALTER TABLE ADD COLUMN take, unqualified, for an integer column with a
// sequence as its default, and the integer type each makes.
var serials = map[string]string{"smallserial": "int2", "serial2": "int2", "serial": "int4", "serial4": "int4",
	"bigserial": "int8", "serial8": "int8"}

// Exact reports whether the equality of a column of type ct is exact: pg_catalog's text, varchar or char with no
// COLLATE clause, or an enum of the files', no array.
func (ct ColumnType) Exact() bool {
	return ct.PlainText || ct.obj != nil && ct.obj.kind == typeEnum && !ct.Array && !ct.collated
}

// FloatFree reports whether the text and JSON forms of a column of type ct depend on no extra_float_digits: it
// is a built-in type that prints no float (floatFree), or an enum of the files', or an array of one. A float, a
// geometric type, and a type the schema does not tell (a domain, composite or range, an extension's) may print
// floats by it.
func (ct ColumnType) FloatFree() bool {
	t := ct.Type
	switch {
	case t.Name == "":
		return false
	case ct.obj != nil:
		return ct.obj.kind == typeEnum
	}
	return (t.Schema == "" && !ct.unsure || t.Schema == "pg_catalog") && floatFree[t.Name]
}

// floatFree are the built-in types whose text and JSON forms print no float, named as libpg_query names them
// (the SQL standard's spellings become pg_catalog's names: integer is pg_catalog.int4).
var floatFree = map[string]bool{}

// builtin are pg_catalog's types whose names the generator's verdicts rest on, floatFree's (text, varchar and
// bpchar among them, and serial's kin): an unqualified one is pg_catalog's, searched first, unless the search
// path lists a schema before pg_catalog that has a type of that name.
var builtin = floatFree

func init() {
	for _, n := range strings.Fields(`bool int2 int4 int8 smallserial serial2 serial serial4 bigserial serial8 oid
		numeric money text varchar bpchar char name bytea json jsonb jsonpath xml uuid bit varbit
		date time timetz timestamp timestamptz interval inet cidr macaddr macaddr8 tsvector tsquery pg_lsn xid8
		int4range int8range numrange daterange tsrange tstzrange
		int4multirange int8multirange nummultirange datemultirange tsmultirange tstzmultirange`) {
		floatFree[n] = true
	}
}

// alterColumns applies an ALTER TABLE's commands to the declarations of rel's columns: ADD COLUMN declares one,
// ALTER COLUMN TYPE declares it again (unread when its type is not given), DROP COLUMN removes it.
func (rs *Relations) alterColumns(rel *relation, cmds []*pg_query.Node) {
	for _, c := range cmds {
		cmd := c.GetAlterTableCmd()
		switch {
		case cmd == nil:
		case cmd.Subtype == pg_query.AlterTableType_AT_AddColumn:
			if cd := cmd.Def.GetColumnDef(); cd != nil {
				if _, ok := rel.cols[cd.Colname]; !ok || !cmd.MissingOk { // ADD COLUMN IF NOT EXISTS keeps the column
					rel.cols[cd.Colname] = rs.columnType(cd)
				}
			}
		case cmd.Subtype == pg_query.AlterTableType_AT_AlterColumnType:
			var ct ColumnType
			if cd := cmd.Def.GetColumnDef(); cd != nil {
				ct = rs.columnType(cd)
			}
			rel.cols[cmd.Name] = ct
		case cmd.Subtype == pg_query.AlterTableType_AT_DropColumn:
			delete(rel.cols, cmd.Name)
		}
	}
}

// columnType reads a column definition's type, binding its name to the type of the files' it names now.
func (rs *Relations) columnType(cd *pg_query.ColumnDef) ColumnType {
	tn := cd.TypeName
	if tn == nil || tn.Setof {
		return ColumnType{}
	}
	names := nodeNames(tn.Names)
	ct := ColumnType{Array: len(tn.ArrayBounds) > 0, collated: cd.CollClause != nil}
	switch len(names) {
	case 1:
		ct.Type = Table{Name: names[0]}
	case 2:
		ct.Type = Table{Schema: names[0], Name: names[1]}
	default:
		return ColumnType{}
	}
	if !(ct.Type.Schema == "" && !ct.Array && serials[ct.Type.Name] != "") { // serial is no type: CREATE TABLE's
		ct.obj = rs.lookup(names)
	}
	if ct.obj != nil && ct.obj.unsure { // it may be gone: the name may be another type's
		ct.obj, ct.unsure = nil, true
		return ct
	}
	if ct.obj != nil {
		return ct
	}
	ct.unsure = ct.Type.Schema == "" && !builtin[ct.Type.Name] && rs.path.opaque()
	builtinType := ct.Type.Schema == "" && builtin[ct.Type.Name] || ct.Type.Schema == "pg_catalog"
	if ct.Array || !builtinType {
		return ct // an array's text is its elements' output, spaces kept
	}
	ct.Padded = ct.Type.Name == "bpchar"
	ct.PlainText = !ct.collated && (ct.Type.Name == "text" || ct.Type.Name == "varchar" || ct.Type.Name == "bpchar")
	return ct
}
