// Package templates renders the SQL the generator writes: the repositories' claimed statements and the audit
// trigger functions of the models. The emitter embeds the result in the generated Go as constants. Templates
// only print: every name and shape is decided in the intermediate representation.
package templates

import (
	"cmp"
	"embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/ir"
	"github.com/auditrepo/auditrepo/internal/sqlparse"
	"github.com/auditrepo/auditrepo/internal/sqltext"
	"github.com/auditrepo/auditrepo/internal/tags"
)

//go:embed *.sql.tmpl
var files embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"ident": ident, "lit": literal, "comment": comment,
}).ParseFS(files, "*.tmpl"))

// SQL renders the claimed statement that runs w. The claim functions' schema is quoted as PostgreSQL's
// quote_identifier quotes names (every key word but the unreserved): the runtime finds it in the statement from the
// audit schema an error's context names, quoted so (audit.Call.Err).
func SQL(p *ir.Program, w *ir.Write) (string, error) {
	return render("audited", &stmt{Schema: sqlparse.QuoteTypeQualifier(p.Audit.ClaimSchema), Actor: "$" + strconv.Itoa(w.ClaimAt), W: w})
}

// ManySQL renders the bulk variant of a Create (w.Many must be set): the same claim around its INSERT.
func ManySQL(p *ir.Program, w *ir.Write) (string, error) {
	many := *w
	many.Select, many.Claim, many.ClaimAt = w.Many.Insert, w.Many.Claim, w.Many.ClaimAt
	return render("audited", &stmt{Schema: sqlparse.QuoteTypeQualifier(p.Audit.ClaimSchema), Actor: "$" + strconv.Itoa(w.Many.ClaimAt), W: &many})
}

// stmt is what the "audited" template reads.
type stmt struct {
	Schema string // the claim functions' schema, as SQL names it
	Actor  string // the placeholder of the claim's actor, which the runtime appends after the statement's arguments
	W      *ir.Write
}

// Triggers renders the SQL that installs the audit trigger functions and triggers of every model.
func Triggers(p *ir.Program) (string, error) {
	t := &triggers{S: ident(p.Audit.Schema), Schema: p.Audit.Schema, CS: ident(p.Audit.ClaimSchema), ClaimSchema: p.Audit.ClaimSchema, Claimed: sqlparse.QuoteTypeQualifier(p.Audit.Schema) + ".claimed",
		AuditRole: p.Audit.Role, WriterRole: p.Audit.Writer, GrantLock: auditschema.WriterGrantLock(p.Audit.Schema),
		Log: ident(p.Audit.Schema) + "." + ident(auditschema.Config{Table: p.Audit.Table}.WritesView())}
	tables := p.Tables()
	seen := map[string]bool{}
	for i, m := range p.Models {
		refs, err := auditschema.RefsJSON(tables[i].Refs)
		if err != nil {
			return "", err
		}
		t.Models = append(t.Models, &data{m: m, refs: refs})
		if !seen[m.Schema] {
			seen[m.Schema] = true
			t.Schemas = append(t.Schemas, m.Schema)
		}
	}
	checks, err := auditschema.ModelChecksSQL(p.Audit.Schema, tables)
	if err != nil {
		return "", err
	}
	t.Checks = checks
	return render("triggers", t)
}

// triggers is what the "triggers" template reads.
type triggers struct {
	S           string // the audit schema, as SQL names it
	Schema      string // the audit schema's name
	CS          string // the claim functions' schema, as SQL names it
	ClaimSchema string // its name
	Claimed     string // the claim's row type, qualified as a type
	AuditRole   string
	// WriterRole owns the trigger functions: it may add audit rows and nothing more (auditschema.Config.Writer).
	WriterRole string
	Log        string // the view of the audit table the writer role inserts through, qualified
	Schemas    []string
	Models     []*data
	Checks     string // the PL/pgSQL statement refusing tables that installing would refuse (auditschema.ModelChecksSQL)
	GrantLock  string // the lock serializing CREATE grants to the writer role (auditschema.WriterGrantLock)
}

func render(name string, d any) (string, error) {
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, name, d); err != nil {
		return "", fmt.Errorf("rendering the %s SQL: %w", name, err)
	}
	return b.String(), nil
}

// data is one model, as the trigger template reads it.
type data struct {
	m    *ir.Model
	refs string
}

// TableLit is the model's table as its audit rows and claims name it.
func (d *data) TableLit() string { return literal(d.m.Table) }

// Table is the model's table as SQL names it, schema-qualified.
func (d *data) Table() string { return d.m.Qualified }

