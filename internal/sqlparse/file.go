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
	Tables  []Table               // see createdTables
	Views   map[Table][]Table     // see views
	Columns map[Column]ColumnType // see columnTypes
	Types   map[Table]bool        // see createdTypes
	Moved   map[Table]bool        // see createdTypes
}

// ReadSchema parses a file of SQL statements once and reads its Schema. Errors are *Error.
func ReadSchema(text string) (*Schema, error) {
	tree, err := parseTree(text)
	if err != nil {
		return nil, err
	}
	types, moved := createdTypes(tree)
	return &Schema{Tables: createdTables(tree), Views: views(tree), Columns: columnTypes(tree), Types: types, Moved: moved}, nil
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
}

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

// columnTypes reads the type of each column a file of SQL statements declares (CREATE TABLE, ALTER TABLE ADD
// COLUMN) or retypes (ALTER COLUMN TYPE). The files of a schema are read in order, later ones overriding.
func columnTypes(tree *pg_query.ParseResult) map[Column]ColumnType {
	out := map[Column]ColumnType{}
	for _, raw := range tree.Stmts {
		switch n := raw.Stmt.Node.(type) {
		case *pg_query.Node_CreateStmt:
			t := catalogName(n.CreateStmt.Relation)
			for _, el := range n.CreateStmt.TableElts {
				if cd := el.GetColumnDef(); cd != nil {
					out[Column{t, cd.Colname}] = columnType(cd)
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
						out[Column{t, cd.Colname}] = columnType(cd)
					}
				case cmd.Subtype == pg_query.AlterTableType_AT_AlterColumnType:
					var ct ColumnType
					if cd := cmd.Def.GetColumnDef(); cd != nil {
						ct = columnType(cd)
					}
					out[Column{t, cmd.Name}] = ct
				}
			}
		}
	}
	return out
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
