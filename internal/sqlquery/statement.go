package sqlquery

import (
	"strconv"
	"strings"
)

// Kind is the top-level verb of a statement.
type Kind int

const (
	Other Kind = iota
	Insert
	Update
	Delete
)

func (k Kind) String() string {
	return [...]string{"SELECT", "INSERT", "UPDATE", "DELETE"}[k]
}

// Statement is a query's top level, split into the clauses the generator rewrites. Text fields are
// copied verbatim from the query.
type Statement struct {
	Kind  Kind
	Table string // the written table, unquoted
	Alias string // the table's alias as written, or ""

	Columns []string // INSERT column list
	Values  []string // INSERT VALUES expressions when there is exactly one row of them
	Set     string   // UPDATE assignments
	Where   string   // UPDATE and DELETE condition
	// Returning is the RETURNING list, or "" when the statement has none.
	Returning string
	// Params is the highest $n the statement uses.
	Params int
	// Problem says why the statement cannot be wrapped, or is "".
	Problem string
}

// Write is a table that a statement writes, wherever in the statement it stands.
type Write struct {
	Verb  string // INSERT, UPDATE, DELETE, TRUNCATE, MERGE or COPY
	Table string
}

// Parse reads one statement (sqlc's "-- name:" comment may lead it).
func Parse(sql string) (*Statement, []Write) {
	toks := lex(sql)
	s := &Statement{}
	for _, t := range toks {
		if t.kind == tParam {
			if n, err := strconv.Atoi(t.text[1:]); err == nil && n > s.Params {
				s.Params = n
			}
		}
	}
	writes := findWrites(toks)
	if len(toks) == 0 {
		return s, writes
	}
	p := &splitter{src: sql, toks: toks}
	switch {
	case toks[0].is("INSERT"):
		p.insert(s)
	case toks[0].is("UPDATE"):
		p.update(s)
	case toks[0].is("DELETE"):
		p.delete(s)
	}
	return s, writes
}

type splitter struct {
	src  string
	toks []token
	i    int
}

func (p *splitter) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tPunct, start: len(p.src), end: len(p.src)}
}

func (p *splitter) accept(word string) bool {
	if p.peek().is(word) {
		p.i++
		return true
	}
	return false
}

// name reads a possibly qualified table name.
func (p *splitter) name() string {
	n, next := readName(p.toks, p.i)
	p.i = next
	return n
}

// alias reads an optional [AS] alias before the clause keyword stop.
func (p *splitter) alias(stops ...string) string {
	p.accept("AS")
	t := p.peek()
	if t.kind != tWord && t.kind != tQuoted {
		return ""
	}
	for _, s := range stops {
		if t.is(s) {
			return ""
		}
	}
	p.i++
	return t.text
}

// clauses returns the start index of each top-level keyword in words that appears after p.i.
func (p *splitter) clauses(words ...string) map[string]int {
	at := map[string]int{}
	for j := p.i; j < len(p.toks); j++ {
		t := p.toks[j]
		if t.depth != 0 {
			continue
		}
		for _, w := range words {
			if _, seen := at[w]; !seen && t.is(w) {
				at[w] = j
			}
		}
	}
	return at
}

// text returns the source between token indexes [from, to).
func (p *splitter) text(from, to int) string {
	if from >= to {
		return ""
	}
	end := len(p.src)
	if to < len(p.toks) {
		end = p.toks[to].start
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(p.src[p.toks[from].start:end]), ";"))
}

func (p *splitter) returning(s *Statement, at map[string]int) int {
	r, ok := at["RETURNING"]
	if !ok {
		return len(p.toks)
	}
	s.Returning = p.text(r+1, len(p.toks))
	return r
}

func (p *splitter) insert(s *Statement) {
	s.Kind = Insert
	p.i = 1
	if !p.accept("INTO") {
		s.Problem = "unrecognised INSERT"
		return
	}
	s.Table = p.name()
	s.Alias = p.alias("VALUES", "SELECT", "DEFAULT", "OVERRIDING")
	at := p.clauses("VALUES", "ON", "RETURNING")
	end := p.returning(s, at)
	if on, ok := at["ON"]; ok && on+1 < len(p.toks) && p.toks[on+1].is("CONFLICT") {
		s.Problem = "ON CONFLICT is not supported: an upsert is a CREATE or an UPDATE only at run time"
		end = on
	}
	if p.peek().text == "(" {
		open := p.i
		close := matching(p.toks, open)
		for _, part := range splitTop(p.toks, open+1, close) {
			s.Columns = append(s.Columns, unquote(p.text(part[0], part[1])))
		}
		p.i = close + 1
	}
	v, ok := at["VALUES"]
	if !ok || v+1 >= len(p.toks) || p.toks[v+1].text != "(" {
		return
	}
	close := matching(p.toks, v+1)
	if close+1 != end {
		return // several rows of VALUES, or something after them
	}
	for _, part := range splitTop(p.toks, v+2, close) {
		s.Values = append(s.Values, p.text(part[0], part[1]))
	}
}

