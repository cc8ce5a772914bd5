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

// Schema is what a file of SQL statements (a migration, a schema file) creates, as the generator needs it. The
// tables' columns and their declared types are the relations' (Relations.Columns): a table's columns follow it
// whatever it is renamed or moved to.
type Schema struct {
	Types map[Table]bool // see createdTypes
	Moved map[Table]bool // see createdTypes

	tree *pg_query.ParseResult // for Relations.Read
}

// ReadSchema parses a file of SQL statements once and reads its Schema. Errors are *Error.
func ReadSchema(text string) (*Schema, error) {
	tree, err := parseTree(text)
	if err != nil {
		return nil, err
	}
	types, moved := createdTypes(tree)
	return &Schema{Types: types, Moved: moved, tree: tree}, nil
}

// Relations follows the tables and views a schema's files make, as PostgreSQL runs them, in order: it knows each
// relation as the object it is, so that a view reads the tables and views it was made on whatever they are renamed
// or moved to later, as PostgreSQL's views do. Names are as the catalog has them, unqualified ones in public.
type Relations struct {
	byName map[Table]*relation
}

// relation is a table, a view or another relation (a foreign table, a materialized view), as made.
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
}

type relKind int

const (
	relTable relKind = iota
	relView
	relOther // a foreign table, a materialized view: neither a table the generator audits nor a view it follows
)

// NewRelations returns the relations of an empty schema.
func NewRelations() *Relations {
	return &Relations{byName: map[Table]*relation{}}
}