// Reads are the other tables the model's trigger function reads by name (ir.Model.Reads).
func (d *data) Reads() []string { return d.m.Reads() }

// Refs are the steps of the model's patient path, as JSON, as check_models reads them: audited_tables keeps them
// for the event trigger, which holds their foreign keys after the install.
func (d *data) Refs() string { return d.refs }

// ClaimFunc names the function the model's repository statements claim through (in the claim functions' schema).
func (d *data) ClaimFunc() string { return ident(d.m.ClaimFunc) }

// Func names the audit trigger function of the model's table (in the audit schema).
func (d *data) Func() string { return ident(d.m.Func) }

// FloatDigits: the function pins extra_float_digits to 3, which prints every float exactly (shortest round trip):
// a session that lowered it (down to -15, startup options included) would otherwise round the floats of the images
// and of the text forms changes are found on (point(1.1,2.1) and point(1.4,2.4) both print (1,2)).
func (d *data) FloatDigits() bool { return d.m.FloatDigits }

// Changed is the array of the columns (excluded ones too, by name) whose value differs between rows old and new,
// one CASE per line, each indented by ind and a tab. Columns marked ByText compare as text, ByBytes by equality
// and by their text in the C collation, ByLength by their octet_length too. A half of a changed id (old or new missing) names every column: naming
// those that are not NULL would tell whether an excluded one holds a value.
func (d *data) Changed(old, new, ind string) string {
	var b strings.Builder
	all := make([]string, len(d.m.Columns))
	for i, c := range d.m.Columns {
		all[i] = c.Name
	}
	fmt.Fprintf(&b, "CASE WHEN %s.id IS NULL OR %s.id IS NULL THEN %s ELSE array_remove(ARRAY[", old, new, arrayLit(all))
	for i, c := range d.m.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		o, n := old+"."+ident(c.Name), new+"."+ident(c.Name)
		cond := o + " IS DISTINCT FROM " + n
		switch {
		case c.ByText:
			// In the C collation: a domain's may be nondeterministic, holding texts that differ equal.
			cond = fmt.Sprintf(`%s::text COLLATE pg_catalog."C" IS DISTINCT FROM %s::text COLLATE pg_catalog."C"`, o, n)
		case c.ByBytes:
			// Equality first: a type whose text hides a change (money under another lc_monetary) is still caught.
			cond = fmt.Sprintf(`(%[1]s IS DISTINCT FROM %[2]s OR %[1]s::text COLLATE pg_catalog."C" IS DISTINCT FROM %[2]s::text COLLATE pg_catalog."C")`, o, n)
		}
		if c.ByLength {
			// bpchar's equality and text drop trailing spaces; equal but for those, the same length is the same bytes.
			// (bpcharsend would convert to the session's client_encoding; octet_length reads the stored length.)
			cond = fmt.Sprintf(`(%[1]s OR pg_catalog.octet_length(%[2]s) IS DISTINCT FROM pg_catalog.octet_length(%[3]s))`, cond, o, n)
		}
		fmt.Fprintf(&b, "\n%s\tCASE WHEN %s THEN %s END", ind, cond, literal(c.Name))
	}
	fmt.Fprintf(&b, "\n%s], NULL) END", ind)
	return b.String()
}

// Image is the select list of a row's image: its columns but the excluded ones, redacted ones masked, named
// in jsonb's own key order (shorter names first, then by bytes). to_jsonb of such a row takes its keys from
// the row's type and finds them sorted: to_jsonb of the table's row sorted its keys for every image, and
// jsonb_build_object converts every key it is given.
func (d *data) Image(row string) string {
	var cols []*ir.Column
	for _, c := range d.m.Columns {
		if !c.Exclude {
			cols = append(cols, c)
		}
	}
	slices.SortFunc(cols, func(a, b *ir.Column) int {
		return cmp.Or(cmp.Compare(len(a.Name), len(b.Name)), strings.Compare(a.Name, b.Name))
	})
	items := make([]string, len(cols))
	for i, c := range cols {
		v := row + "." + ident(c.Name)
		if c.Redact {
			v = literal(audit.Redacted) + "::text"
		}
		items[i] = v + " AS " + ident(c.Name)
	}
	return strings.Join(items, ", ")
}

