package sqlparse

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// parser holds the text's tokens, comments left out: the parse tree has start offsets but few end
// offsets, and tokens supply the ends.
type parser struct {
	text     string
	toks     []*pg_query.ScanToken
	comments []*pg_query.ScanToken // the comment tokens, in text order
	within   string                // what holds a nested write: Write.Within
}

// within says what holds the writes nested in statement n: see Write.Within.
func within(n *pg_query.Node) string {
	switch x := n.Node.(type) {
	case *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt, *pg_query.Node_SelectStmt, *pg_query.Node_MergeStmt:
		return "WITH"
	case *pg_query.Node_ExplainStmt:
		for _, o := range x.ExplainStmt.Options {
			if d := o.GetDefElem(); d != nil && d.Defname == "analyze" {
				// EXPLAIN ANALYZE, EXPLAIN (ANALYZE) or (ANALYZE on|true|1): run; (ANALYZE off|false|0): not.
				switch v := d.Arg.GetNode().(type) {
				case nil:
					return "EXPLAIN ANALYZE"
				case *pg_query.Node_String_:
					if s := strings.ToLower(v.String_.Sval); s == "off" || s == "false" {
						return "EXPLAIN"
					}
				case *pg_query.Node_Boolean:
					if !v.Boolean.Boolval {
						return "EXPLAIN"
					}
				case *pg_query.Node_Integer:
					if v.Integer.Ival == 0 {
						return "EXPLAIN"
					}
				}
				return "EXPLAIN ANALYZE"
			}
		}
		return "EXPLAIN"
	case *pg_query.Node_PrepareStmt:
		return "PREPARE"
	}
	return "statement"
}

// index returns the index of the first token starting at or after offset (len(toks) if none).
func (p *parser) index(offset int) int {
	return sort.Search(len(p.toks), func(i int) bool { return int(p.toks[i].Start) >= offset })
}

// tokenAt returns the index of the token starting exactly at offset.
func (p *parser) tokenAt(offset int) (int, error) {
	i := p.index(offset)
	if i == len(p.toks) || int(p.toks[i].Start) != offset {
		return 0, &Error{Offset: offset, Msg: "no token where the parse tree points"}
	}
	return i, nil
}

// firstToken returns the offset of the first token at or after offset.
func (p *parser) firstToken(offset int) int {
	if i := p.index(offset); i < len(p.toks) {
		return int(p.toks[i].Start)
	}
	return offset
}

// bounds sets the statement's Start and End from its first and last tokens. libpg_query's
// statement range includes leading and trailing comments but not the ';'.
func (p *parser) bounds(s *Statement, raw *pg_query.RawStmt) error {
	from, to := int(raw.StmtLocation), int(raw.StmtLocation+raw.StmtLen)
	if raw.StmtLen == 0 {
		to = len(p.text)
	}
	i, j := p.index(from), p.index(to)
	for j > i && p.toks[j-1].Token == pg_query.Token_ASCII_59 {
		j--
	}
	if i >= j {
		return &Error{Offset: from, Msg: "empty statement"}
	}
	s.Start, s.End = int(p.toks[i].Start), int(p.toks[j-1].End)
	// Comments after the last token belong to the statement until the next token (a ';').
	s.Tail = s.End
	next := len(p.text)
	if j < len(p.toks) {
		next = int(p.toks[j].Start)
	}
	for _, c := range p.comments {
		if int(c.Start) >= s.End && int(c.End) <= next {
			s.Tail = int(c.End)
		}
	}
	return nil
}

// walk visits every message of the tree below m, recording the tables written and the $n
// references. top is true while m is the statement itself (through its Node wrapper).
func (p *parser) walk(s *Statement, m protoreflect.Message, top bool) error {
	var err error
	switch x := m.Interface().(type) {
	case *pg_query.InsertStmt:
		err = p.write(s, "INSERT", x.Relation, top)
	case *pg_query.UpdateStmt:
		err = p.write(s, "UPDATE", x.Relation, top)
	case *pg_query.DeleteStmt:
		err = p.write(s, "DELETE", x.Relation, top)
	case *pg_query.MergeStmt:
		err = p.write(s, "MERGE", x.Relation, top)
	case *pg_query.CopyStmt:
		if x.IsFrom {
			err = p.write(s, "COPY", x.Relation, top)
		}
	case *pg_query.TruncateStmt:
		for _, r := range x.Relations {
			if err = p.write(s, "TRUNCATE", r.GetRangeVar(), top); err != nil {
				break
			}
		}
	case *pg_query.DoStmt:
		p.hidden(s, "DO", pg_query.Token_DO)
	case *pg_query.ExecuteStmt:
		p.hidden(s, "EXECUTE", pg_query.Token_EXECUTE)
	case *pg_query.ParamRef:
		err = p.param(s, x)
	}
	if err != nil {
		return err
	}
	_, wrapper := m.Interface().(*pg_query.Node)
	children(m, func(c protoreflect.Message, inList bool) bool {
		err = p.walk(s, c, top && wrapper && !inList)
		return err == nil
	})
	return err
}