// Read replays what a file's statements (its Schema) do to the schema's relations: CREATE TABLE (AS), CREATE
// [OR REPLACE] VIEW, CREATE FOREIGN TABLE and MATERIALIZED VIEW, a relation's RENAME TO and SET SCHEMA (by ALTER
// TABLE, VIEW, MATERIALIZED VIEW or FOREIGN TABLE: PostgreSQL lets ALTER TABLE rename or move a view), ALTER SCHEMA
// ... RENAME TO, and DROP of a relation (CASCADE dropping the views that read it) or of a schema; and to a table's
// columns, which CREATE TABLE declares: ALTER TABLE's ADD COLUMN, ALTER COLUMN TYPE, DROP COLUMN and RENAME COLUMN,
// applied to the relation the statement's name names when it runs.
func (rs *Relations) Read(sc *Schema) {
	for _, raw := range sc.tree.Stmts {
		switch n := raw.Stmt.Node.(type) {
		case *pg_query.Node_CreateStmt:
			if rel := rs.make(n.CreateStmt.Relation, relTable, n.CreateStmt.IfNotExists); rel != nil {
				for _, el := range n.CreateStmt.TableElts {
					if cd := el.GetColumnDef(); cd != nil {
						rel.cols[cd.Colname] = columnType(cd)
					}
				}
			}
		case *pg_query.Node_AlterTableStmt:
			if a := n.AlterTableStmt; a.Relation != nil {
				if rel := rs.byName[catalogName(a.Relation)]; rel != nil {
					alterColumns(rel, a.Cmds)
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
		case *pg_query.Node_RenameStmt:
			r := n.RenameStmt
			switch {
			case r.RenameType == pg_query.ObjectType_OBJECT_SCHEMA:
				rs.moveSchema(r.Subname, r.Newname)
			case isRelation(r.RenameType) && r.Relation != nil:
				if rel := rs.byName[catalogName(r.Relation)]; rel != nil {
					rs.rename(rel, Table{Schema: rel.name.Schema, Name: r.Newname})
				}
			case r.RenameType == pg_query.ObjectType_OBJECT_COLUMN && r.Relation != nil:
				if rel := rs.byName[catalogName(r.Relation)]; rel != nil {
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
			if isRelation(a.ObjectType) && a.Relation != nil {
				if rel := rs.byName[catalogName(a.Relation)]; rel != nil {
					rs.rename(rel, Table{Schema: a.Newschema, Name: rel.name.Name})
				}
			}
		case *pg_query.Node_DropStmt:
			d := n.DropStmt
			cascade := d.Behavior == pg_query.DropBehavior_DROP_CASCADE
			switch {
			case d.RemoveType == pg_query.ObjectType_OBJECT_SCHEMA:
				for _, o := range d.Objects {
					for _, rel := range rs.byName {
						if rel.name.Schema == o.GetString_().GetSval() {
							rs.drop(rel, true)
						}
					}
				}
			case isRelation(d.RemoveType):
				for _, o := range d.Objects {
					if rel := rs.byName[typeName(o.GetList().GetItems())]; rel != nil {
						rs.drop(rel, cascade)
					}
				}
			}
		}
	}
}

// isRelation: an object of type o is a table, view, materialized view or foreign table.
func isRelation(o pg_query.ObjectType) bool {
	switch o {
	case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW, pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		return true
	}
	return false
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
	rel := rs.byName[catalogName(v.View)]
	if rel == nil || !v.Replace || rel.kind != relView {
		rel = rs.make(v.View, relView, false)
	}
	rel.reads, rel.unbound = nil, nil
	for _, n := range names {
		if r := rs.byName[n]; r != nil {
			rel.reads = append(rel.reads, r)
		} else {
			rel.unbound = append(rel.unbound, n)
		}
	}
}

// rename gives rel another name (or schema).
func (rs *Relations) rename(rel *relation, to Table) {
	delete(rs.byName, rel.name)
	rel.name = to
	rs.byName[to] = rel
}

// moveSchema renames schema from to to, with its relations.
func (rs *Relations) moveSchema(from, to string) {
	for _, rel := range slices.Collect(maps.Values(rs.byName)) {
		if rel.name.Schema == from {
			rs.rename(rel, Table{Schema: to, Name: rel.name.Name})
		}
	}
}

// drop removes rel and, with cascade, the views that read it (PostgreSQL refuses a drop without CASCADE that
// would leave a view without its relation).
func (rs *Relations) drop(rel *relation, cascade bool) {
	if rs.byName[rel.name] != rel {
		return
	}
	delete(rs.byName, rel.name)
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

// catalogName is the table r names as the catalog has it, an unqualified one in public.
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

// typeName is the type a qualified name (TypeName.Names, a List's items) names, as the catalog has it: an
// unqualified one in public; zero when it has more than two parts.
func typeName(nodes []*pg_query.Node) Table {
	switch len(nodes) {
	case 1:
		return qualified("", nodes[0].GetString_().GetSval())
	case 2:
		return qualified(nodes[0].GetString_().GetSval(), nodes[1].GetString_().GetSval())
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
	// Type is the declared type's name, arrays and collation aside, as written: Schema "" when unqualified (a
	// built-in type, which pg_catalog, searched first, resolves, or else one in public). Zero when unread.
	Type Table
	// PlainText: text, varchar or char (bpchar) with no COLLATE clause, whose equality is byte equality, since a
	// database's default collation is deterministic.
	PlainText bool
	// Named is the type's name as the catalog has it (unqualified: in public) when it is another type with no
	// COLLATE clause and no array; zero otherwise. An enum's equality is exact (Types tells which are enums).
	Named Table
	// Padded: char (bpchar), no array, COLLATE clause or not. Its equality and its cast to text drop trailing
	// spaces, which its images keep: unbounded (bpchar), 'a' and 'a  ' are stored as written.
	Padded bool
	// Array: the column is an array of Type (any number of dimensions, bounds or not, which PostgreSQL ignores).
	Array bool
}

// Resolved is the column's type as its declaration names it, for installing to resolve as the catalog did (see
// auditschema's model_problems): a qualified name schema-qualified, and an unqualified one alone, which
// PostgreSQL resolves in pg_catalog first (which a search path holds first unless it names it), else in public;
// names quoted where to_regtype would fold or misread them (an unqualified name's key words too: "char" is not
// char), and an array as its element type's name followed by []. The SQL standard's spellings (bigint, double
// precision, char(n)) are pg_catalog's names already, qualified, as the parser gives them; serial's and its kin's
// are their integer types, pg_catalog's. It is "" when the declaration was not read, or when its type's name was
// renamed or moved to another schema away from (moved, see createdTypes; an unqualified name's in public): the
// column keeps the type, whatever its name is now.
func (ct ColumnType) Resolved(moved map[Table]bool) string {
	t := ct.Type
	if t.Name == "" {
		return ""
	}
	if n, ok := serials[t.Name]; ok && t.Schema == "" && !ct.Array {
		t = Table{Schema: "pg_catalog", Name: n}
	}
	if moved[qualified(t.Schema, t.Name)] {
		return ""
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

// Exact reports whether the equality of a column of type ct is exact, given the schema's types and the type names
// renamed or moved away from (see createdTypes).
func (ct ColumnType) Exact(types, moved map[Table]bool) bool {
	return ct.PlainText || ct.Named != (Table{}) && types[ct.Named] && !moved[ct.Named]
}

// FloatFree reports whether the text and JSON forms of a column of type ct depend on no extra_float_digits: it
// is a built-in type that prints no float (floatFree), or an enum the schema creates (given types and moved, as
// for Exact), or an array of one. A float, a geometric type, and a type the schema does not tell (a domain,
// composite or range, an extension's) may print floats by it.
func (ct ColumnType) FloatFree(types, moved map[Table]bool) bool {
	t := ct.Type
	if t.Name == "" {
		return false
	}
	if (t.Schema == "" || t.Schema == "pg_catalog") && floatFree[t.Name] {
		return true
	}
	if t.Schema == "pg_catalog" {
		return false
	}
	enum := qualified(t.Schema, t.Name)
	return types[enum] && !moved[enum]
}

// floatFree are the built-in types whose text and JSON forms print no float, named as libpg_query names them
// (the SQL standard's spellings become pg_catalog's names: integer is pg_catalog.int4).
var floatFree = map[string]bool{}

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
func alterColumns(rel *relation, cmds []*pg_query.Node) {
	for _, c := range cmds {
		cmd := c.GetAlterTableCmd()
		switch {
		case cmd == nil:
		case cmd.Subtype == pg_query.AlterTableType_AT_AddColumn:
			if cd := cmd.Def.GetColumnDef(); cd != nil {
				if _, ok := rel.cols[cd.Colname]; !ok || !cmd.MissingOk { // ADD COLUMN IF NOT EXISTS keeps the column
					rel.cols[cd.Colname] = columnType(cd)
				}
			}
		case cmd.Subtype == pg_query.AlterTableType_AT_AlterColumnType:
			var ct ColumnType
			if cd := cmd.Def.GetColumnDef(); cd != nil {
				ct = columnType(cd)
			}
			rel.cols[cmd.Name] = ct
		case cmd.Subtype == pg_query.AlterTableType_AT_DropColumn:
			delete(rel.cols, cmd.Name)
		}
	}
}

// columnType reads a column definition's type.
func columnType(cd *pg_query.ColumnDef) ColumnType {
	tn := cd.TypeName
	if tn == nil || tn.Setof {
		return ColumnType{}
	}
	var names []string
	for _, n := range tn.Names {
		names = append(names, n.GetString_().GetSval())
	}
	ct := ColumnType{}
	switch len(names) {
	case 1:
		ct.Type = Table{Name: names[0]}
	case 2:
		ct.Type = Table{Schema: names[0], Name: names[1]}
	}
	if len(tn.ArrayBounds) > 0 {
		ct.Array = true
		return ct // an array's text is its elements' output, spaces kept
	}
	ct.Padded = ct.Type.Name == "bpchar" && (ct.Type.Schema == "" || ct.Type.Schema == "pg_catalog")
	if cd.CollClause != nil {
		return ct
	}
	switch strings.Join(names, ".") {
	case "text", "pg_catalog.text", "varchar", "pg_catalog.varchar", "bpchar", "pg_catalog.bpchar":
		ct.PlainText = true
	default:
		ct.Named = typeName(tn.Names)
	}
	return ct
}

// createdTypes reports, for each type a file of SQL statements creates, whether it is an enum (CREATE TYPE ...
// AS ENUM): a domain, a composite, range or base type is not. It also reports the type names renamed or moved to
// another schema away from (ALTER TYPE or DOMAIN ... RENAME TO, SET SCHEMA): a column keeps its type, not its
// type's name, so a column declared with such a name may be of another type than one created under it later,
// and none is taken to be an enum (a file's later CREATE does not undo it, nor a later file's).
func createdTypes(tree *pg_query.ParseResult) (types, moved map[Table]bool) {
	types, moved = map[Table]bool{}, map[Table]bool{}
	isType := func(o pg_query.ObjectType) bool {
		return o == pg_query.ObjectType_OBJECT_TYPE || o == pg_query.ObjectType_OBJECT_DOMAIN
	}
	for _, raw := range tree.Stmts {
		switch n := raw.Stmt.Node.(type) {
		case *pg_query.Node_CreateEnumStmt:
			types[typeName(n.CreateEnumStmt.TypeName)] = true
		case *pg_query.Node_CreateDomainStmt:
			types[typeName(n.CreateDomainStmt.Domainname)] = false
		case *pg_query.Node_CompositeTypeStmt:
			types[catalogName(n.CompositeTypeStmt.Typevar)] = false
		case *pg_query.Node_CreateRangeStmt:
			types[typeName(n.CreateRangeStmt.TypeName)] = false
		case *pg_query.Node_DefineStmt:
			if n.DefineStmt.Kind == pg_query.ObjectType_OBJECT_TYPE {
				types[typeName(n.DefineStmt.Defnames)] = false
			}
		case *pg_query.Node_RenameStmt:
			if r := n.RenameStmt; isType(r.RenameType) {
				old := typeName(r.Object.GetList().GetItems())
				moved[old] = true
				types[Table{old.Schema, r.Newname}] = false
			}
		case *pg_query.Node_AlterObjectSchemaStmt:
			if a := n.AlterObjectSchemaStmt; isType(a.ObjectType) {
				moved[typeName(a.Object.GetList().GetItems())] = true
			}
		}
	}
	return types, moved
}