func (p *splitter) update(s *Statement) {
	s.Kind = Update
	p.i = 1
	p.accept("ONLY")
	s.Table = p.name()
	s.Alias = p.alias("SET")
	if !p.accept("SET") {
		s.Problem = "unrecognised UPDATE"
		return
	}
	at := p.clauses("FROM", "WHERE", "RETURNING")
	end := p.returning(s, at)
	if _, ok := at["FROM"]; ok {
		s.Problem = "UPDATE ... FROM is not supported"
		return
	}
	w, ok := at["WHERE"]
	if !ok {
		s.Problem = "an UPDATE without WHERE is not supported"
		return
	}
	s.Set = p.text(p.i, w)
	s.Where = p.text(w+1, end)
	if strings.HasPrefix(strings.ToUpper(s.Where), "CURRENT OF") {
		s.Problem = "WHERE CURRENT OF is not supported"
	}
}

func (p *splitter) delete(s *Statement) {
	s.Kind = Delete
	p.i = 1
	if !p.accept("FROM") {
		s.Problem = "unrecognised DELETE"
		return
	}
	p.accept("ONLY")
	s.Table = p.name()
	s.Alias = p.alias("USING", "WHERE", "RETURNING")
	at := p.clauses("USING", "WHERE", "RETURNING")
	end := p.returning(s, at)
	if _, ok := at["USING"]; ok {
		s.Problem = "DELETE ... USING is not supported"
		return
	}
	w, ok := at["WHERE"]
	if !ok {
		s.Problem = "a DELETE without WHERE is not supported"
		return
	}
	s.Where = p.text(w+1, end)
}

// findWrites lists every table written anywhere in the statement, CTEs and subqueries included.
func findWrites(toks []token) []Write {
	var ws []Write
	add := func(verb string, j int) {
		if n, _ := readName(toks, j); n != "" {
			ws = append(ws, Write{Verb: verb, Table: n})
		}
	}
	for j, t := range toks {
		if t.kind != tWord {
			continue
		}
		prev := token{}
		if j > 0 {
			prev = toks[j-1]
		}
		switch {
		case t.is("INSERT") && j+1 < len(toks) && toks[j+1].is("INTO"):
			add("INSERT", j+2)
		case t.is("UPDATE") && !prev.is("FOR") && !prev.is("DO") && !prev.is("KEY") && !prev.is("THEN"):
			k := j + 1
			if k < len(toks) && toks[k].is("ONLY") {
				k++
			}
			add("UPDATE", k)
		case t.is("DELETE") && j+1 < len(toks) && toks[j+1].is("FROM"):
			k := j + 2
			if k < len(toks) && toks[k].is("ONLY") {
				k++
			}
			add("DELETE", k)
		case t.is("MERGE") && j+1 < len(toks) && toks[j+1].is("INTO"):
			add("MERGE", j+2)
		case t.is("COPY") && j == 0:
			add("COPY", j+1)
		case t.is("TRUNCATE"):
			k := j + 1
			for k < len(toks) && (toks[k].is("TABLE") || toks[k].is("ONLY")) {
				k++
			}
			for k < len(toks) {
				n, next := readName(toks, k)
				if n == "" {
					break
				}
				ws = append(ws, Write{Verb: "TRUNCATE", Table: n})
				if next < len(toks) && toks[next].text == "," {
					k = next + 1
					continue
				}
				break
			}
		}
	}
	return ws
}

// readName reads name[.name] at toks[i] and returns it unquoted with the index after it.
func readName(toks []token, i int) (string, int) {
	var parts []string
	for i < len(toks) && (toks[i].kind == tWord || toks[i].kind == tQuoted) {
		parts = append(parts, unquote(toks[i].text))
		i++
		if i+1 < len(toks) && toks[i].text == "." {
			i++
			continue
		}
		break
	}
	return strings.Join(parts, "."), i
}

func unquote(s string) string {
	if strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`) && len(s) >= 2 {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

// matching returns the index of the ")" closing the "(" at toks[open].
func matching(toks []token, open int) int {
	d := toks[open].depth
	for j := open + 1; j < len(toks); j++ {
		if toks[j].text == ")" && toks[j].depth == d {
			return j
		}
	}
	return len(toks)
}

// splitTop splits toks[from:to) on commas at the depth of toks[from].
func splitTop(toks []token, from, to int) [][2]int {
	if from >= to {
		return nil
	}
	d := toks[from].depth
	var parts [][2]int
	start := from
	for j := from; j < to; j++ {
		if toks[j].text == "," && toks[j].depth == d {
			parts = append(parts, [2]int{start, j})
			start = j + 1
		}
	}
	return append(parts, [2]int{start, to})
}

// ReplaceParams rewrites every $n in expr with repl(n); everything else is kept as written.
func ReplaceParams(expr string, repl func(n int) string) string {
	var b strings.Builder
	last := 0
	for _, t := range lex(expr) {
		if t.kind != tParam {
			continue
		}
		n, _ := strconv.Atoi(t.text[1:])
		b.WriteString(expr[last:t.start])
		b.WriteString(repl(n))
		last = t.end
	}
	b.WriteString(expr[last:])
	return b.String()
}