// children calls f for each message directly below m (a list's elements with inList set) until f returns false;
// it reports whether f never did.
func children(m protoreflect.Message, f func(c protoreflect.Message, inList bool) bool) bool {
	ok := true
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil || fd.IsMap():
		case fd.IsList():
			for i := 0; i < v.List().Len() && ok; i++ {
				ok = f(v.List().Get(i).Message(), true)
			}
		default:
			ok = f(v.Message(), false)
		}
		return ok
	})
	return ok
}

// hidden records a DO or EXECUTE statement, whose node has no position: at the first token kw of the statement
// (EXPLAIN EXECUTE, CREATE TABLE ... AS EXECUTE hold one), else at its start.
func (p *parser) hidden(s *Statement, verb string, kw pg_query.Token) {
	at := s.Start
	for _, t := range p.toks[p.index(s.Start):] {
		if t.Token == kw {
			at = int(t.Start)
			break
		}
	}
	s.Hidden = append(s.Hidden, Hidden{Verb: verb, Pos: at})
}

func (p *parser) write(s *Statement, verb string, r *pg_query.RangeVar, top bool) error {
	if r == nil {
		return nil
	}
	if r.Location < 0 {
		return &Error{Offset: s.Start, Msg: fmt.Sprintf("%s target %s has no position", verb, table(r))}
	}
	w := Write{Verb: verb, Table: table(r), Pos: int(r.Location), TopLevel: top}
	if !top {
		w.Within = p.within
	}
	s.Writes = append(s.Writes, w)
	return nil
}

func (p *parser) param(s *Statement, x *pg_query.ParamRef) error {
	i, err := p.tokenAt(int(x.Location))
	if err != nil {
		return err
	}
	if p.toks[i].Token != pg_query.Token_PARAM {
		return &Error{Offset: int(x.Location), Msg: fmt.Sprintf("$%d is not a parameter token", x.Number)}
	}
	s.ParamRefs = append(s.ParamRefs, ParamRef{N: int(x.Number), Start: int(p.toks[i].Start), End: int(p.toks[i].End)})
	return nil
}

func table(r *pg_query.RangeVar) Table {
	return Table{Schema: r.Schemaname, Name: r.Relname}
}

// target records the statement's own target and returns the index of the token after it and its
// alias. The target is a qualified name, then a ')' when it is ONLY (t) or an optional '*' (t *), then the
// alias, with or without AS (PostgreSQL's relation_expr_opt_alias).
func (p *parser) target(s *Statement, r *pg_query.RangeVar) (int, error) {
	s.Target, s.TargetPos = table(r), int(r.Location)
	i, err := p.tokenAt(int(r.Location))
	if err != nil {
		return 0, err
	}
	parenthesized := i > 0 && p.toks[i-1].Token == pg_query.Token_ASCII_40 // ONLY (t)
	for i+2 < len(p.toks) && p.toks[i+1].Token == pg_query.Token_ASCII_46 {
		i += 2
	}
	i++
	switch {
	case i == len(p.toks):
	case parenthesized && p.toks[i].Token != pg_query.Token_ASCII_41:
		return 0, &Error{Offset: s.TargetPos, Msg: "')' after the target not found"}
	case parenthesized, p.toks[i].Token == pg_query.Token_ASCII_42:
		i++
	}
	if r.Alias == nil {
		return i, nil
	}
	if i < len(p.toks) && p.toks[i].Token == pg_query.Token_AS {
		i++
	}
	if i == len(p.toks) {
		return 0, &Error{Offset: s.TargetPos, Msg: "alias not found"}
	}
	return i + 1, nil // after the alias
}

