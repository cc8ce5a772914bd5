// Package tags reads the auditrepo struct tags of a models package: which structs are PHI models, their
// table, their patient path and the class of each field. It checks the tags' grammar only; whether
// the names exist is the intermediate representation's job (package ir).
package tags

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/auditrepo/auditrepo/internal/diag"
)

// RuntimePath is the import path of the runtime package that declares the audit.Model marker.
const RuntimePath = "github.com/auditrepo/auditrepo/audit"

// Model is a struct that embeds audit.Model.
type Model struct {
	Name     string
	Pos      token.Position
	Table    string
	TablePos token.Position
	Patient  Patient
	Fields   []Field
}

// Field is a declared column of a model.
type Field struct {
	Name    string
	Pos     token.Position
	Type    types.Type
	Exclude bool // its value never in the trail; a change to it writes a row naming it in changed_fields
	Redact  bool // the trail says it changed, never its value
	NonPHI  bool // a change to such fields alone writes no audit row
}

// PatientKind says how a row leads to its patient.
type PatientKind int

const (
	PatientColumn PatientKind = iota // a column of the row holds the patient's users.id
	PatientSelf                      // the row is the patient (optionally only when a column has a value)
	PatientPath                      // follow foreign keys to a table that has the patient column
)

// Patient is the parsed patient tag.
type Patient struct {
	Pos    token.Position
	Kind   PatientKind
	Column string // PatientColumn: the column; PatientPath: the first foreign key column
	// PatientSelf with a condition: the row is a patient only when WhenColumn = WhenValue.
	WhenColumn, WhenValue string
	Hops                  []Hop // PatientPath
}

// Hop is one step of a patient path: the previous column holds Table.id; Column is read there.
type Hop struct {
	Table, Column string
}

// Parse finds the PHI models of pkg in source order.
func Parse(pkg *packages.Package) ([]*Model, diag.List) {
	var models []*Model
	var errs diag.List
	for _, file := range pkg.Syntax {
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				if m := parseStruct(pkg, ts, st, &errs); m != nil {
					models = append(models, m)
				}
			}
		}
	}
	return models, errs
}

func isMarker(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == RuntimePath && n.Obj().Name() == "Model"
}

// isMarkerPointer reports whether t is *audit.Model.
func isMarkerPointer(t types.Type) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	return ok && isMarker(p.Elem())
}

