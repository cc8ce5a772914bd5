package ir

import (
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/diag"
	"github.com/auditrepo/auditrepo/internal/load"
	"github.com/auditrepo/auditrepo/internal/sqlparse"
	"github.com/auditrepo/auditrepo/internal/sqltext"
	"github.com/auditrepo/auditrepo/internal/tags"
)

// Build resolves and validates the models against sqlc's package and queries; the generated SQL writes to the
// audit schema a names.
func Build(in *load.Input, a Audit) (*Program, error) {
	parsed, errs := tags.Parse(in.Models)
	b := &builder{in: in, errs: errs, byTable: map[string]*Model{}, byFunc: map[string]*Model{}}
	a.ClaimSchema = auditschema.Config{Schema: a.Schema}.ClaimSchema()
	prog := &Program{SQLCPath: in.SQLC.PkgPath, SQLCName: in.SQLC.Name, DBArgument: in.DBArgument, Audit: a}
	for _, t := range parsed {
		prog.Models = append(prog.Models, b.model(t))
	}
	// Patient paths name other models' tables, so they resolve once every model is known.
	for i, t := range parsed {
		b.patient(t, prog.Models[i])
	}
	pos := make([]token.Position, len(parsed))
	for i, t := range parsed {
		pos[i] = t.Pos
	}
	b.throughModels(parsed, prog.Models)
	b.files(prog.Models, pos)
	patientTable(prog.Models)
	b.moves(prog.Models)
	b.queries()
	for _, m := range prog.Models {
		sort.Slice(m.Writes, func(i, j int) bool { return m.Writes[i].Method < m.Writes[j].Method })
		b.methodClashes(m)
		for _, w := range m.Writes {
			b.locals(w)
		}
	}
	b.constClashes(prog.Models)
	if err := b.errs.Err(); err != nil {
		return nil, err
	}
	return prog, nil
}

type builder struct {
	in      *load.Input
	errs    diag.List
	byTable map[string]*Model // by tableKey
	byFunc  map[string]*Model // by trigger function name
}

// tableKey is a table name as a tag spells it (TABLE or SCHEMA.TABLE), as PostgreSQL resolves it: schema.table,
// an unqualified table in DefaultSchema.
func tableKey(name string) string {
	if !strings.Contains(name, ".") {
		return DefaultSchema + "." + name
	}
	return name
}

// maxIdent is how long a name PostgreSQL keeps (NAMEDATALEN - 1 bytes); it truncates longer ones.
const maxIdent = 63

var nonIdent = regexp.MustCompile(`[^a-z0-9_]`)

func (b *builder) sqlcName() string { return b.in.SQLC.Name }

// model resolves a tagged struct against sqlc's row struct of the same name; problems are recorded
// and the model is returned all the same, so later checks can report theirs too.
func (b *builder) model(t *tags.Model) *Model {
	m := &Model{Name: t.Name, Table: t.Table, Schema: DefaultSchema, Relation: t.Table}
	if schema, rel, ok := strings.Cut(t.Table, "."); ok {
		m.Schema, m.Relation = schema, rel
	}
	m.Qualified = sqlparse.QuoteIdent(m.Schema) + "." + sqlparse.QuoteIdent(m.Relation)
	if strings.Contains(t.Table, BodyQuote) {
		b.errs.Addf(t.TablePos, "%s: table %s contains %s, which would end the generated trigger function's body; rename it", t.Name, t.Table, BodyQuote)
	}
	if t.Table != "" && !b.in.Tables[tableKey(t.Table)] {
		b.errs.Addf(t.TablePos, "%s: no table %s in sqlc's schema%s", t.Name, t.Table, b.catalogHint(t.Table))
	}
	m.Func = "audit_" + nonIdent.ReplaceAllString(strings.ToLower(m.Schema+"_"+m.Relation), "_")
	m.ClaimFunc = "claim_" + strings.TrimPrefix(m.Func, "audit_") // as long: as unique as Func
	if t.Table != "" {
		kept := m.Func[:min(len(m.Func), maxIdent)] // the name PostgreSQL keeps
		if prev, dup := b.byTable[tableKey(t.Table)]; dup {
			b.errs.Addf(t.TablePos, "%s: table %s is already the table of model %s", t.Name, t.Table, prev.Name)
		} else if prev, dup := b.byFunc[kept]; dup {
			b.errs.Addf(t.TablePos, "%s: table %s and table %s of model %s would share the audit trigger function %s (PostgreSQL keeps %d bytes of a name); rename one",
				t.Name, t.Table, prev.Table, prev.Name, kept, maxIdent)
		} else {
			b.byTable[tableKey(t.Table)] = m
			b.byFunc[kept] = m
		}
	}
	obj, _ := b.in.SQLC.Types.Scope().Lookup(t.Name).(*types.TypeName)
	var st *types.Struct
	if obj != nil {
		m.Row, _ = obj.Type().(*types.Named)
		if m.Row != nil {
			st, _ = m.Row.Underlying().(*types.Struct)
		}
	}
	if st == nil {
		if row := b.in.Naming.RowStruct(m.Schema, m.Relation); row != t.Name && b.isStruct(row) {
			b.errs.Addf(t.Pos, "%s: sqlc names the row struct of %s %s: name the model %s (or rename it in sqlc.yaml)", t.Name, t.Table, row, row)
		} else {
			b.errs.Addf(t.Pos, "%s: sqlc package %s has no row struct %s (is table %s in the schema?)", t.Name, b.sqlcName(), t.Name, t.Table)
		}
		return m
	}
	declared := map[string]tags.Field{}
	for _, f := range t.Fields {
		declared[f.Name] = f
	}
	inSQLC := map[string]bool{}
	for i := 0; i < st.NumFields(); i++ {
		sf := st.Field(i)
		inSQLC[sf.Name()] = true
		col := reflect.StructTag(st.Tag(i)).Get("db")
		if col == "" {
			b.errs.Addf(t.Pos, "%s: sqlc field %s.%s has no db tag; set emit_db_tags: true in sqlc.yaml", t.Name, t.Name, sf.Name())
			continue
		}
		f, ok := declared[sf.Name()]
		if !ok {
			b.errs.Addf(t.Pos, "%s: column %s of %s is not declared; add field %s %s, tagged audit:\"exclude\", \"redact\" or \"nonphi\" unless it is plain PHI",
				t.Name, col, t.Table, sf.Name(), types.TypeString(sf.Type(), b.qualifier))
			continue
		}
		if strings.Contains(col, BodyQuote) {
			b.errs.Addf(f.Pos, "%s.%s: column %s of %s contains %s, which would end the generated trigger function's body; rename it", t.Name, f.Name, col, t.Table, BodyQuote)
		}
		if !types.Identical(f.Type, sf.Type()) {
			b.errs.Addf(f.Pos, "%s.%s: type %s does not match sqlc's %s for column %s",
				t.Name, f.Name, types.TypeString(f.Type, b.qualifier), types.TypeString(sf.Type(), b.qualifier), col)
		}
		key := m.Schema + "." + m.Relation + "." + col
		c := &Column{Name: col, Type: sf.Type(), Exclude: f.Exclude, Redact: f.Redact, NonPHI: f.NonPHI,
			ByText: comparesByText(sf.Type()), ByBytes: isString(sf.Type()) && !b.in.ExactText[key], FloatText: !b.in.FloatFree[key],
			ByLength: b.in.Padded[key], SQLType: b.in.Types[key]}
		c.Exact = b.in.ExactText[key] && !c.ByText
		m.Columns = append(m.Columns, c)
		m.FloatDigits = m.FloatDigits || c.FloatText
	}
	for _, f := range t.Fields {
		if !inSQLC[f.Name] {
			b.errs.Addf(f.Pos, "%s.%s: no such column: sqlc's %s.%s has no field %s", t.Name, f.Name, b.sqlcName(), t.Name, f.Name)
		}
	}
	if id := m.Column("id"); id == nil || !isInt64(id.Type) {
		b.errs.Addf(t.Pos, "%s: table %s needs a bigint id column that is the primary key or NOT NULL UNIQUE", t.Name, t.Table)
	} else if id.Exclude {
		b.errs.Addf(t.Pos, "%s: the id column cannot be excluded: audit rows name their target by it", t.Name)
	}
	return m
}

