// Package ir builds the intermediate representation the emitters read: every PHI model with its
// table, its columns as sqlc declares them, its field classes, its resolved patient path, and the sqlc
// queries that write it. Every name is resolved and checked here, so emitting cannot fail on bad input.
package ir

import (
	"go/token"
	"go/types"
	"slices"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/sqlparse"
	"github.com/auditrepo/auditrepo/internal/tags"
)

// Program is one generator run.
type Program struct {
	SQLCPath string // import path of the sqlc package
	SQLCName string // its package name
	// DBArgument: sqlc's methods take the DBTX after ctx (emit_methods_with_db_argument) instead of New's.
	DBArgument bool
	Audit      Audit
	Models     []*Model
}

// Audit names the installed audit schema the generated SQL writes to (auditschema.Config's names): Role is the
// audit role (Config.Audit), Writer the role owning the trigger functions (Config.Writer). ClaimSchema, the schema
// of the claim functions the generated statements call (Config.ClaimSchema), is no option: Build derives it from
// Schema.
type Audit struct {
	Schema, Table, Role, Writer string
	ClaimSchema                 string
}

// DefaultSchema is where an unqualified table of models.go lives, as PostgreSQL's default search_path has it.
const DefaultSchema = "public"

// Model is a PHI table and the wrappers to generate for it.
type Model struct {
	Name      string       // Go name shared by models.go and sqlc, e.g. Appointment
	Table     string       // as the tag names it, and as audit rows and claims name it
	Schema    string       // the table's schema: the tag's, or DefaultSchema
	Relation  string       // the table's name without its schema
	Qualified string       // the table as SQL names it, schema-qualified
	Func      string       // the name of its audit trigger function in the audit schema, unquoted
	ClaimFunc string       // its repository statements' claim function (in Audit.ClaimSchema), installed with its triggers
	File      string       // its repository's file in the output package, e.g. dental_record.go
	Row       *types.Named // sqlc's row struct
	Columns   []*Column    // in sqlc's order, which is the order of RETURNING *
	Patient   Patient
	// PatientTable is the table whose rows are the patients, schema-qualified as SQL names it: the one model's
	// whose patient is its row itself (patient:"self..."), "" when no model, or more than one, is.
	PatientTable string
	Writes       []*Write // sorted by Method
	// Moves are the other models whose patient path goes through a column of this table: an UPDATE of that
	// column can move their rows to another patient.
	Moves []*Move
	// FloatDigits: some column is FloatText, so its trigger function pins extra_float_digits. Only then: every
	// SET clause costs each audited statement.
	FloatDigits bool
}

// Column is a column and how the trail treats it.
type Column struct {
	Name    string // SQL name
	Type    types.Type
	Exclude bool
	Redact  bool
	NonPHI  bool
	// ByText: the column's SQL type may have no equality operator, or one that holds values whose images differ
	// (see comparesByText), so the generated SQL finds its changes by comparing text forms.
	ByText bool
	// ByBytes: a string column, whose SQL type's equality may hold texts that differ (citext, a nondeterministic
	// collation: 'Ann' = 'ann'), so the generated SQL compares its text byte for byte too.
	ByBytes bool
	// Exact: compared by its type's equality alone (neither ByText nor ByBytes) because the schema declares it of a
	// type whose equality is exact (load.Input.ExactText: text, varchar or char with no COLLATE clause, or an enum):
	// installing refuses it unless the database's type is one (auditschema.Table.Exact).
	Exact bool
	// ByLength: a char (bpchar) column, whose equality and text drop trailing spaces that its images keep ('a' and
	// 'a  ', unbounded), so the generated SQL compares its octet_length too (load.Input.Padded).
	ByLength bool
	// FloatText: the column's SQL type may print floats (a float, a geometric type, one the generator does not
	// know; load.Input.FloatFree), whose text and JSON forms follow the session's extra_float_digits: lowered,
	// they round, falsifying the images and hiding changes found on the text.
	FloatText bool
	// SQLType is the SQL type the schema declares the column of, as the catalog resolves it (load.Input.Types), which
	// the fields above were decided by: installing checks that the database's column is of it. "" when the generator
	// did not read the column's declaration.
	SQLType string
}

// Patient is a resolved patient path.
type Patient struct {
	Kind                  tags.PatientKind
	Column                string
	WhenColumn, WhenValue string
	Hops                  []Hop
}

// Move is a dependent model whose patient is found through Column of the table that owns the Move.
type Move struct {
	Dependent *Model
	Column    string // the owner's column on the dependent's patient path
	// Back leads from the owner's row to the dependent's rows: each step is a table whose Column holds an id of
	// the previous one; the last step is the dependent's table.
	Back []Hop
	// Rest leads from the owner's Column to the patient, as a patient path's hops do.
	Rest []Hop
}

// Hop is one step of a patient path: the previous column holds an id of Table; Column is read there.
type Hop struct {
	Table, Column string
	Qualified     string // Table as SQL names it, schema-qualified
}

// Reads are the other tables the model's trigger function reads by name, schema-qualified as SQL names them, once
// each in order of first use: its patient path's hops, and the tables leading to its dependents and on from it
// to their patients. The event trigger keeps them tables.
func (m *Model) Reads() []string {
	var out []string
	add := func(hops []Hop) {
		for _, h := range hops {
			if h.Qualified != m.Qualified && !slices.Contains(out, h.Qualified) {
				out = append(out, h.Qualified)
			}
		}
	}
	add(m.Patient.Hops)
	for _, mv := range m.Moves {
		add(mv.Back)
		add(mv.Rest)
	}
	return out
}