// where finds the condition of an UPDATE's or DELETE's WHERE clause, cond, in the tokens from index next (the
// one after the target and its alias): the statement's own WHERE and RETURNING are the ones outside every
// parenthesis (a subquery's are inside one, a WITH's too), counted from the statement's first token, and the
// condition runs from the token after WHERE to the last token before RETURNING or the statement's end.
// returning is the statement's RETURNING list, whose first item's position the parse tree gives: no condition
// may reach it.
func (p *parser) where(s *Statement, next int, cond *pg_query.Node, returning []*pg_query.Node) error {
	s.HasWhere = cond != nil
	s.CurrentOf = cond.GetCurrentOfExpr() != nil
	from, to, depth := -1, len(p.toks), 0
	for i := p.index(s.Start); i < len(p.toks) && int(p.toks[i].Start) < s.End; i++ {
		switch p.toks[i].Token {
		case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
			depth++
		case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
			if depth--; depth < 0 {
				return &Error{Offset: int(p.toks[i].Start), Msg: "unbalanced parenthesis"}
			}
		case pg_query.Token_WHERE:
			if depth == 0 && from < 0 && i >= next {
				from = i + 1
			}
		case pg_query.Token_RETURNING:
			if depth == 0 && i >= next {
				to = i
			}
		}
		if to == i {
			break
		}
	}
	if len(returning) > 0 {
		if loc := location(returning[0]); to == len(p.toks) || loc >= 0 && loc < int(p.toks[to].End) {
			return &Error{Offset: s.TargetPos, Msg: "RETURNING not found where the parse tree has it"}
		}
	}
	end := p.index(s.End) // the token after the statement's last
	to = min(to, end)
	if !s.HasWhere {
		if from >= 0 {
			return &Error{Offset: int(p.toks[from-1].Start), Msg: "WHERE found where the parse tree has none"}
		}
		at := int(p.toks[to-1].End)
		s.Cond = Span{at, at}
		return nil
	}
	if from < 0 || from >= to {
		return &Error{Offset: s.TargetPos, Msg: "WHERE condition not found"}
	}
	s.Cond = Span{int(p.toks[from].Start), int(p.toks[to-1].End)}
	if loc := location(cond); loc >= 0 && (loc < s.Cond.Start || loc >= s.Cond.End) {
		return &Error{Offset: loc, Msg: "the parse tree's WHERE condition lies outside the WHERE clause"}
	}
	return nil
}

// qualifiers are the names a column of the target r may be qualified with: its alias when it has one (the table's
// name is hidden then), else its name and its schema-qualified name.
func qualifiers(r *pg_query.RangeVar) [][]string {
	if r.Alias != nil {
		return [][]string{{r.Alias.Aliasname}}
	}
	q := [][]string{{r.Relname}}
	if r.Schemaname != "" {
		q = append(q, []string{r.Schemaname, r.Relname})
	}
	return q
}

// pinned returns the target's columns that cond, through its top-level ANDs, sets equal to a value without
// columns. quals are the qualifiers a target column may be written with; an unqualified column is taken for the
// target's (in an UPDATE ... FROM it could be another table's, so a caller asking about a column the target
// may lack must check that).
func pinned(cond *pg_query.Node, quals [][]string) []string {
	var cols []string
	var walk func(n *pg_query.Node)
	walk = func(n *pg_query.Node) {
		if b := n.GetBoolExpr(); b != nil && b.Boolop == pg_query.BoolExprType_AND_EXPR {
			for _, a := range b.Args {
				walk(a)
			}
			return
		}
		e := n.GetAExpr()
		if e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Name[0].GetString_().GetSval() != "=" {
			return
		}
		for _, side := range [][2]*pg_query.Node{{e.Lexpr, e.Rexpr}, {e.Rexpr, e.Lexpr}} {
			if col := targetColumn(side[0], quals); col != "" && noColumns(side[1]) {
				cols = append(cols, col)
			}
		}
	}
	if cond != nil {
		walk(cond)
	}
	return cols
}

// targetColumn returns the column n names when n is a column reference to the target, else "".
func targetColumn(n *pg_query.Node, quals [][]string) string {
	ref := n.GetColumnRef()
	if ref == nil || len(ref.Fields) == 0 {
		return ""
	}
	var names []string
	for _, f := range ref.Fields {
		s := f.GetString_()
		if s == nil {
			return "" // t.*
		}
		names = append(names, s.Sval)
	}
	col, qual := names[len(names)-1], names[:len(names)-1]
	if len(qual) == 0 || slices.ContainsFunc(quals, func(q []string) bool { return slices.Equal(q, qual) }) {
		return col
	}
	return ""
}

// noColumns reports whether n is a value that names no column: a parameter, a constant, or a cast of one.
func noColumns(n *pg_query.Node) bool {
	switch {
	case n.GetParamRef() != nil, n.GetAConst() != nil:
		return true
	case n.GetTypeCast() != nil:
		return noColumns(n.GetTypeCast().Arg)
	}
	return false
}