func parseStruct(pkg *packages.Package, ts *ast.TypeSpec, st *ast.StructType, errs *diag.List) *Model {
	fset := pkg.Fset
	var marker *ast.Field
	misplaced := false
	for _, f := range st.Fields.List {
		typ := pkg.TypesInfo.TypeOf(f.Type)
		switch {
		case len(f.Names) == 0 && isMarker(typ):
			marker = f
		case isMarker(typ) || isMarkerPointer(typ):
			// Only an embedded value makes a model; anything else would leave the table with no repository and no
			// audit triggers, silently.
			errs.Addf(fset.Position(f.Pos()), "%s: %s makes no model, so its table would get no repository and no audit triggers: embed audit.Model by value, as an unnamed field", ts.Name.Name, fieldDesc(f))
			misplaced = true
		}
	}
	if marker == nil {
		if !misplaced {
			strayModelTags(fset, ts, st, errs)
		}
		return nil
	}
	m := &Model{Name: ts.Name.Name, Pos: fset.Position(ts.Name.Pos())}
	keys := readTag(fset, marker, errs)
	for _, k := range keys {
		switch k.key {
		case "table":
			m.Table, m.TablePos = strings.TrimSpace(k.value), k.pos
			if m.Table == "" {
				errs.Addf(k.pos, "%s: empty table name", m.Name)
			}
		case "patient":
			p, msg := parsePatient(k.value)
			if msg != "" {
				errs.Addf(k.pos, "%s: patient path %q: %s", m.Name, k.value, msg)
			}
			p.Pos = k.pos
			m.Patient = p
		default:
			errs.Addf(k.pos, "%s: unknown tag key %q on audit.Model (want table and patient)", m.Name, k.key)
		}
	}
	if !hasKey(keys, "table") {
		errs.Addf(fset.Position(marker.Pos()), "%s: audit.Model needs a table tag, e.g. `table:\"appointments\"`", m.Name)
	}
	if !hasKey(keys, "patient") {
		errs.Addf(fset.Position(marker.Pos()), "%s: audit.Model needs a patient tag, e.g. `patient:\"patient_id\"`", m.Name)
	}
	for _, f := range st.Fields.List {
		typ := pkg.TypesInfo.TypeOf(f.Type)
		if f == marker || isMarker(typ) || isMarkerPointer(typ) { // another marker is reported above
			continue
		}
		var opts []tagKey
		for _, k := range readTag(fset, f, errs) {
			switch {
			case k.key == "audit":
				opts = append(opts, splitOptions(k)...)
			default:
				// A misspelled audit key would leave the field plain PHI, silently: a model's fields are read by
				// the generator alone, and take no other key.
				hint := " (a model's fields take only audit)"
				if Distance(strings.ToLower(k.key), "audit") <= 2 {
					hint = ": did you mean audit?"
				}
				for _, name := range f.Names {
					errs.Addf(k.keyPos, "%s.%s: unknown tag key %q%s", m.Name, name.Name, k.key, hint)
				}
			}
		}
		for _, name := range f.Names {
			fd := Field{Name: name.Name, Pos: fset.Position(name.Pos()), Type: typ}
			for _, o := range opts {
				switch o.value {
				case "exclude":
					fd.Exclude = true
				case "redact":
					fd.Redact = true
				case "nonphi":
					fd.NonPHI = true
				default:
					errs.Addf(o.pos, "%s.%s: unknown audit option %q (want exclude, redact or nonphi)", m.Name, name.Name, o.value)
				}
			}
			if fd.Exclude && (fd.Redact || fd.NonPHI) {
				errs.Addf(fd.Pos, "%s.%s: exclude cannot be combined with redact or nonphi: an excluded field's value is never in the trail", m.Name, name.Name)
			}
			m.Fields = append(m.Fields, fd)
		}
		if len(f.Names) == 0 {
			errs.Addf(fset.Position(f.Pos()), "%s: embedded fields other than audit.Model are not supported", m.Name)
		}
	}
	return m
}

// fieldDesc names a field that holds audit.Model otherwise than embedded by value, as its declaration spells it.
func fieldDesc(f *ast.Field) string {
	typ := types.ExprString(f.Type)
	if len(f.Names) == 0 {
		return "embedded " + typ
	}
	return "field " + f.Names[0].Name + " " + typ
}

// strayModelTags reports a table or patient tag on a struct that is no model: those keys are audit.Model's, so the
// struct was meant to be one (its marker forgotten), and its table would get no repository and no audit triggers.
func strayModelTags(fset *token.FileSet, ts *ast.TypeSpec, st *ast.StructType, errs *diag.List) {
	for _, f := range st.Fields.List {
		var other diag.List // tags of structs that are no models may be any library's, well-formed or not
		for _, k := range readTag(fset, f, &other) {
			if k.key == "table" || k.key == "patient" {
				errs.Addf(k.keyPos, "%s: %s tag on a struct that does not embed audit.Model: embed audit.Model by value and put the table and patient tags on it", ts.Name.Name, k.key)
			}
		}
	}
}

func hasKey(keys []tagKey, key string) bool {
	for _, k := range keys {
		if k.key == key {
			return true
		}
	}
	return false
}

