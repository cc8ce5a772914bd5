// Package templates renders the audited SQL statements and the backstop triggers (the only non-Go text
// the generator writes). The emitter embeds the result in the generated Go as constants.
package templates

import (
	"embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/internal/ir"
	"github.com/auditrepo/auditrepo/internal/sqlquery"
	"github.com/auditrepo/auditrepo/internal/tags"
)

//go:embed *.sql.tmpl
var files embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"indent": indent, "ident": Ident, "lit": literal, "flag": func() string { return WriteFlag },
}).ParseFS(files, "*.tmpl"))

// WriteFlag is the transaction-local setting through which an audited statement tells the backstop trigger
// of its table that it writes its own audit rows.
const WriteFlag = "auditrepo.write"

// SQL renders the audited statement that wraps w.
func SQL(m *ir.Model, w *ir.Write) (string, error) {
	name := map[sqlquery.Kind]string{sqlquery.Insert: "create", sqlquery.Update: "update", sqlquery.Delete: "delete"}[w.Stmt.Kind]
	return render(name, newData(m, w, false))
}

// ManySQL renders the bulk variant of a Create (w.Many must be set).
func ManySQL(m *ir.Model, w *ir.Write) (string, error) {
	return render("create", newData(m, w, true))
}

// Backstop renders the SQL that installs the backstop triggers of every model (see backstop.sql.tmpl).
func Backstop(p *ir.Program) (string, error) {
	ds := make([]*data, len(p.Models))
	for i, m := range p.Models {
		ds[i] = &data{m: m}
	}
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, "backstop", ds); err != nil {
		return "", fmt.Errorf("rendering the backstop SQL: %w", err)
	}
	return b.String(), nil
}

func render(name string, d *data) (string, error) {
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, name, d); err != nil {
		return "", fmt.Errorf("rendering %s SQL for %s: %w", name, d.w.Query, err)
	}
	return b.String(), nil
}

// data is what the templates read: a model, and for a repository statement the write it wraps (w is nil
// in the backstop, which uses only the model's methods).
type data struct {
	m      *ir.Model
	w      *ir.Write
	action string // INSERT, UPDATE or DELETE
	params int
	insert string
}

func newData(m *ir.Model, w *ir.Write, many bool) *data {
	d := &data{m: m, w: w, action: w.Action(), params: len(w.Params)}
	s := w.Stmt
	if s.Kind == sqlquery.Insert {
		if many {
			d.insert = manyInsert(m, w)
		} else {
			// sqlc's text, minus its "-- name:" line.
			_, body, _ := strings.Cut(w.SQLText, "\n")
			d.insert = strings.TrimSuffix(strings.TrimSpace(body), ";")
		}
	}
	return d
}

// manyInsert turns INSERT ... VALUES ($1, f($2)) into INSERT ... SELECT ar_in.p1, f(ar_in.p2) FROM unnest(...).
func manyInsert(m *ir.Model, w *ir.Write) string {
	s := w.Stmt
	cols := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		cols[i] = Ident(c)
	}
	rowType := tableRef(m.Table)
	vals := make([]string, len(s.Values))
	for i, v := range s.Values {
		vals[i] = sqlquery.ReplaceParams(v, func(n int) string {
			p := "ar_in.p" + strconv.Itoa(n)
			if col := w.Many.ViaText[n-1]; col != "" {
				// The element's text, read in as the column's type (its name is not known here).
				return fmt.Sprintf("(jsonb_populate_record(NULL::%s, jsonb_build_object(%s, %s))).%s", rowType, literal(col), p, Ident(col))
			}
			return p
		})
	}
	arrays := make([]string, len(w.Many.ArrayTypes))
	names := make([]string, len(w.Many.ArrayTypes))
	for i, t := range w.Many.ArrayTypes {
		arrays[i] = fmt.Sprintf("$%d::%s[]", i+1, t)
		names[i] = "p" + strconv.Itoa(i+1)
	}
	target := rowType
	if s.Alias != "" {
		target += " AS " + s.Alias
	}
	return fmt.Sprintf("INSERT INTO %s (%s)\nSELECT %s\nFROM unnest(%s) AS ar_in(%s)\nRETURNING %s",
		target, strings.Join(cols, ", "), strings.Join(vals, ", "), strings.Join(arrays, ", "), strings.Join(names, ", "), s.Returning)
}

func (d *data) Action() string { return d.action }
func (d *data) Insert() string { return d.insert }
func (d *data) Where() string  { return d.w.Stmt.Where }
func (d *data) Set() string    { return d.w.Stmt.Set }
func (d *data) Count() bool    { return d.w.Result == ir.ResultCount }

// ReturnsRows: the statement returns the changed rows (:one or :many).
func (d *data) ReturnsRows() bool { return d.w.Result == ir.ResultRow || d.w.Result == ir.ResultRows }
func (d *data) TableLit() string  { return literal(d.m.Table) }

// As returns a copy of d for the given action (the backstop writes all three from one model).
func (d *data) As(action string) *data {
	c := *d
	c.action = action
	return &c
}

// Table is the model's table as SQL names it.
func (d *data) Table() string { return tableRef(d.m.Table) }