// isStruct reports whether sqlc's package declares a struct type named name.
func (b *builder) isStruct(name string) bool {
	obj, ok := b.in.SQLC.Types.Scope().Lookup(name).(*types.TypeName)
	if !ok {
		return false
	}
	_, ok = obj.Type().Underlying().(*types.Struct)
	return ok
}

func (b *builder) qualifier(p *types.Package) string {
	if p == b.in.SQLC.Types {
		return b.sqlcName()
	}
	return p.Name()
}

// Column returns the column named name, or nil.
func (m *Model) Column(name string) *Column {
	for _, c := range m.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// byText are pgtype's types for SQL types without an equality operator (the geometric ones), or whose equality
// holds values the images tell apart: numeric 1.0 = 1.00, interval '1 day' = '24 hours'. (A float's -0 = 0 is
// left to equality: its text depends on the session's extra_float_digits, and could hide a real change.)
var byText = map[string]bool{"Point": true, "Line": true, "Lseg": true, "Box": true, "Path": true, "Polygon": true, "Circle": true,
	"Numeric": true, "Interval": true}

// comparesByText reports whether a column of Go type t may be of an SQL type that has no equality operator,
// where IS DISTINCT FROM fails at run time: sqlc maps json (and jsonb, bytea) to []byte, the geometric types
// to pgtype's, and types it does not know to interface{}; arrays of those have none either. Numeric and interval
// columns compare as text too: their equality holds values whose images differ, a change the trail must not
// miss (their text depends on no setting that could hide one: IntervalStyle's forms all tell units apart).
func comparesByText(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Pointer:
		return comparesByText(t.Elem())
	case *types.Slice:
		if b, ok := t.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return true
		}
		return comparesByText(t.Elem())
	case *types.Interface:
		return true
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && obj.Pkg().Path() == "github.com/jackc/pgx/v5/pgtype" && byText[obj.Name()] {
			return true
		}
		// A range of numerics holds [1.0,2.0) = [1.00,2.00): its bounds compare as they would alone.
		for i := range t.TypeArgs().Len() {
			if comparesByText(t.TypeArgs().At(i)) {
				return true
			}
		}
		_, isIface := t.Underlying().(*types.Interface)
		return isIface
	}
	return false
}

// isString reports whether a column of Go type t holds text: a string (sqlc's type for text, varchar, citext and
// enums), pgtype.Text, or a pointer to or slice of one. Its SQL type's equality may hold texts that differ: citext's
// ignores case, and so does a nondeterministic collation's. The schema tells whose equality is exact
// (Input.ExactText): those compare by it alone.
func isString(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Pointer:
		return isString(t.Elem())
	case *types.Slice:
		return isString(t.Elem())
	case *types.Named:
		if obj := t.Obj(); obj.Pkg() != nil && obj.Pkg().Path() == "github.com/jackc/pgx/v5/pgtype" && obj.Name() == "Text" {
			return true
		}
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.String
}