// Audited is the array of columns whose change alone writes an audit row: all but the nonphi ones. An
// excluded column's change is recorded by name only (a password or token change is an event).
func (d *data) Audited() string {
	var cs []string
	for _, c := range d.m.Columns {
		if !c.NonPHI {
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
		return fmt.Sprintf("CASE WHEN %s.%s = %s THEN %s.id END", row, ident(p.WhenColumn), literal(p.WhenValue), row)
	case tags.PatientPath:
		return hops(row+"."+ident(p.Column), p.Hops, 1)
	}
	return row + "." + ident(p.Column)
}

// PatientBefore is PatientOf for an old row (deleted, or as it was before an UPDATE), with hop_gone in the audit
// schema (as SQL names it). Its first hop row may be gone: with the RESTRICT foreign keys installing requires,
// only the statement itself can have deleted it, and along with the old row (a writing CTE). That refuses the
// statement (hop_gone): the audit row would name no patient, and the patient's trail would miss the change. It
// costs a dependent's UPDATE about 28k instructions more than PatientOf (counted: the join's nodes and
// hop_gone's set-up, though never called); a plain PatientOf on new rows needs no guard, since the foreign key's
// own check refuses a new row's missing reference.
func (d *data) PatientBefore(schema, row string) string {
	p := d.m.Patient
	if p.Kind != tags.PatientPath || len(p.Hops) == 0 {
		return d.PatientOf(row)
	}
	h := p.Hops[0]
	return fmt.Sprintf("(SELECT CASE WHEN ar_r.id IS NULL THEN NULL WHEN ar_h1.id IS NULL THEN %s.hop_gone(%s, %s) ELSE %s END FROM (SELECT %s.%s) ar_r(id) LEFT JOIN %s ar_h1 ON ar_h1.id = ar_r.id)",
		schema, literal(d.m.Qualified), literal(h.Qualified), hops("ar_h1."+ident(h.Column), p.Hops[1:], 2), row, ident(p.Column), h.Qualified)
}

// HopLocks are the statements that lock, for the rest of the transaction, the rows the patient path of the rows
// in the transition tables goes through, one hop at a time (a hop's ids are read once the rows leading to it are
// locked), before the audit rows read the patient there. Under READ COMMITTED, shared advisory locks: an UPDATE
// that moves such a row to another patient takes the exclusive one (MoveLock), so the later of the two waits for
// the earlier to commit and then reads what it wrote; they need no privilege on the table, and two writers of
// dependents do not wait for each other. Under REPEATABLE READ and SERIALIZABLE, whose statements read the
// transaction's first snapshot even after waiting, the rows themselves FOR SHARE: PostgreSQL refuses that (40001)
// for a row changed since the snapshot, and holds back any change of it until the transaction ends (moves are
// refused there). None when the patient is not found through another table.
func (d *data) HopLocks(tables ...string) []string {
	p := d.m.Patient
	if p.Kind != tags.PatientPath || len(p.Hops) == 0 {
		return nil
	}
	var srcs []string
	for _, t := range tables {
		srcs = append(srcs, fmt.Sprintf("SELECT r.%s FROM %s r", ident(p.Column), t))
	}
	ids := strings.Join(srcs, " UNION ")
	var out []string
	for i, h := range p.Hops {
		if i > 0 {
			prev, alias := p.Hops[i-1], "ar_h"+strconv.Itoa(i)
			ids = fmt.Sprintf("SELECT %[1]s.%[2]s FROM %[3]s %[1]s WHERE %[1]s.id IN (%[4]s)", alias, ident(prev.Column), prev.Qualified, ids)
		}
		out = append(out, fmt.Sprintf("IF %s THEN\n\t\t\tPERFORM FROM %s ar_h WHERE ar_h.id IN (%s) FOR SHARE OF ar_h;\n\t\tELSE\n\t\t\t%s\n\t\tEND IF;",
			snapshotIsolation, h.Qualified, ids, lockRows("pg_advisory_xact_lock_shared", h.Qualified, ids, "\n\t\t\t\t")))
	}
	return out
}

// snapshotIsolation is true in a REPEATABLE READ or SERIALIZABLE transaction, whose statements read its first
// snapshot.
const snapshotIsolation = "pg_catalog.current_setting('transaction_isolation') IN ('repeatable read', 'serializable')"

// SnapshotIsolation is the condition under which a move is refused (see the triggers template).
func (d *data) SnapshotIsolation() string { return snapshotIsolation }

// HopTables are the tables some model's patient path goes through: the audit role locks their rows FOR SHARE
// (HopLocks), which needs UPDATE on a column.
func (t *triggers) HopTables() []string {
	var out []string
	for _, m := range t.Models {
		for _, h := range m.m.Patient.Hops {
			if !slices.Contains(out, h.Qualified) {
				out = append(out, h.Qualified)
			}
		}
	}
	return out
}

// Moved is the condition on a pair of rows n (new) and o (old) of an UPDATE under which it moves dependents to
// another patient: one of the columns their patient paths go through changed.
func (d *data) Moved() string {
	var conds []string
	seen := map[string]bool{}
	for _, mv := range d.m.Moves {
		if !seen[mv.Column] {
			seen[mv.Column] = true
			conds = append(conds, fmt.Sprintf("n.%[1]s IS DISTINCT FROM o.%[1]s", ident(mv.Column)))
		}
	}
	return strings.Join(conds, " OR ")
}

// MoveLock is the exclusive lock an UPDATE takes on the rows it moves before it lists the dependents that move
// with them: see HopLocks.
func (d *data) MoveLock() string {
	return lockRows("pg_advisory_xact_lock", d.m.Qualified,
		"SELECT n.id FROM ar_new n JOIN ar_old o ON o.id = n.id WHERE "+d.Moved(), "\n\t\t\t\t")
}

// lockBuckets is how many advisory locks stand for the rows of one table (a power of two): a row's lock is its
// id's bucket, so a statement over many rows takes at most this many (PostgreSQL's lock table, shared by every
// session, holds a few thousand, and a statement that asked for one per row of a large batch would fail). Rows
// that share a bucket wait for each other's moves; writers of dependents never wait for each other.
const lockBuckets = 64

// lockRows is the PERFORM that takes lock (an advisory lock function) on the buckets of the rows of table
// (schema-qualified, as the model names it) whose ids ids selects, in bucket order, so that two transactions
// take their common buckets in the same order; nl breaks its line. A NULL id takes no lock (the functions are
// strict).
func lockRows(lock, table, ids, nl string) string {
	return fmt.Sprintf("PERFORM pg_catalog.%s(pg_catalog.hashtext(%s), k.b)%sFROM (SELECT DISTINCT pg_catalog.hashint8(r.id) & %d FROM (%s) r(id)) k(b) ORDER BY k.b;",
		lock, literal(table), nl, lockBuckets-1, ids)
}

// Moves are the dependents an UPDATE of the model's table can move to another patient.
func (d *data) Moves() []*move {
	var out []*move
	for _, mv := range d.m.Moves {
		out = append(out, &move{mv})
	}
	return out
}

// move is one ir.Move, as the trigger template reads it.
type move struct{ *ir.Move }

func (m *move) DependentLit() string { return literal(m.Dependent.Table) }
func (m *move) ColumnLit() string    { return literal(m.Column) }
func (m *move) Col() string          { return ident(m.Column) }

// PatientVia is the patient reached from row's Column onwards.
func (m *move) PatientVia(row string) string { return hops(row+"."+ident(m.Column), m.Rest, 1) }

// Joins joins the dependent's rows (alias d) to the owner's row n.
func (m *move) Joins() string {
	var b strings.Builder
	prev := "n"
	for i, h := range m.Back {
		alias := "ar_b" + strconv.Itoa(i+1)
		if i == len(m.Back)-1 {
			alias = "d"
		}
		fmt.Fprintf(&b, "\n\t\t\tJOIN %s %s ON %s.%s = %s.id", h.Qualified, alias, alias, ident(h.Column), prev)
		prev = alias
	}
	return b.String()
}

// hops is the value reached from expr by following the hops: each reads its column of the row whose id is the
// previous value. Their aliases are numbered from first.
func hops(expr string, hs []ir.Hop, first int) string {
	for i, h := range hs {
		alias := "ar_h" + strconv.Itoa(first+i)
		expr = fmt.Sprintf("(SELECT %s.%s FROM %s %s WHERE %s.id = %s)", alias, ident(h.Column), h.Qualified, alias, alias, expr)
	}
	return expr
}

var literal, ident = sqltext.Literal, sqlparse.QuoteIdent

// arrayLit is items as a text[] literal; an item that the array syntax would misread (a quoted column name
// with a comma, brace, quote or backslash, or spaces around it, or the word NULL) is double-quoted.
func arrayLit(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = it
		if it == "" || strings.ContainsAny(it, `{},"\`) || strings.TrimSpace(it) != it || strings.EqualFold(it, "NULL") {
			q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(it) + `"`
		}
	}
	return literal("{"+strings.Join(q, ",")+"}") + "::text[]"
}

// comment prints a name inside an SQL line comment: control characters (a line break would end the comment and
// make the rest of the name SQL) are shown escaped.
func comment(name string) string {
	if !strings.ContainsFunc(name, unicode.IsControl) {
		return name
	}
	q := strconv.Quote(name)
	return q[1 : len(q)-1]
}
