// Package sqlparse reads one PostgreSQL statement with libpg_query (the parser sqlc uses) and reports
// what the generator needs to wrap it: the written tables, the statement's byte range, the RETURNING
// clause, the byte range of an UPDATE's or DELETE's WHERE condition, and for an INSERT the byte
// ranges of its single VALUES row.
//
// Every offset is a byte offset into the parsed text. Ranges come from the parse tree and the
// libpg_query scanner, never from pattern matching, so comments, string literals, dollar quoting
// and quoted identifiers cannot be mistaken for SQL.
package sqlparse

import (
	"errors"
	"fmt"
	"sort"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// Kind is the top-level verb of a statement.
type Kind int

// The kinds of statement the generator tells apart. Other covers SELECT and everything else
// (MERGE, COPY, TRUNCATE, DDL...).
const (
	Other Kind = iota
	Insert
	Update
	Delete
)

// String returns the verb: "OTHER", "INSERT", "UPDATE" or "DELETE".
func (k Kind) String() string {
	switch k {
	case Insert:
		return "INSERT"
	case Update:
		return "UPDATE"
	case Delete:
		return "DELETE"
	}
	return "OTHER"
}

// Table is a table name as PostgreSQL resolves it: unquoted parts folded to lower case, quoted parts
// kept exactly. Schema is "" when the name is unqualified; which schema that means is the caller's
// decision (search_path). A catalog qualifier (db.schema.table) is dropped.
type Table struct {
	Schema, Name string
}

// String returns the name in SQL, each part quoted only when it needs to be.
func (t Table) String() string {
	if t.Schema == "" {
		return QuoteIdent(t.Name)
	}
	return QuoteIdent(t.Schema) + "." + QuoteIdent(t.Name)
}

// Write is one table a statement writes, wherever it stands: the statement's own target, inside a
// WITH (at any depth), the target of a MERGE, COPY ... FROM or TRUNCATE.
type Write struct {
	Verb     string // INSERT, UPDATE, DELETE, MERGE, TRUNCATE or COPY
	Table    Table
	Pos      int  // byte offset of the table's (possibly qualified) name
	TopLevel bool // the table is the statement's own target, not written by a nested statement
	// Within, for a nested write, is what holds it: "WITH" (a data-modifying CTE), "EXPLAIN ANALYZE" or "EXPLAIN"
	// (the statement explained, run by the first), or the holding statement's kind, e.g. "PREPARE".
	Within string
}

// Hidden is a statement whose writes the text does not show.
type Hidden struct {
	Verb string // DO or EXECUTE
	Pos  int    // byte offset of its keyword
}

// Statement is what Parse reports about one statement.
type Statement struct {
	Text string // the text that was parsed
	Kind Kind

	// Target is the table an INSERT, UPDATE or DELETE writes, TargetPos the offset of its name.
	Target    Table
	TargetPos int

	// Start and End delimit the statement proper: Start is its first token (a leading WITH
	// included), End is just after its last token, before trailing whitespace, comments and ';'.
	Start, End int
	// Tail is just after the comments that follow End before any ';' (End when there are none):
	// text[End:Tail] is whitespace and comments only, text[Start:Tail] the statement as written.
	Tail int

	HasReturning bool
	HasWhere     bool
	// Cond is the condition of an UPDATE's or DELETE's own WHERE clause, without the keyword. With no
	// WHERE clause it is empty (Start == End) where one would go: after the last token before RETURNING,
	// else at End.
	Cond Span
	// CurrentOf: the WHERE clause is WHERE CURRENT OF a cursor, which no condition can be added to.
	CurrentOf bool
	// Pinned are the target's columns the WHERE condition sets equal to a value without columns (a parameter,
	// a constant, a cast of one), ANDed at its top: with a unique one among them, at most one row changes.
	Pinned []string
	// ReadOnlyCTEs is false when a statement nested in this one (a data-modifying CTE) writes a
	// table.
	ReadOnlyCTEs bool
	Writes       []Write // every table written, in text order, the top-level target included
	// Hidden are the statements in this one whose writes its text does not show: a DO block (its body is a
	// string) and EXECUTE (of a statement prepared elsewhere). A CALL is not among them: like a function a query
	// calls, a procedure's writes are its own (the triggers record them).
	Hidden []Hidden

	Params    int        // the highest $n, 0 if none
	ParamRefs []ParamRef // every $n, in text order

	Insert *InsertParts // details of an INSERT, nil for other kinds
}

// Span is a byte range of the text.
type Span struct {
	Start, End int
}

// InsertParts is the part of an INSERT the generator rewrites into a bulk insert.
type InsertParts struct {
	// Columns is the column list, as resolved names (subscripts and fields of a target column are
	// dropped); nil when the INSERT has no column list.
	Columns []string
	Values  *ValuesList // nil unless the source is a bare VALUES with exactly one row
}

// ValuesList is the single row of an INSERT's VALUES clause.
type ValuesList struct {
	// Start is the V of VALUES, End just after the row's closing parenthesis; Open is the offset of its opening
	// one (between VALUES and Open there can be only space and comments).
	Start, End, Open int
	Items            []Item
}

// Item is one expression of a VALUES row.
type Item struct {
	Start, End int        // the expression's text, without surrounding comments and whitespace
	Default    bool       // the item is DEFAULT
	Param      int        // n when the item is exactly $n, else 0
	Params     []ParamRef // every $n inside the item, in text order
}

// ParamRef is one occurrence of $N in the text, Start and End delimiting "$N".
type ParamRef struct {
	N, Start, End int
}

// Error is a parse error, or a text that is not exactly one statement.
type Error struct {
	Offset int // byte offset the error is reported at (0 when the parser gave no position)
	Msg    string
}

// Error returns the message and the offset.
func (e *Error) Error() string {
	return fmt.Sprintf("%s (at byte %d)", e.Msg, e.Offset)
}

// ErrorOffset is the byte offset a parse error is reported at: an *Error's, else 0.
func ErrorOffset(err error) int {
	if pe, ok := errors.AsType[*Error](err); ok {
		return pe.Offset
	}
	return 0
}

// Parse parses sql, which must hold exactly one statement (comments and a trailing ';' allowed).
// Errors are *Error.
func Parse(sql string) (*Statement, error) {
	tree, err := parseTree(sql)
	if err != nil {
		return nil, err
	}
	scan, err := pg_query.Scan(sql)
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	p := &parser{text: sql}
	for _, t := range scan.Tokens {
		if t.Token != pg_query.Token_SQL_COMMENT && t.Token != pg_query.Token_C_COMMENT {
			p.toks = append(p.toks, t)
		} else {
			p.comments = append(p.comments, t)
		}
	}
	switch len(tree.Stmts) {
	case 0:
		return nil, &Error{Offset: len(sql), Msg: "no statement"}
	case 1:
	default:
		return nil, &Error{Offset: p.firstToken(int(tree.Stmts[1].StmtLocation)), Msg: "more than one statement"}
	}
	raw := tree.Stmts[0]
	s := &Statement{Text: sql, ReadOnlyCTEs: true}
	p.within = within(raw.Stmt)
	if err := p.bounds(s, raw); err != nil {
		return nil, err
	}
	if err := p.walk(s, raw.Stmt.ProtoReflect(), true); err != nil {
		return nil, err
	}
	sort.Slice(s.Writes, func(i, j int) bool { return s.Writes[i].Pos < s.Writes[j].Pos })
	sort.Slice(s.ParamRefs, func(i, j int) bool { return s.ParamRefs[i].Start < s.ParamRefs[j].Start })
	for _, w := range s.Writes {
		s.ReadOnlyCTEs = s.ReadOnlyCTEs && w.TopLevel
	}
	for _, r := range s.ParamRefs {
		s.Params = max(s.Params, r.N)
	}

	var returning []*pg_query.Node
	switch n := raw.Stmt.Node.(type) {
	case *pg_query.Node_InsertStmt:
		s.Kind = Insert
		returning = n.InsertStmt.ReturningList
		next, err := p.target(s, n.InsertStmt.Relation)
		if err != nil {
			return nil, err
		}
		if s.Insert, err = p.insert(s, n.InsertStmt, next); err != nil {
			return nil, err
		}
	case *pg_query.Node_UpdateStmt:
		s.Kind = Update
		returning = n.UpdateStmt.ReturningList
		next, err := p.target(s, n.UpdateStmt.Relation)
		if err != nil {
			return nil, err
		}
		if err := p.where(s, next, n.UpdateStmt.WhereClause, n.UpdateStmt.ReturningList); err != nil {
			return nil, err
		}
		s.Pinned = pinned(n.UpdateStmt.WhereClause, qualifiers(n.UpdateStmt.Relation))
	case *pg_query.Node_DeleteStmt:
		s.Kind = Delete
		returning = n.DeleteStmt.ReturningList
		next, err := p.target(s, n.DeleteStmt.Relation)
		if err != nil {
			return nil, err
		}
		if err := p.where(s, next, n.DeleteStmt.WhereClause, n.DeleteStmt.ReturningList); err != nil {
			return nil, err
		}
		s.Pinned = pinned(n.DeleteStmt.WhereClause, qualifiers(n.DeleteStmt.Relation))
	}
	s.HasReturning = len(returning) > 0
	return s, nil
}

// parseTree parses sql with libpg_query; an error is an *Error at the byte the parser points at.
func parseTree(sql string) (*pg_query.ParseResult, error) {
	tree, err := pg_query.Parse(sql)
	if err != nil {
		var pe *pgparser.Error
		if errors.As(err, &pe) {
			return nil, &Error{Offset: runeOffset(sql, pe.Cursorpos-1), Msg: pe.Message}
		}
		return nil, &Error{Msg: err.Error()}
	}
	return tree, nil
}

// runeOffset converts a 0-based character index, as PostgreSQL reports error positions, into a
// byte offset of text.
func runeOffset(text string, chars int) int {
	if chars <= 0 {
		return 0
	}
	n := 0
	for i := range text {
		if n == chars {
			return i
		}
		n++
	}
	return len(text)
}