func isInt64(t types.Type) bool {
	if bt, ok := t.(*types.Basic); ok {
		return bt.Kind() == types.Int64
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "github.com/jackc/pgx/v5/pgtype" && n.Obj().Name() == "Int8"
}

// excludedOnPath reports column c of at, on t's patient path, if it is excluded: every audit row carries what the
// path leads to (patient_id, prior_patient_id, MOVE rows), so an excluded column there would show through it.
func (b *builder) excludedOnPath(t *tags.Model, p tags.Patient, at *Model, c *Column) bool {
	if c.Exclude {
		b.errs.Addf(p.Pos, "%s: patient path: %s.%s is excluded, but the path writes what it leads to into every audit row (patient_id, MOVE rows); audit it, or redact it", t.Name, at.Table, c.Name)
	}
	return c.Exclude
}

// patient resolves the patient path: every column and table it names must exist, and none may be excluded.
func (b *builder) patient(t *tags.Model, m *Model) {
	p := t.Patient
	m.Patient = Patient{Kind: p.Kind, Column: p.Column, WhenColumn: p.WhenColumn, WhenValue: p.WhenValue}
	if m.Row == nil || (p.Kind != tags.PatientSelf && p.Column == "") {
		return // already reported
	}
	needID := func(at *Model, col string, what string) bool {
		c := at.Column(col)
		if c == nil {
			b.errs.Addf(p.Pos, "%s: patient path: %s has no column %s", t.Name, at.Table, col)
			return false
		}
		if !isInt64(c.Type) {
			b.errs.Addf(p.Pos, "%s: patient path: %s.%s must be a bigint %s", t.Name, at.Table, col, what)
			return false
		}
		return !b.excludedOnPath(t, p, at, c)
	}
	switch p.Kind {
	case tags.PatientSelf:
		if c := m.Column(p.WhenColumn); p.WhenColumn != "" && c == nil {
			b.errs.Addf(p.Pos, "%s: patient path: %s has no column %s", t.Name, m.Table, p.WhenColumn)
		} else if c != nil {
			b.excludedOnPath(t, p, m, c)
		}
		if strings.Contains(p.WhenValue, BodyQuote) {
			b.errs.Addf(p.Pos, "%s: patient path: value %q contains %s, which would end the generated trigger function's body", t.Name, p.WhenValue, BodyQuote)
		}
	case tags.PatientColumn:
		needID(m, p.Column, "holding the patient's user id")
	case tags.PatientPath:
		at, col := m, p.Column
		for _, h := range p.Hops {
			if !needID(at, col, "holding an id of "+h.Table) {
				return
			}
			next := b.byTable[tableKey(h.Table)]
			if next == nil {
				b.errs.Addf(p.Pos, "%s: patient path: no such table %s among the models of %s%s", t.Name, h.Table, filepathBase(t.Pos.Filename), b.nearestTable(h.Table))
				return
			}
			m.Patient.Hops = append(m.Patient.Hops, Hop{Table: h.Table, Column: h.Column, Qualified: next.Qualified})
			at, col = next, h.Column
		}
		needID(at, col, "holding the patient's user id")
	}
}

// patientTable sets each model's PatientTable: the table of the one model whose rows are patients, if one is.
func patientTable(models []*Model) {
	var selves []*Model
	for _, m := range models {
		if m.Patient.Kind == tags.PatientSelf {
			selves = append(selves, m)
		}
	}
	if len(selves) != 1 {
		return
	}
	for _, m := range models {
		m.PatientTable = selves[0].Qualified
	}
}

// throughModels checks that a patient path through another model's table goes on as that model's own patient
// path: from the hop table on, the path must be the hop model's path or its patient column. A path cut short
// (note_id -> notes.visit_id, where notes' path is visit_id -> visits.patient_id) would file the dependent's rows
// under an id of another table as if it were a patient's. A model whose rows are their own patients (self, with
// or without a condition) is no hop: the column that refers to it names the patient, as a patient column (whose
// key to the patients' table install checks). The hop model's own path is checked in turn, so checking the
// first hop checks them all.
func (b *builder) throughModels(parsed []*tags.Model, models []*Model) {
	for i, t := range parsed {
		m, p := models[i], t.Patient
		if p.Kind != tags.PatientPath || len(m.Patient.Hops) != len(p.Hops) {
			continue // not a path, or reported by patient
		}
		if last := p.Hops[len(p.Hops)-1]; b.byTable[tableKey(last.Table)].Column(last.Column) == nil {
			continue // reported by patient
		}
		first := p.Hops[0]
		hop := b.byTable[tableKey(first.Table)]
		// The path from the hop table on: the column read there, then the hops after it.
		var col string
		var rest []Hop
		switch hop.Patient.Kind {
		case tags.PatientSelf:
			if first.Column == "id" {
				b.errs.Addf(p.Pos, "%s: patient path: %s is the table of model %s, whose rows are their own patients: %s holds the patient's id already; write patient:%q",
					t.Name, first.Table, hop.Name, p.Column, p.Column)
			} else {
				// Another column of a patient's row is no patient whose key install could check.
				b.errs.Addf(p.Pos, "%s: patient path: %s is the table of model %s, whose rows are their own patients: a path through it can only end at its id, not %s; name the column of %s that holds the patient's id, as patient:\"COLUMN\"",
					t.Name, first.Table, hop.Name, first.Column, t.Table)
			}
			continue
		case tags.PatientColumn:
			col = hop.Patient.Column
		case tags.PatientPath:
			if hi := slices.Index(models, hop); hi < 0 || len(hop.Patient.Hops) != len(parsed[hi].Patient.Hops) {
				continue // the hop model's own path is reported
			}
			col, rest = hop.Patient.Column, hop.Patient.Hops
		default:
			continue
		}
		same := first.Column == col && len(p.Hops) == 1+len(rest)
		for j := 0; same && j < len(rest); j++ {
			h := p.Hops[1+j]
			same = b.byTable[tableKey(h.Table)] == b.byTable[tableKey(rest[j].Table)] && h.Column == rest[j].Column
		}
		if same {
			continue
		}
		steps := []string{col}
		for _, h := range rest {
			steps = append(steps, h.Table+"."+h.Column)
		}
		whose := "whose patient path is " + strings.Join(steps, " -> ")
		if hop.Patient.Kind == tags.PatientColumn {
			whose = "whose patient is its column " + col
		}
		path := p.Column + " -> " + first.Table + "." + strings.Join(steps, " -> ")
		b.errs.Addf(p.Pos, "%s: patient path: %s is the table of model %s, %s; a path through it must go on as that one does, to the patient's id: write patient:%q",
			t.Name, first.Table, hop.Name, whose, path)
	}
}

// moves records, on each table a patient path goes through, the dependent models whose rows an UPDATE of that
// table can move to another patient.
func (b *builder) moves(models []*Model) {
	for _, d := range models {
		hops := d.Patient.Hops
		if d.Patient.Kind != tags.PatientPath {
			continue
		}
		for i, h := range hops {
			owner := b.byTable[tableKey(h.Table)]
			if owner == nil {
				continue // reported by patient
			}
			mv := &Move{Dependent: d, Column: h.Column, Rest: hops[i+1:]}
			for j := i - 1; j >= 0; j-- {
				mv.Back = append(mv.Back, Hop{Table: hops[j].Table, Column: hops[j].Column, Qualified: hops[j].Qualified})
			}
			mv.Back = append(mv.Back, Hop{Table: d.Table, Column: d.Patient.Column, Qualified: d.Qualified})
			owner.Moves = append(owner.Moves, mv)
		}
	}
}

// catalogHint suggests the table of sqlc's schema that a tag's table name not in it means: the same name in other
// case (the tag names the table as the catalog has it, and PostgreSQL folds an unquoted name in SQL to lower
// case), else the nearest one.
func (b *builder) catalogHint(name string) string {
	best, bestD := nearest(tableKey(name), slices.Collect(maps.Keys(b.in.Tables)))
	if !strings.Contains(name, ".") {
		best = strings.TrimPrefix(best, DefaultSchema+".")
	}
	switch {
	case best != "" && bestD < 0:
		return fmt.Sprintf("; did you mean %s? (the tag names the table as the catalog has it: PostgreSQL folds unquoted names in SQL to lower case)", best)
	case best != "" && bestD <= max(2, len(name)/3):
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return ""
}

// nearestTable suggests the model table whose name is nearest to name (a misspelling), or says how to make
// name one.
func (b *builder) nearestTable(name string) string {
	var tables []string
	for _, m := range b.byTable {
		tables = append(tables, m.Table)
	}
	if best, d := nearest(name, tables); best != "" && d <= max(2, len(name)/3) {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return " (declare it with audit.Model)"
}

// nearest returns the candidate nearest to name by edit distance in lower case (ties go to the first by name),
// and its distance: -1 for one that differs from name only in case; "" when there is none.
func nearest(name string, candidates []string) (string, int) {
	best, bestD := "", 0
	for _, c := range candidates {
		d := tags.Distance(strings.ToLower(name), strings.ToLower(c))
		if strings.EqualFold(c, name) {
			d = -1
		}
		if best == "" || d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	return best, bestD
}

func filepathBase(p string) string { return p[strings.LastIndexAny(p, `/\`)+1:] }

// queries wraps every sqlc query that writes a PHI table, and reports those it cannot wrap.
func (b *builder) queries() {
	scope := b.in.SQLC.Types.Scope()
	q, _ := scope.Lookup("Queries").(*types.TypeName)
	if q == nil {
		b.errs.Addf(token.Position{}, "sqlc package %s has no Queries type", b.sqlcName())
		return
	}
	ms := types.NewMethodSet(types.NewPointer(q.Type()))
	for i := 0; i < ms.Len(); i++ {
		fn := ms.At(i).Obj().(*types.Func)
		if !takesContext(fn) {
			continue // WithTx: not a query
		}
		src, scanned := b.in.Queries[fn.Name()]
		cname := lowerFirst(fn.Name())
		if b.in.ExportedQueries {
			cname = fn.Name() // emit_exported_queries
		}
		c, _ := scope.Lookup(cname).(*types.Const)
		if c != nil && c.Val().Kind() == constant.String {
			text := constant.StringVal(c.Val())
			if name, cmd, at, ok := load.Header(text); ok && at == 0 && name == fn.Name() {
				if !scanned {
					// Positions and doc comments point into the query files; a query found only in sqlc's output
					// (stale output, or a header this scan misread) has none, and its writes are not judged.
					b.errs.Addf(b.goPos(c), "%s: sqlc's query has no name header in the query files of sqlc's configuration; run sqlc generate", fn.Name())
					continue
				}
				b.query(fn, cmd, text, src)
				continue
			}
		}
		// No SQL constant (sqlc's :copyfrom): judge the query by its source text.
		if !scanned {
			b.errs.Addf(b.goPos(fn), "%s: sqlc's method has no SQL constant and no query of that name in the query files of sqlc's configuration, so what it writes cannot be judged; run sqlc generate", fn.Name())
			continue
		}
		b.uncovered(fn.Name(), src)
	}
}

// takesContext reports whether sqlc's method fn takes a context first, as every query method does.
func takesContext(fn *types.Func) bool {
	ps := fn.Type().(*types.Signature).Params()
	if ps.Len() == 0 {
		return false
	}
	n, ok := ps.At(0).Type().(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

// goPos is the position of obj's declaration in sqlc's package.
func (b *builder) goPos(obj types.Object) token.Position {
	return b.in.SQLC.Fset.Position(obj.Pos())
}

// uncovered reports a query sqlc runs without a SQL constant (:copyfrom) if it writes a PHI table; a text that
// does not parse is reported too, since what it writes cannot be told.
func (b *builder) uncovered(name string, src load.Query) {
	stmt, err := sqlparse.Parse(src.Text)
	if err != nil {
		b.errs.Addf(b.at(src, sqlparse.ErrorOffset(err)), "%s: %s query: what it writes cannot be told: %v", name, src.Cmd, err)
		return
	}
	if len(stmt.Hidden) > 0 {
		b.hidden(name, b.at(src, stmt.Hidden[0].Pos), stmt.Hidden[0].Verb)
		return
	}
	for _, w := range stmt.Writes {
		if m := b.phi(w.Table); m != nil {
			b.errs.Addf(b.at(src, w.Pos), "%s: %s %s on PHI table %s is not covered by a generated wrapper: write an INSERT :one query and use its generated Many method",
				name, src.Cmd, w.Verb, m.Table)
			return
		}
		if m := b.throughView(w.Table); m != nil {
			b.errs.Addf(b.at(src, w.Pos), viewWrite, name, w.Verb, w.Table.Name, m.Table)
			return
		}
		if b.unfollowed(w.Table) {
			b.errs.Addf(b.at(src, w.Pos), unfollowedWrite, name, w.Verb, w.Table)
			return
		}
	}
}

// unfollowedWrite is the error of a write to a relation that sqlc's schema does not leave as a table or a view:
// query, verb, relation.
const unfollowedWrite = "%s: %s on %s, which sqlc's schema does not leave as a table or a view (a foreign table, a materialized view, or a relation made or renamed in a way the generator does not follow): the generator cannot tell whether it writes a PHI table; write the table itself"

// unfollowed reports whether t, which no model has, is neither a table nor a view of sqlc's schema as its files
// leave them: what a write to it reaches cannot be told, so it is refused as a PHI write the generator cannot wrap
// would be.
func (b *builder) unfollowed(t sqlparse.Table) bool {
	key := relKey(t)
	_, view := b.in.Views[key]
	return !b.in.Tables[key] && !view
}

// viewWrite is the error of a write through a view of a PHI table: query, verb, view, table.
const viewWrite = "%s: %s through view %s of PHI table %s is not covered by a generated wrapper: the claim covers the table a statement names; write %[4]s itself"

// hiddenWhy says why a statement whose writes its text does not show is refused.
var hiddenWhy = map[string]string{
	"DO":      "DO block: the generator cannot see what its body writes, and a write to a PHI table there would have no wrapper; write each statement as a query of its own",
	"EXECUTE": "EXECUTE of a prepared statement: the generator cannot see what it writes, and a write to a PHI table there would have no wrapper; make that statement a query of its own",
}

// hidden reports query name, which holds a statement of verb at pos: whatever table it writes, it cannot be
// wrapped.
func (b *builder) hidden(name string, pos token.Position, verb string) {
	b.errs.Addf(pos, "%s: %s", name, hiddenWhy[verb])
}

// phi returns the model whose table t names, as PostgreSQL resolves it (an unqualified name is in
// DefaultSchema), or nil.
func (b *builder) phi(t sqlparse.Table) *Model {
	return b.byTable[relKey(t)]
}

// relKey is a table a statement names, as PostgreSQL resolves it: schema.table, an unqualified one in
// DefaultSchema (the keys of byTable and of load.Input's maps).
func relKey(t sqlparse.Table) string {
	schema := t.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	return schema + "." + t.Name
}

// throughView returns, for a write to a view of sqlc's schema that reads a PHI table (through other views too),
// that model, or nil. PostgreSQL runs such a write on the table, whose triggers record it, but it carries no claim
// of this table: the generator refuses it, as any write it cannot wrap.
func (b *builder) throughView(t sqlparse.Table) *Model {
	seen := map[string]bool{}
	var find func(rel string) *Model
	find = func(rel string) *Model {
		if seen[rel] {
			return nil
		}
		seen[rel] = true
		for _, r := range b.in.Views[rel] {
			if m := b.byTable[r]; m != nil {
				return m
			}
			if m := find(r); m != nil {
				return m
			}
		}
		return nil
	}
	return find(relKey(t))
}

// at is the position in the query file of byte offset off of src's text.
func (b *builder) at(src load.Query, off int) token.Position {
	line, col := sqlparse.Position(src.Text, off)
	p := src.Pos
	if line == 1 {
		col += p.Column - 1
	}
	p.Line, p.Column = p.Line+line-1, col
	return p
}

func (b *builder) query(fn *types.Func, cmd, text string, src load.Query) {
	stmt, err := sqlparse.Parse(text)
	if err != nil {
		b.errs.Addf(src.Pos, "%s: parsing sqlc's statement: %v", fn.Name(), err)
		return
	}
	// Offsets in sqlc's text, which rewrites sqlc.arg() and @name to $n, are found again in the user's text (by
	// the order of the writes); positions fall back to the query's name line.
	user, uerr := sqlparse.Parse(src.Text)
	if len(stmt.Hidden) > 0 {
		pos := src.Pos
		if uerr == nil && len(user.Hidden) > 0 {
			pos = b.at(src, user.Hidden[0].Pos)
		}
		b.hidden(fn.Name(), pos, stmt.Hidden[0].Verb)
		return
	}
	userPos := func(i int) token.Position {
		if uerr == nil && len(user.Writes) == len(stmt.Writes) {
			return b.at(src, user.Writes[i].Pos)
		}
		return src.Pos
	}
	var target *Model
	var targetAt token.Position
	for i, w := range stmt.Writes {
		m := b.phi(w.Table)
		if m == nil {
			if v := b.throughView(w.Table); v != nil {
				b.errs.Addf(userPos(i), viewWrite, fn.Name(), w.Verb, w.Table.Name, v.Table)
				return
			}
			if b.unfollowed(w.Table) {
				b.errs.Addf(userPos(i), unfollowedWrite, fn.Name(), w.Verb, w.Table)
				return
			}
			continue
		}
		switch {
		case w.Verb != "INSERT" && w.Verb != "UPDATE" && w.Verb != "DELETE":
			b.errs.Addf(userPos(i), "%s: %s on PHI table %s cannot be audited row by row: %s", fn.Name(), w.Verb, m.Table, refusedVerbs[w.Verb])
			return
		case !w.TopLevel && w.Within == "EXPLAIN ANALYZE":
			b.errs.Addf(userPos(i), "%s: %s on PHI table %s under EXPLAIN ANALYZE is not covered by a generated wrapper: EXPLAIN ANALYZE runs the statement unwrapped, without a claim; make the %s a query of its own", fn.Name(), w.Verb, m.Table, w.Verb)
			return
		case !w.TopLevel && w.Within == "EXPLAIN":
			b.errs.Addf(userPos(i), "%s: %s on PHI table %s under EXPLAIN is not covered by a generated wrapper; make the %s a query of its own", fn.Name(), w.Verb, m.Table, w.Verb)
			return
		case !w.TopLevel:
			b.errs.Addf(userPos(i), "%s: %s on PHI table %s inside a %s is not covered by a generated wrapper: the claim covers the statement's own target; make it a query of its own", fn.Name(), w.Verb, m.Table, w.Within)
			return
		}
		target, targetAt = m, userPos(i)
	}
	if target == nil || target.Row == nil {
		return
	}
	// fail reports what the statement's shape or sqlc's method makes impossible to wrap, at pos.
	fail := func(pos token.Position, format string, args ...any) {
		args = append([]any{fn.Name(), stmt.Kind, target.Table}, args...)
		b.errs.Addf(pos, "%s: %s on PHI table %s is not covered by a generated wrapper: "+format, args...)
	}
	if !stmt.ReadOnlyCTEs {
		for i, w := range stmt.Writes {
			if !w.TopLevel {
				b.errs.Addf(userPos(i), "%s: %s on table %s inside a WITH: a statement that writes PHI table %s may only read in its WITH (writes there run unordered with the statement and its claim)", fn.Name(), w.Verb, w.Table, target.Table)
				return
			}
		}
	}
	sig := fn.Type().(*types.Signature)
	w := &Write{Query: fn.Name(), Const: "audited" + fn.Name(), Source: src.Pos, SQLText: text, Stmt: stmt, Method: methodName(fn.Name(), target.Name),
		Action: actions[stmt.Kind], Table: target.Table, ClaimFunc: target.ClaimFunc, Returns: stmt.HasReturning}
	w.Claim = target.Name + "Repo." + w.Method
	switch {
	case stmt.CurrentOf:
		fail(targetAt, "WHERE CURRENT OF leaves no condition to add the claim to; select the row by its key")
		return
	case stmt.Kind == sqlparse.Insert && oneRow(stmt.Insert):
		// The row's text without its parentheses, comments before and inside them kept.
		v := stmt.Insert.Values
		// The template puts a line break after them, which ends a trailing line comment.
		items := strings.TrimSpace(stmt.Text[v.Open+1 : v.End-1])
		if lead := strings.TrimSpace(stmt.Text[v.Start+len("VALUES") : v.Open]); lead != "" {
			sep := " "
			if sqlparse.EndsInLineComment(lead) {
				sep = "\n" // else the comment would run over the items
			}
			items = lead + sep + items
		}
		w.Select = &Select{Head: stmt.Text[stmt.Start:v.Start], Items: items, Rest: stmt.Text[v.End:stmt.Tail]}
	case stmt.Kind == sqlparse.Insert:
		w.Body = stmt.Text[stmt.Start:stmt.End]
		if !w.Returns {
			// The claim's statement counts the changed rows; a trailing comment stays after the clause.
			w.Body += " RETURNING true"
		}
		w.Body += stmt.Text[stmt.End:stmt.Tail]
	default:
		// A condition that pins the key (id = $1, the target's id: every model has one) changes at most one row,
		// and the claim as a plain condition costs least; any other may change many, and the claim runs once for
		// them rather than for each row (about 18k instructions a row in the server, 15k once).
		c := stmt.Cond
		w.Where = &Where{Head: stmt.Text[stmt.Start:c.Start], Cond: stmt.Text[c.Start:c.End], Rest: stmt.Text[c.End:stmt.Tail],
			Once: !slices.Contains(stmt.Pinned, "id")}
	}
	w.ClaimAt = stmt.Params + 1
	switch cmd {
	case ":one":
		w.Result = ResultRow
	case ":many":
		w.Result = ResultRows
	case ":execrows":
		w.Result = ResultCount
	case ":exec":
		w.Result = ResultNone
	default:
		if single, ok := batchSingle[cmd]; ok {
			fail(src.Pos, "sqlc command %s is not supported; write the query as %s and call its repository method for each item, in a pgx.Tx (repo.New(tx)) to commit them together%s",
				cmd, single, map[bool]string{true: " (an INSERT :one of one VALUES row also gets a Many method, which inserts them all in one statement)"}[stmt.Kind == sqlparse.Insert])
			return
		}
		fail(src.Pos, "sqlc command %s is not supported", cmd)
		return
	}
	if sig.Results().Len() == 2 {
		w.Row = sig.Results().At(0).Type()
	}
	first := 1 // sqlc's arguments after ctx (and the DBTX, with emit_methods_with_db_argument)
	if b.in.DBArgument {
		first = 2
	}
	for i := first; i < sig.Params().Len(); i++ {
		arg := sig.Params().At(i)
		w.Args = append(w.Args, Arg{Name: arg.Name(), Type: arg.Type()})
	}
	if len(w.Args) == 1 {
		if st, ok := w.Args[0].Type.Underlying().(*types.Struct); ok && strings.HasSuffix(typeName(w.Args[0].Type), "Params") {
			for i := 0; i < st.NumFields(); i++ {
				w.Params = append(w.Params, Param{Field: st.Field(i).Name(), Type: st.Field(i).Type()})
			}
		}
	}
	if w.Params == nil {
		for _, a := range w.Args { // scalars, in $n order (query_parameter_limit)
			w.Params = append(w.Params, Param{Type: a.Type})
		}
	}
	for _, p := range w.Params {
		if !Spellable(p.Type) {
			fail(src.Pos, "parameter type %s is not supported", types.TypeString(p.Type, b.qualifier))
			return
		}
	}
	if len(w.Params) != stmt.Params {
		fail(src.Pos, "sqlc's method takes %d parameters but the SQL uses $%d", len(w.Params), stmt.Params)
		return
	}
	// The bulk variant takes a slice of sqlc's argument: with several (query_parameter_limit), there is none.
	if stmt.Kind == sqlparse.Insert && w.Result == ResultRow && len(w.Args) == 1 && manyable(stmt) {
		b.many(target, w)
	}
	target.Writes = append(target.Writes, w)
}

// batchSingle is the command to write in place of each of sqlc's batch commands.
var batchSingle = map[string]string{":batchexec": ":exec", ":batchone": ":one", ":batchmany": ":many"}

// refusedVerbs says why a statement kind cannot be wrapped.
var refusedVerbs = map[string]string{
	"TRUNCATE": "no audit row could describe it; delete the rows instead",
	"MERGE":    "its WHEN actions have no one condition to carry the claim; write INSERT ... ON CONFLICT, UPDATE or DELETE",
	"COPY":     "use an INSERT :one query and its generated Many method",
}

// manyable: a bulk variant can replace the single VALUES row item for item: no DEFAULT items, one per column, and
// every $n inside an item; a $n elsewhere (a leading WITH, ON CONFLICT, RETURNING) would be an array there.
func manyable(s *sqlparse.Statement) bool {
	ins := s.Insert
	if !oneRow(ins) || len(ins.Values.Items) != len(ins.Columns) {
		return false
	}
	inItems := 0
	for _, it := range ins.Values.Items {
		inItems += len(it.Params)
	}
	return inItems == len(s.ParamRefs)
}

// Spellable reports whether the emitter can write t: the kinds of types sqlc puts in its API.
func Spellable(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		return t.TypeArgs().Len() == 0
	case *types.Basic:
		return true
	case *types.Pointer:
		return Spellable(t.Elem())
	case *types.Slice:
		return Spellable(t.Elem())
	case *types.Interface:
		return t.Empty()
	}
	return false
}

func typeName(t types.Type) string {
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

func (b *builder) many(m *Model, w *Write) {
	many := &Many{Method: w.Method + "Many", Const: w.Const + "Many", ViaText: make([]string, len(w.Params)), ClaimAt: len(w.Params) + 1}
	many.Claim = m.Name + "Repo." + many.Method
	ins := w.Stmt.Insert
	for i, p := range w.Params {
		pg, ok := pgType(p.Type)
		if !ok {
			col := bareValueColumn(ins, i+1)
			if !textual(p.Type) || col == "" {
				// No bulk variant, as for a DEFAULT item: the Create is fine without one (an array column's
				// []string has no array of arrays that unnest could take apart row by row). Its doc comment says why.
				name := p.Field
				if name == "" {
					name = fmt.Sprintf("$%d", i+1)
				}
				w.NoMany = fmt.Sprintf("It has no %s: parameter %s has Go type %s, which has no known PostgreSQL array type to unnest.",
					many.Method, name, types.TypeString(p.Type, b.qualifier))
				if s, ok := p.Type.(*types.Slice); ok && col != "" && types.Identical(s.Elem(), types.Typ[types.Byte]) {
					// sqlc's type for json, jsonb and bytea alike: which one the column is, only the schema knows.
					w.NoMany += fmt.Sprintf(" If %s is a json or jsonb column, pass it as text to get one: sqlc.narg(%s)::text::json (or ::jsonb).", col, col)
				}
				return
			}
			pg, many.ViaText[i] = "text", col
		}
		many.ArrayTypes = append(many.ArrayTypes, pg)
	}
	many.Insert = manyInsert(m, w.Stmt, many)
	w.Many = many
}

// oneRow reports whether an INSERT's source is one VALUES row without DEFAULT, which a SELECT of the same items
// can replace (a SELECT has no DEFAULT).
func oneRow(in *sqlparse.InsertParts) bool {
	return in.Values != nil && !slices.ContainsFunc(in.Values.Items, func(it sqlparse.Item) bool { return it.Default })
}

// manyInsert splices sqlc's INSERT: its VALUES row ($1, f($2)) becomes SELECT ar_in.p1, f(ar_in.p2) FROM
// unnest(...); everything else (the column list, OVERRIDING, ON CONFLICT, RETURNING, comments) stays as written.
func manyInsert(m *Model, s *sqlparse.Statement, many *Many) *Select {
	vl := s.Insert.Values
	vals := make([]string, len(vl.Items))
	for i, it := range vl.Items {
		vals[i] = sqlparse.ReplaceParams(s.Text, it.Start, it.End, it.Params, func(n int) string {
			p := "ar_in.p" + strconv.Itoa(n)
			if col := many.ViaText[n-1]; col != "" {
				// The element's text, read in as the column's type (its name is not known here).
				return fmt.Sprintf("(jsonb_populate_record(NULL::%s, jsonb_build_object(%s, %s))).%s", sqlparse.QuoteTypeQualifier(m.Schema)+"."+sqlparse.QuoteIdent(m.Relation), sqltext.Literal(col), p, sqlparse.QuoteIdent(col))
			}
			return p
		})
	}
	arrays := make([]string, len(many.ArrayTypes))
	names := make([]string, len(many.ArrayTypes))
	for i, t := range many.ArrayTypes {
		arrays[i] = fmt.Sprintf("$%d::%s[]", i+1, t)
		names[i] = "p" + strconv.Itoa(i+1)
	}
	return &Select{Head: s.Text[s.Start:vl.Start], Rest: s.Text[vl.End:s.Tail], Once: true,
		Items: fmt.Sprintf("%s\nFROM unnest(%s) AS ar_in(%s)", strings.Join(vals, ", "), strings.Join(arrays, ", "), strings.Join(names, ", "))}
}

// actions maps a statement's verb to the audit action its rows record.
var actions = map[sqlparse.Kind]audit.Action{sqlparse.Insert: audit.ActionCreate, sqlparse.Update: audit.ActionUpdate, sqlparse.Delete: audit.ActionDelete}

// textual reports whether pgx sends values of t as text: a string type (sqlc's enums), or sqlc's Null form of
// one (a struct of the value and Valid, whose driver.Valuer gives the string or NULL), or a pointer to a string type
// (emit_pointers_for_null_types: nil is NULL), as pgType takes pointers.
func textual(t types.Type) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		return textual(p.Elem())
	}
	if b, ok := t.Underlying().(*types.Basic); ok {
		return b.Kind() == types.String
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok || st.NumFields() != 2 || st.Field(1).Name() != "Valid" || !types.Identical(st.Field(1).Type(), types.Typ[types.Bool]) {
		return false
	}
	v, isStr := st.Field(0).Type().Underlying().(*types.Basic)
	hasValue := types.NewMethodSet(t).Lookup(nil, "Value") != nil
	return isStr && v.Kind() == types.String && hasValue
}

// bareValueColumn is the column whose VALUES item is exactly $n, or "".
func bareValueColumn(ins *sqlparse.InsertParts, n int) string {
	for i, it := range ins.Values.Items {
		if it.Param == n {
			return ins.Columns[i]
		}
	}
	return ""
}

// methodName drops the model's name from the query's: CreateAppointment -> Create,
// UpdateAppointmentStatus -> UpdateStatus. Names without it are kept.
func methodName(query, model string) string {
	if i := strings.Index(query, model); i > 0 {
		after := query[i+len(model):]
		// A plural goes with it: CancelScheduledAppointments -> CancelScheduled.
		if plural, ok := strings.CutPrefix(after, "s"); ok && (plural == "" || unicode.IsUpper(rune(plural[0]))) {
			after = plural
		}
		rest := query[:i] + after
		if unicode.IsUpper(rune(rest[0])) {
			return rest
		}
	}
	return query
}

func (b *builder) methodClashes(m *Model) {
	seen := map[string]*Write{}
	for _, w := range m.Writes {
		names := []string{w.Method}
		if w.Many != nil {
			names = append(names, w.Many.Method)
		}
		for _, n := range names {
			if prev := seen[n]; prev != nil {
				b.errs.Addf(w.Source, "%s: repository method %s.%s would also come from %s; rename one query", w.Query, m.Name, n, prev.Query)
			}
			seen[n] = w
		}
	}
}

// constClashes reports two statements whose Go constants would share a name: a bulk variant's, auditedXMany, and
// the statement of a query named XMany.
func (b *builder) constClashes(models []*Model) {
	seen := map[string]*Write{} // sqlc's query names are unique, and so are the constants named after them
	for _, m := range models {
		for _, w := range m.Writes {
			seen[w.Const] = w
		}
	}
	for _, m := range models {
		for _, w := range m.Writes {
			if w.Many == nil {
				continue
			}
			if prev := seen[w.Many.Const]; prev != nil && prev != w {
				b.errs.Addf(w.Source, "%s: the constant %s of its bulk variant %s would also be that of query %s's statement; rename one query", w.Query, w.Many.Const, w.Many.Method, prev.Query)
			}
		}
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// pgType maps the Go types sqlc emits for pgx/v5 to the PostgreSQL element type of an array parameter.
func pgType(t types.Type) (string, bool) {
	if p, ok := t.(*types.Pointer); ok { // emit_pointers_for_null_types: nil is NULL
		return pgType(p.Elem())
	}
	if bt, ok := t.(*types.Basic); ok {
		s, ok := map[types.BasicKind]string{
			types.Int64: "bigint", types.Int32: "integer", types.Int16: "smallint",
			types.Float64: "double precision", types.Float32: "real", types.Bool: "boolean", types.String: "text",
		}[bt.Kind()]
		return s, ok
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return "", false
	}
	switch n.Obj().Pkg().Path() + "." + n.Obj().Name() {
	case "github.com/jackc/pgx/v5/pgtype.Int8":
		return "bigint", true
	case "github.com/jackc/pgx/v5/pgtype.Int4":
		return "integer", true
	case "github.com/jackc/pgx/v5/pgtype.Int2":
		return "smallint", true
	case "github.com/jackc/pgx/v5/pgtype.Float8":
		return "double precision", true
	case "github.com/jackc/pgx/v5/pgtype.Float4":
		return "real", true
	case "github.com/jackc/pgx/v5/pgtype.Bool":
		return "boolean", true
	case "github.com/jackc/pgx/v5/pgtype.Text":
		return "text", true
	case "github.com/jackc/pgx/v5/pgtype.Numeric":
		return "numeric", true
	case "github.com/jackc/pgx/v5/pgtype.Date":
		return "date", true
	case "github.com/jackc/pgx/v5/pgtype.Time":
		return "time", true
	case "github.com/jackc/pgx/v5/pgtype.Timestamp":
		return "timestamp", true
	case "github.com/jackc/pgx/v5/pgtype.Timestamptz":
		return "timestamptz", true
	case "github.com/jackc/pgx/v5/pgtype.Interval":
		return "interval", true
	case "github.com/jackc/pgx/v5/pgtype.UUID":
		return "uuid", true
	case "net/netip.Addr":
		return "inet", true
	}
	return "", false
}
