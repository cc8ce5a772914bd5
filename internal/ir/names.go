package ir

import (
	"go/build"
	"go/token"
	"go/types"
	"io"
	"strings"
	"unicode"
)

// The output package's files besides one per model.
const (
	BundleFile  = "repo.go"    // Repos and New
	InstallFile = "install.go" // AuditModels, Excluded and Install
)

// Locals are the names a repository method declares or refers to in its body: its receiver, its parameters
// and its variables. Each is its usual name unless that is taken by sqlc's parameter or a package the body
// refers to, when it gets underscores appended.
type Locals struct {
	Recv, Ctx, Call, Res, Err string
	Args                      []string // sqlc's arguments, as Write.Args
}

// ManyLocals are a bulk method's names, chosen as Locals are; Cols are the arrays of its parameters, in $n order.
type ManyLocals struct {
	Recv, Ctx, Args, Arg, N, Rows, Res, Call, Err string
	Cols                                          []string
}

// files gives each model its output file, snake case of its name: dental_record.go. A name the bundle or install
// file has, or one Go would not build everywhere (a _test file, a _linux or _amd64 one), gets _repo appended; two
// models whose names give the same file are refused.
func (b *builder) files(models []*Model, pos []token.Position) {
	byFile := map[string]*Model{}
	for i, m := range models {
		stem := snake(m.Name)
		if f := stem + ".go"; f == BundleFile || f == InstallFile || !plainGoFile(f) {
			stem += "_repo"
		}
		m.File = stem + ".go"
		if prev := byFile[m.File]; prev != nil {
			b.errs.Addf(pos[i], "%s: its repository's file %s would also be that of model %s; rename one", m.Name, m.File, prev.Name)
			continue
		}
		byFile[m.File] = m
	}
}

// plainGoFile reports whether a file named name is built on every platform and is not a test.
func plainGoFile(name string) bool {
	if strings.HasSuffix(name, "_test.go") {
		return false
	}
	ctxt := build.Default
	ctxt.GOOS, ctxt.GOARCH = "none", "none" // any _GOOS or _GOARCH suffix fails to match
	ctxt.OpenFile = func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("package p\n")), nil }
	ok, err := ctxt.MatchFile(".", name)
	return err == nil && ok
}

// snake turns DentalRecord into dental_record.
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// locals chooses the names of w's method: sqlc's arguments keep their names unless a package the body refers to
// has one; the others keep theirs unless sqlc's argument or such a package has it.
func (b *builder) locals(w *Write) {
	taken := map[string]bool{b.sqlcName(): true, "audit": true} // db.New(call).Query, audit.ActionUpdate
	for _, a := range w.Args {
		w.Names.Args = append(w.Names.Args, pick(a.Name, taken))
	}
	w.Names.Recv = pick("r", taken)
	w.Names.Ctx = pick("ctx", taken)
	w.Names.Call = pick("call", taken)
	w.Names.Res = pick("res", taken)
	w.Names.Err = pick("err", taken)
	if w.Many == nil {
		return
	}
	// The bulk method refers to the packages of its types and to pgx.
	taken = map[string]bool{"audit": true, "pgx": true}
	addPackages(w.Row, taken)
	addPackages(w.Args[0].Type, taken)
	for _, prm := range w.Params {
		addPackages(prm.Type, taken)
	}
	n := &w.Many.Names
	for _, p := range []struct {
		to   *string
		name string
	}{{&n.Recv, "r"}, {&n.Ctx, "ctx"}, {&n.Args, "args"}, {&n.Arg, "arg"}, {&n.N, "n"}, {&n.Rows, "rows"},
		{&n.Res, "res"}, {&n.Call, "call"}, {&n.Err, "err"}} {
		*p.to = pick(p.name, taken)
	}
	for _, prm := range w.Params {
		n.Cols = append(n.Cols, pick("col"+prm.Field, taken))
	}
}

// pick returns name, with underscores appended until it is not taken, and takes it.
func pick(name string, taken map[string]bool) string {
	for taken[name] {
		name += "_"
	}
	taken[name] = true
	return name
}

// addPackages takes the name of the package of each named type t spells.
func addPackages(t types.Type, taken map[string]bool) {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		if p := t.Obj().Pkg(); p != nil {
			taken[p.Name()] = true
		}
	case *types.Pointer:
		addPackages(t.Elem(), taken)
	case *types.Slice:
		addPackages(t.Elem(), taken)
	}
}