// Tables are the models' tables as installing checks them (auditschema.Models.Tables), in the models' order.
func (p *Program) Tables() []auditschema.Table {
	var out []auditschema.Table
	for _, m := range p.Models {
		t := auditschema.Table{Name: m.Qualified}
		for _, c := range m.Columns {
			t.Columns = append(t.Columns, c.Name)
			if c.ByText || c.ByBytes {
				t.ByText = append(t.ByText, c.Name)
			}
			if c.Exact {
				t.Exact = append(t.Exact, c.Name)
			}
			if c.ByLength {
				t.ByLength = append(t.ByLength, c.Name)
			}
			if c.SQLType != "" {
				if t.Types == nil {
					t.Types = map[string]string{}
				}
				t.Types[c.Name] = c.SQLType
			}
		}
		t.FloatDigits = m.FloatDigits
		t.Refs = m.refs()
		out = append(out, t)
	}
	return out
}

// refs are the references the model's patient path follows, in order: its own column, then each hop's, the
// last one to the patient table when it is known (PatientTable). None when its rows are patients themselves.
func (m *Model) refs() []auditschema.Ref {
	p := m.Patient
	if p.Kind != tags.PatientPath && p.Kind != tags.PatientColumn {
		return nil
	}
	var out []auditschema.Ref
	from, col := m.Qualified, p.Column
	for _, h := range p.Hops {
		out = append(out, auditschema.Ref{From: from, Column: col, To: h.Qualified})
		from, col = h.Qualified, h.Column
	}
	if m.PatientTable != "" {
		out = append(out, auditschema.Ref{From: from, Column: col, To: m.PatientTable})
	}
	return out
}

// Write is one sqlc query that writes the model's table, wrapped with its audit row.
type Write struct {
	Method string // the repository method, e.g. UpdateStatus
	Query  string // sqlc's method name, e.g. UpdateAppointmentStatus
	Const  string // the Go constant of the statement it runs, e.g. auditedUpdateAppointmentStatus
	// Names are the method's receiver, parameters and variables.
	Names  Locals
	Source token.Position
	// SQLText is sqlc's statement, "-- name:" line included.
	SQLText string
	Stmt    *sqlparse.Statement
	Action  audit.Action

	// Table is the model's table as claims name it; Claim names the method in the claim (Repo.Method);
	// ClaimFunc is the model's.
	Table, Claim, ClaimFunc string
	// Where, for an UPDATE or DELETE, is sqlc's statement cut where its claim joins the WHERE condition.
	Where *Where
	// Select, for an INSERT of one VALUES row without DEFAULT, is sqlc's statement with the row made a SELECT
	// whose WHERE is the claim.
	Select *Select
	// Body, for any other INSERT, is the statement the method runs inside its claim's CTE: sqlc's, as written,
	// with a RETURNING added when it has none (the claim's statement counts the changed rows).
	Body string
	// Returns: sqlc's statement returns rows of its own.
	Returns bool
	// ClaimAt is the number of the claim's one parameter, the actor, after the statement's own.
	ClaimAt int

	// Args are sqlc's arguments after ctx (and the DBTX, with emit_methods_with_db_argument): none, its Params
	// struct, or scalars, one for each parameter (up to query_parameter_limit of them, 1 unless set).
	Args []Arg
	// Params are the query's parameters in $n order. Field is "" for a scalar argument, Args[i] for Params[i].
	Params []Param
	// Result is what the method returns besides the error, from sqlc's command; Row is sqlc's type of it (nil for
	// :exec).
	Result Result
	Row    types.Type
	// Many is set on a Create whose VALUES is one row of expressions and whose sqlc method takes one argument: it
	// also gets a bulk variant, which takes a slice of that argument.
	Many *Many
	// NoMany, for such a Create that gets no bulk variant because a parameter has no PostgreSQL array type, says
	// so in its doc comment.
	NoMany string
}

// Where is an UPDATE or DELETE as written, cut around its WHERE condition. The claim is a condition of its own
// ANDed to sqlc's: Head (Cond) AND claim Rest, or, when sqlc's statement has no WHERE (Cond ""), Head WHERE claim
// Rest. It is evaluated for each row before that row changes or, with Once, as an uncorrelated subquery once
// before the first.
type Where struct {
	Head, Cond, Rest string
	Once             bool
}

// Select is an INSERT whose rows come from a SELECT with the claim as its WHERE: Head SELECT Items WHERE claim
// Rest. Items are the VALUES row's items as written, or for a bulk insert the items read from unnest and the FROM.
// Once: the claim is an uncorrelated subquery, evaluated once before the first row (a bulk insert's rows are
// many); otherwise a condition evaluated for the one row before it is inserted.
type Select struct {
	Head, Items, Rest string
	Once              bool
}

// Result is what a repository method returns besides the error.
type Result int

const (
	ResultNone  Result = iota // :exec: nothing; no matching row is ErrNotFound
	ResultRow                 // :one: the row; no matching row is ErrNotFound
	ResultRows                // :many: the changed rows; none is not an error
	ResultCount               // :execrows: how many rows changed
)

// Arg is one of sqlc's arguments of a query method.
type Arg struct {
	Name string
	Type types.Type
}

// Param is one query parameter.
type Param struct {
	Field string
	Type  types.Type
}

// Many is the bulk variant of a Create: parameters arrive as arrays and are unnested.
type Many struct {
	Method     string
	Const      string // the Go constant of its statement
	Names      ManyLocals
	Claim      string  // Repo.Method
	Insert     *Select // the INSERT with its VALUES row turned into a SELECT from unnest
	ClaimAt    int
	ArrayTypes []string // PostgreSQL element type of each parameter's array
	// ViaText[i], when set, is the column whose VALUES item is parameter i alone, a string type with no known
	// array type (sqlc's enums, their Null types, pointers to them): its array travels as text[] and SQL converts
	// each element to the column's type.
	ViaText []string
}