// location returns the position the parse tree gives an expression node (the first field named location), or -1.
func location(n *pg_query.Node) int {
	m := n.ProtoReflect()
	var msg protoreflect.Message
	m.Range(func(_ protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		msg = v.Message()
		return false
	})
	if msg == nil {
		return -1
	}
	if fd := msg.Descriptor().Fields().ByName("location"); fd != nil {
		return int(msg.Get(fd).Int())
	}
	return -1
}

// insert describes an INSERT; next is the index of the token after its target and alias.
func (p *parser) insert(s *Statement, x *pg_query.InsertStmt, next int) (*InsertParts, error) {
	in := &InsertParts{}
	for _, c := range x.Cols {
		in.Columns = append(in.Columns, c.GetResTarget().GetName())
	}
	sel := x.SelectStmt.GetSelectStmt()
	if sel == nil || len(sel.ValuesLists) != 1 || sel.SortClause != nil || sel.LimitCount != nil ||
		sel.LimitOffset != nil || sel.LockingClause != nil || sel.WithClause != nil {
		return in, nil
	}
	// The grammar puts the VALUES right after the column list and the OVERRIDING clause; when it is
	// not there, it is in parentheses, and left alone.
	if len(x.Cols) > 0 {
		if next = p.closing(next); next < 0 {
			return nil, &Error{Offset: s.TargetPos, Msg: "INSERT column list not found"}
		}
		next++
	}
	if x.Override == pg_query.OverridingKind_OVERRIDING_SYSTEM_VALUE || x.Override == pg_query.OverridingKind_OVERRIDING_USER_VALUE {
		next += 3 // OVERRIDING SYSTEM|USER VALUE
	}
	if next+1 >= len(p.toks) || p.toks[next].Token != pg_query.Token_VALUES {
		return in, nil
	}
	var err error
	in.Values, err = p.values(s, next, sel.ValuesLists[0].GetList().GetItems())
	return in, err
}

// closing returns the index of the parenthesis or bracket closing the one at index open, or -1.
func (p *parser) closing(open int) int {
	depth := 0
	for i := open; i < len(p.toks); i++ {
		switch p.toks[i].Token {
		case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
			depth++
		case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
			if depth--; depth == 0 {
				return i
			}
		}
		if depth == 0 {
			return -1
		}
	}
	return -1
}

// values splits the row that follows the VALUES keyword at token index i into its items, at the
// commas directly inside its parentheses.
func (p *parser) values(s *Statement, i int, nodes []*pg_query.Node) (*ValuesList, error) {
	if p.toks[i+1].Token != pg_query.Token_ASCII_40 {
		return nil, &Error{Offset: int(p.toks[i+1].Start), Msg: "VALUES without '('"}
	}
	v := &ValuesList{Start: int(p.toks[i].Start), Open: int(p.toks[i+1].Start)}
	first, depth := i+2, 0
	for i += 2; i < len(p.toks); i++ {
		t := p.toks[i]
		switch t.Token {
		case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
			depth++
			continue
		case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
			if depth > 0 {
				depth--
				continue
			}
		case pg_query.Token_ASCII_44:
			if depth > 0 {
				continue
			}
		default:
			continue
		}
		// t is the row's ')' or a comma between items.
		if first == i {
			return nil, &Error{Offset: int(t.Start), Msg: "empty VALUES item"}
		}
		v.Items = append(v.Items, Item{Start: int(p.toks[first].Start), End: int(p.toks[i-1].End)})
		first = i + 1
		if t.Token == pg_query.Token_ASCII_41 {
			v.End = int(t.End)
			break
		}
	}
	if v.End == 0 || len(v.Items) != len(nodes) {
		return nil, &Error{Offset: v.Start, Msg: fmt.Sprintf("VALUES row: found %d items, the parser %d", len(v.Items), len(nodes))}
	}
	for k := range v.Items {
		it := &v.Items[k]
		it.Default = nodes[k].GetSetToDefault() != nil
		for _, r := range s.ParamRefs {
			if r.Start >= it.Start && r.End <= it.End {
				it.Params = append(it.Params, r)
			}
		}
		if ref := nodes[k].GetParamRef(); ref != nil && len(it.Params) == 1 && it.Params[0].Start == it.Start && it.Params[0].End == it.End {
			it.Param = int(ref.Number)
		}
	}
	return v, nil
}
