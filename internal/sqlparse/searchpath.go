package sqlparse

import (
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// searchPath is the search_path the schema files set, as PostgreSQL's session running them has it, for the types
// they create and name unqualified (sqlc's catalog ignores it: the relations' names do not follow it).
type searchPath struct {
	// given: the files set a path, which is list; otherwise it is the default, "$user", public.
	given bool
	list  []string
	// a transaction's setting (SET LOCAL) holds until the transaction ends, when the session's comes back.
	local        bool
	sessionSet   bool
	sessionValue []string
	// schemas are what the files did to schemas; a schema they did not touch may exist (public does, an
	// extensions schema a platform makes may).
	schemas map[string]schemaState
	// extensions are the schemas that CREATE EXTENSION put types in, which the files do not describe.
	extensions map[string]bool
}

type schemaState int

const (
	schemaUntouched schemaState = iota
	schemaMade                  // CREATE SCHEMA, or renamed to
	schemaGone                  // dropped, or renamed away from
)

// elements are the path's schema names, as listed.
func (p *searchPath) elements() []string {
	if !p.given {
		return []string{"$user", "public"}
	}
	return p.list
}

// order is the order PostgreSQL looks an unqualified type name up in: pg_catalog first unless the path lists it,
// then the path's schemas that exist. "$user" (a schema named as the role running the files, which the files do not
// tell) and pg_temp are left out.
func (p *searchPath) order() []string {
	var out []string
	if !slices.Contains(p.elements(), "pg_catalog") {
		out = append(out, "pg_catalog")
	}
	for _, s := range p.elements() {
		if s != "$user" && s != "pg_temp" && !strings.HasPrefix(s, "pg_temp_") && p.schemas[s] != schemaGone {
			out = append(out, s)
		}
	}
	return out
}

// creationName is the name of an object named name in schema, or, when schema is "", in the schema PostgreSQL
// creates it in: the first schema the path lists that exists (public when none does: PostgreSQL would refuse it).
func (p *searchPath) creationName(schema, name string) Table {
	if schema != "" {
		return Table{Schema: schema, Name: name}
	}
	for _, s := range p.elements() {
		if s != "$user" && s != "pg_temp" && !strings.HasPrefix(s, "pg_temp_") && p.schemas[s] != schemaGone {
			return Table{Schema: s, Name: name}
		}
	}
	return Table{Schema: "public", Name: name}
}

// creationNameOf is creationName of a qualified name (a TypeName's items); false when it has more than two parts.
func (p *searchPath) creationNameOf(nodes []*pg_query.Node) (Table, bool) {
	switch names := nodeNames(nodes); len(names) {
	case 1:
		return p.creationName("", names[0]), true
	case 2:
		return p.creationName(names[0], names[1]), true
	}
	return Table{}, false
}

// opaque reports whether the path searches a schema whose types the files may not describe, other than pg_catalog
// (whose built-ins installing resolves an unqualified name in first) and public (which it resolves one in next):
// one that CREATE EXTENSION put types in, or one the files do not create (it may exist with types of its own).
// A schema the files create holds only the types they make. It also reports the schemas that extensions put types
// in off the path: the role's own search_path, which the files do not set, may list them.
func (p *searchPath) opaque() bool {
	for _, s := range p.order() {
		if s != "pg_catalog" && s != "public" && (p.extensions[s] || p.schemas[s] != schemaMade) {
			return true
		}
	}
	for s, ok := range p.extensions {
		if ok && s != "pg_catalog" && s != "public" && p.schemas[s] != schemaGone {
			return true
		}
	}
	return false
}

// assign sets the path to list (nil: the default) for the session, or for the transaction when local.
func (p *searchPath) assign(list []string, dflt, local bool) {
	if local && !p.local {
		p.local, p.sessionSet, p.sessionValue = true, p.given, p.list
	}
	if !local && p.local {
		p.sessionSet, p.sessionValue = !dflt, list // what the session keeps when the transaction ends
	}
	p.given, p.list = !dflt, list
}

// endTransaction ends a transaction: its SET LOCAL no longer holds.
func (p *searchPath) endTransaction() {
	if p.local {
		p.local, p.given, p.list = false, p.sessionSet, p.sessionValue
	}
}

// set follows SET [LOCAL] search_path, SET SCHEMA (which the parser names search_path too), SET search_path TO
// DEFAULT, RESET search_path and RESET ALL. Each value is a schema's name as written (an unquoted identifier
// folded, a string literal whole: SET search_path = 'a, b' names one schema, "a, b").
func (p *searchPath) set(v *pg_query.VariableSetStmt) {
	if v.Kind != pg_query.VariableSetKind_VAR_RESET_ALL && !strings.EqualFold(v.Name, "search_path") {
		return
	}
	switch v.Kind {
	case pg_query.VariableSetKind_VAR_SET_VALUE:
		list := []string{}
		for _, a := range v.Args {
			c := a.GetAConst()
			if c == nil || c.GetSval() == nil {
				return // not a name: left as it was
			}
			list = append(list, c.GetSval().GetSval())
		}
		p.assign(list, false, v.IsLocal)
	case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET, pg_query.VariableSetKind_VAR_RESET_ALL:
		p.assign(nil, true, v.IsLocal)
	}
}

// setConfig follows a SELECT of [pg_catalog.]set_config('search_path', '...', is_local), with constant arguments,
// and neither FROM nor WHERE (pg_dump's schema sets the empty path so, as a session's setting).
func (p *searchPath) setConfig(s *pg_query.SelectStmt) {
	if len(s.FromClause) > 0 || s.WhereClause != nil || s.Op != pg_query.SetOperation_SETOP_NONE {
		return
	}
	for _, t := range s.TargetList {
		f := t.GetResTarget().GetVal().GetFuncCall()
		if f == nil || len(f.Args) != 3 {
			continue
		}
		name := nodeNames(f.Funcname)
		if !(len(name) == 1 && name[0] == "set_config" || len(name) == 2 && name[0] == "pg_catalog" && name[1] == "set_config") {
			continue
		}
		setting, value, local := f.Args[0].GetAConst(), f.Args[1].GetAConst(), f.Args[2].GetAConst()
		if setting.GetSval() == nil || value.GetSval() == nil || local == nil || !strings.EqualFold(setting.GetSval().GetSval(), "search_path") {
			continue
		}
		isLocal, ok := false, true
		switch {
		case local.GetBoolval() != nil:
			isLocal = local.GetBoolval().GetBoolval()
		case local.GetSval() != nil:
			switch strings.ToLower(strings.TrimSpace(local.GetSval().GetSval())) {
			case "t", "true", "on", "yes", "y", "1":
				isLocal = true
			case "f", "false", "off", "no", "n", "0":
			default:
				ok = false
			}
		default:
			ok = false
		}
		if list, parsed := splitIdentifiers(value.GetSval().GetSval()); ok && parsed {
			p.assign(list, false, isLocal)
		}
	}
}

// splitIdentifiers splits a search_path setting's text as PostgreSQL does (SplitIdentifierString): names separated
// by commas, whitespace around them ignored, each double-quoted ("" a quote in it) or folded to lower case. false
// when PostgreSQL would refuse the text.
func splitIdentifiers(text string) ([]string, bool) {
	list := []string{}
	s := strings.TrimLeft(text, " \t\n\r\f\v")
	if s == "" {
		return list, true
	}
	for {
		var name string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for {
				j := strings.IndexByte(s[i:], '"')
				if j < 0 {
					return nil, false
				}
				b.WriteString(s[i : i+j])
				i += j + 1
				if i < len(s) && s[i] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			name, s = b.String(), s[i:]
		} else {
			end := strings.IndexAny(s, ", \t\n\r\f\v")
			if end < 0 {
				end = len(s)
			}
			name, s = strings.ToLower(s[:end]), s[end:]
		}
		if name == "" {
			return nil, false
		}
		list = append(list, name)
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if s == "" {
			return list, true
		}
		if s[0] != ',' {
			return nil, false
		}
		s = strings.TrimLeft(s[1:], " \t\n\r\f\v")
	}
}