var (
	identRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	selfRe     = regexp.MustCompile(`^self(?:\s+if\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'([^']*)')?$`)
	selfWordRe = regexp.MustCompile(`^self\b`)
	hopRe      = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\.([A-Za-z_][A-Za-z0-9_]*)$`)
)

const patientGrammar = "want COLUMN, self, self if COLUMN = 'VALUE', or COLUMN -> TABLE.COLUMN [-> TABLE.COLUMN ...]"

func parsePatient(s string) (Patient, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Patient{}, "empty; " + patientGrammar
	}
	// self is a word of its own: self_patient_id and selfpay_id are columns.
	if selfWordRe.MatchString(s) {
		m := selfRe.FindStringSubmatch(s)
		if m == nil {
			return Patient{}, patientGrammar
		}
		return Patient{Kind: PatientSelf, WhenColumn: m[1], WhenValue: m[2]}, ""
	}
	parts := strings.Split(s, "->")
	first := strings.TrimSpace(parts[0])
	if !identRe.MatchString(first) {
		return Patient{}, patientGrammar
	}
	if len(parts) == 1 {
		return Patient{Kind: PatientColumn, Column: first}, ""
	}
	p := Patient{Kind: PatientPath, Column: first}
	for _, part := range parts[1:] {
		m := hopRe.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			return Patient{}, "each step after -> is TABLE.COLUMN; " + patientGrammar
		}
		p.Hops = append(p.Hops, Hop{Table: m[1], Column: m[2]})
	}
	return p, ""
}

type tagKey struct {
	key, value string
	pos        token.Position // of the value
	keyPos     token.Position // of the key
}

// readTag lists a field's tag keys in order, with the position of each value. Positions are exact
// for raw (backquoted) tags on one line, which is how tags are written; otherwise they point at the tag.
func readTag(fset *token.FileSet, f *ast.Field, errs *diag.List) []tagKey {
	if f.Tag == nil {
		return nil
	}
	lit := f.Tag.Value
	base := fset.Position(f.Tag.Pos())
	tag, err := strconv.Unquote(lit)
	if err != nil {
		errs.Addf(base, "malformed struct tag")
		return nil
	}
	exact := strings.HasPrefix(lit, "`") && !strings.Contains(lit, "\n")
	at := func(off int) token.Position {
		p := base
		if exact {
			p.Column += 1 + off
			p.Offset += 1 + off
		}
		return p
	}
	var keys []tagKey
	off := 0
	for {
		n := len(tag) - len(strings.TrimLeft(tag, " "))
		tag, off = tag[n:], off+n
		if tag == "" {
			return keys
		}
		i := 0
		for i < len(tag) && tag[i] > ' ' && tag[i] != ':' && tag[i] != '"' && tag[i] != 0x7f {
			i++
		}
		if i == 0 || i+1 >= len(tag) || tag[i] != ':' || tag[i+1] != '"' {
			errs.Addf(at(off), "malformed struct tag: want key:\"value\" pairs")
			return keys
		}
		key := tag[:i]
		j := i + 2
		for j < len(tag) && tag[j] != '"' {
			if tag[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(tag) {
			errs.Addf(at(off), "malformed struct tag: unterminated value of %q", key)
			return keys
		}
		value, err := strconv.Unquote(tag[i+1 : j+1])
		if err != nil {
			errs.Addf(at(off), "malformed struct tag: bad value of %q", key)
			return keys
		}
		keys = append(keys, tagKey{key: key, value: value, pos: at(off + i + 2), keyPos: at(off)})
		tag, off = tag[j+1:], off+j+1
	}
}

// splitOptions splits an audit:"a,b" value into its options, each with its own position.
func splitOptions(k tagKey) []tagKey {
	var opts []tagKey
	off := 0
	for _, part := range strings.Split(k.value, ",") {
		lead := len(part) - len(strings.TrimLeft(part, " "))
		p := k.pos
		p.Column += off + lead
		p.Offset += off + lead
		opts = append(opts, tagKey{key: "audit", value: strings.TrimSpace(part), pos: p})
		off += len(part) + 1
	}
	return opts
}

// Distance is the optimal string alignment distance of a and b: the insertions, deletions, substitutions and
// transpositions of adjacent bytes that turn one into the other.
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