// BackstopFunc names the backstop trigger function of the model's table.
func (d *data) BackstopFunc() string {
	return Ident("auditrepo_backstop_" + nonIdent.ReplaceAllString(strings.ToLower(d.m.Table), "_"))
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]`)

// Changed is the array of the logged columns whose value differs between rows old and new, one CASE per
// line, each indented by ind and a tab. Columns marked ByText compare as text.
func (d *data) Changed(old, new, ind string) string {
	var b strings.Builder
	b.WriteString("array_remove(ARRAY[")
	for i, c := range d.logged() {
		if i > 0 {
			b.WriteByte(',')
		}
		o, n := old+"."+Ident(c.Name), new+"."+Ident(c.Name)
		if c.ByText {
			o, n = o+"::text", n+"::text"
		}
		fmt.Fprintf(&b, "\n%s\tCASE WHEN %s IS DISTINCT FROM %s THEN %s END", ind, o, n, literal(c.Name))
	}
	fmt.Fprintf(&b, "\n%s], NULL)", ind)
	return b.String()
}

// Returning is sqlc's RETURNING list, or all columns of the target for a statement without one (:exec,
// :execrows). Not a bare *: in an UPDATE that would also return the columns of ar_locked.
func (d *data) Returning() string {
	if d.w.Stmt.Returning == "" {
		return d.Ref() + ".*"
	}
	return d.w.Stmt.Returning
}

// Target is the written table with its alias as the query wrote it.
func (d *data) Target() string {
	t := tableRef(d.m.Table)
	if d.w.Stmt.Alias != "" {
		t += " " + d.w.Stmt.Alias
	}
	return t
}

// Ref is how the statement names a row of the target table.
func (d *data) Ref() string {
	if d.w.Stmt.Alias != "" {
		return d.w.Stmt.Alias
	}
	parts := strings.Split(d.m.Table, ".")
	return Ident(parts[len(parts)-1])
}

// Actor lists the placeholders of the five actor arguments the runtime appends.
func (d *data) Actor() string {
	ps := make([]string, audit.ActorArgs) // the runtime appends them after the statement's own
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(d.params+1+i)
	}
	return strings.Join(ps, ", ")
}

// Image is the JSON image of a row: excluded columns removed, redacted ones masked.
func (d *data) Image(row string) string {
	img := "to_jsonb(" + row + ")"
	var excluded, redacted []string
	for _, c := range d.m.Columns {
		switch {
		case c.Exclude:
			excluded = append(excluded, c.Name)
		case c.Redact:
			redacted = append(redacted, strconv.Quote(c.Name)+": \"[REDACTED]\"")
		}
	}
	if len(excluded) > 0 {
		img += " - " + arrayLit(excluded)
	}
	if len(redacted) > 0 {
		img += " || " + literal("{"+strings.Join(redacted, ", ")+"}") + "::jsonb"
	}
	return img
}

// logged are the columns whose change the trail records (every column but the excluded ones).
func (d *data) logged() []*ir.Column {
	var cs []*ir.Column
	for _, c := range d.m.Columns {
		if !c.Exclude {
			cs = append(cs, c)
		}
	}
	return cs
}

// PHILit is the array of columns whose change alone writes an audit row.
func (d *data) PHILit() string {
	var cs []string
	for _, c := range d.m.Columns {
		if !c.Exclude && !c.NonPHI {
			cs = append(cs, c.Name)
		}
	}
	return arrayLit(cs)
}

// PatientOf is the SQL expression for the patient id of row.
func (d *data) PatientOf(row string) string {
	p := d.m.Patient
	switch p.Kind {
	case tags.PatientSelf:
		if p.WhenColumn == "" {
			return row + ".id"
		}
		return fmt.Sprintf("CASE WHEN %s.%s = %s THEN %s.id END", row, Ident(p.WhenColumn), literal(p.WhenValue), row)
	case tags.PatientPath:
		expr := row + "." + Ident(p.Column)
		for i, h := range p.Hops {
			alias := "ar_h" + strconv.Itoa(i+1)
			expr = fmt.Sprintf("(SELECT %s.%s FROM %s %s WHERE %s.id = %s)", alias, Ident(h.Column), tableRef(h.Table), alias, alias, expr)
		}
		return expr
	}
	return row + "." + Ident(p.Column)
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func arrayLit(items []string) string { return literal("{"+strings.Join(items, ",")+"}") + "::text[]" }

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Ident quotes an identifier when PostgreSQL would not read it back as written.
func Ident(s string) string {
	if plainIdent.MatchString(s) && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func tableRef(t string) string {
	parts := strings.Split(t, ".")
	for i, p := range parts {
		parts[i] = Ident(p)
	}
	return strings.Join(parts, ".")
}

// reservedWords are PostgreSQL's reserved key words (they cannot be bare table or column names).
var reservedWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization binary both
		case cast check collate collation column concurrently constraint create cross current_catalog
		current_date current_role current_schema current_time current_timestamp current_user default
		deferrable desc distinct do else end except false fetch for foreign freeze from full grant group
		having ilike in initially inner intersect into is isnull join lateral leading left like limit
		localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing
		primary references returning right select session_user similar some symmetric system_user table
		tablesample then to trailing true union unique user using variadic verbose when where window with`) {
		reservedWords[w] = true
	}
}
