package load

import (
	"errors"
	"fmt"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/auditrepo/auditrepo/internal/diag"
)

// SQLC is the part of sqlc's configuration the generator follows: one sql entry of a version 2 sqlc.yaml (or
// sqlc.json) that generates Go.
type SQLC struct {
	File    string   // the configuration file, as given
	Dir     string   // its directory: sqlc's paths are relative to it
	Out     string   // gen.go.out, relative to Dir
	Package string   // gen.go.package (defaults to Out's base name, as sqlc does)
	Queries []string // the entry's queries paths (or glob patterns), relative to Dir
	Schema  []string // the entry's schema paths (or glob patterns), relative to Dir
	// QueriesAt and SchemaAt are where each path stands in File.
	QueriesAt, SchemaAt []token.Position
	// MethodsWithDBArgument: emit_methods_with_db_argument, so sqlc's methods take the DBTX as an argument.
	MethodsWithDBArgument bool
	// ExportedQueries: emit_exported_queries, so sqlc's SQL constants are named as its methods.
	ExportedQueries bool
	// Naming: how sqlc names the tables' row structs.
	Naming Naming
}

// supportedGoOptions are sqlc's gen.go options whose effect the generator follows or does not depend on: it calls
// sqlc's methods with their own signatures, so result pointers, null pointers, renames, overrides and interfaces
// pass through.
var supportedGoOptions = map[string]bool{
	"package": true, "out": true, "sql_package": true, "emit_db_tags": true, "emit_json_tags": true,
	"emit_pointers_for_null_types": true, "emit_result_struct_pointers": true, "emit_params_struct_pointers": false,
	"emit_methods_with_db_argument": true, "emit_interface": true, "rename": true, "overrides": true,
	"emit_exact_table_names": true, "emit_empty_slices": true, "emit_exported_queries": true,
	"emit_enum_valid_method": true, "emit_all_enum_values": true, "json_tags_case_style": true,
	"json_tags_id_uppercase": true, "output_db_file_name": true, "output_models_file_name": true,
	"output_querier_file_name": true, "output_copyfrom_file_name": true, "output_files_suffix": true,
	"query_parameter_limit": true, "omit_unused_structs": true, "emit_sql_as_comment": true,
	"build_tags": true, "initialisms": true, "emit_prepared_queries": false, "output_batch_file_name": true,
	"emit_pointers_for_null_enum_types": true, "wrap_errors": true, "omit_sqlc_version": true, "sql_driver": true,
	"inflection_exclude_table_names": true,
}

// why says why an option the generator refuses cannot be followed.
var why = map[string]string{
	"emit_params_struct_pointers": "the generated CreateMany methods take sqlc's Params structs by value",
	"emit_prepared_queries":       "prepared queries are sqlc's database/sql mode; use sql_package: pgx/v5",
}

// ReadSQLC reads sqlc's configuration file and picks its sql entry that generates Go into out (relative to the
// file's directory), or its only such entry when out is "". Problems point at their line of the file.
func ReadSQLC(file, out string) (*SQLC, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading sqlc's configuration: %w", err)
	}
	var doc yaml.Node // JSON is YAML too
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var errs diag.List
	at := func(n *yaml.Node) token.Position {
		return token.Position{Filename: file, Line: n.Line, Column: n.Column}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a sqlc configuration", file)
	}
	root := doc.Content[0]
	if v := get(root, "version"); v == nil || v.Value != "2" {
		n := root
		if v != nil {
			n = v
		}
		errs.Addf(at(n), `sqlc configuration version %q is not supported: auditrepo-gen reads version "2"`, valueOr(v, "1"))
		return nil, errs.Err()
	}
	var found []*SQLC
	var entries []string
	sql := get(root, "sql")
	if sql != nil {
		for _, e := range sql.Content {
			gen := get(get(e, "gen"), "go")
			if gen == nil {
				continue
			}
			c := &SQLC{File: file, Dir: filepath.Dir(file), Out: valueOr(get(gen, "out"), "")}
			c.Package = valueOr(get(gen, "package"), filepath.Base(c.Out))
			entries = append(entries, c.Out)
			if out != "" && filepath.Clean(c.Out) != filepath.Clean(out) {
				continue
			}
			if eng := get(e, "engine"); eng == nil || eng.Value != "postgresql" {
				errs.Addf(at(e), "sql entry %s: engine must be postgresql", c.Out)
			}
			for _, n := range scalars(get(e, "queries")) {
				c.Queries, c.QueriesAt = append(c.Queries, n.Value), append(c.QueriesAt, at(n))
			}
			for _, n := range scalars(get(e, "schema")) {
				c.Schema, c.SchemaAt = append(c.Schema, n.Value), append(c.SchemaAt, at(n))
			}
			for i := 0; i+1 < len(gen.Content); i += 2 {
				k, v := gen.Content[i], gen.Content[i+1]
				ok, known := supportedGoOptions[k.Value]
				switch {
				case !known:
					errs.Addf(at(k), "sqlc option %s is not known to auditrepo-gen; remove it or file an issue", k.Value)
				case !ok && v.Value != "false":
					errs.Addf(at(k), "sqlc option %s is not supported: %s", k.Value, why[k.Value])
				}
			}
			if p := get(gen, "sql_package"); p == nil || p.Value != "pgx/v5" {
				n := gen
				if p != nil {
					n = p
				}
				errs.Addf(at(n), "sqlc option sql_package must be pgx/v5: the audited repositories run on pgx")
			}
			if t := get(gen, "emit_db_tags"); t == nil || t.Value != "true" {
				n := gen
				if t != nil {
					n = t
				}
				errs.Addf(at(n), "sqlc option emit_db_tags must be true: the generator reads column names from sqlc's db tags")
			}
			c.MethodsWithDBArgument = valueOr(get(gen, "emit_methods_with_db_argument"), "") == "true"
			c.ExportedQueries = valueOr(get(gen, "emit_exported_queries"), "") == "true"
			c.Naming = naming(root, gen)
			found = append(found, c)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && out != "":
		return nil, fmt.Errorf("%s: no sql entry generates Go into %s (entries: %s)", file, out, strings.Join(entries, ", "))
	case len(found) == 0:
		return nil, fmt.Errorf("%s: no sql entry generates Go (gen: go:)", file)
	default:
		return nil, fmt.Errorf("%s: several sql entries generate Go (%s): pick one with -sqlc DIR", file, strings.Join(entries, ", "))
	}
}

// naming reads the options that name sqlc's row structs from an entry's gen.go options and the configuration's
// root, where the global overrides are.
func naming(root, gen *yaml.Node) Naming {
	n := Naming{Exact: valueOr(get(gen, "emit_exact_table_names"), "") == "true", Initialisms: map[string]bool{}, Rename: map[string]string{}}
	for _, e := range scalars(get(gen, "inflection_exclude_table_names")) {
		n.Exclude = append(n.Exclude, e.Value)
	}
	if in := get(gen, "initialisms"); in != nil && in.Kind == yaml.SequenceNode {
		for _, i := range in.Content {
			n.Initialisms[i.Value] = true
		}
	} else {
		n.Initialisms["id"] = true
	}
	for _, m := range []*yaml.Node{get(gen, "rename"), get(get(get(root, "overrides"), "go"), "rename")} {
		for i := 0; m != nil && m.Kind == yaml.MappingNode && i+1 < len(m.Content); i += 2 {
			n.Rename[m.Content[i].Value] = m.Content[i+1].Value
		}
	}
	return n
}

// FindSQLC returns the sqlc configuration file of dir: sqlc.yaml, sqlc.yml or sqlc.json, as sqlc looks for them.
func FindSQLC(dir string) (string, error) {
	for _, n := range []string{"sqlc.yaml", "sqlc.yml", "sqlc.json"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no sqlc.yaml, sqlc.yml or sqlc.json (pass -f FILE)", dir)
}

// get returns the value of key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func valueOr(n *yaml.Node, def string) string {
	if n == nil {
		return def
	}
	return n.Value
}

// scalars is a scalar or a sequence of scalars (sqlc's schema and queries take either).
func scalars(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	}
	return []*yaml.Node{n}
}

// Paths expands sqlc's queries or schema paths, relative to base (the configuration's directory, relative to dir),
// into paths relative to dir, as sqlc does (internal/sql/sqlpath.Glob): a path
// with *, ?, [ or ] is a filepath.Glob pattern, replaced by the directories it matches and the .sql files, neither
// hidden nor down migrations (none is not an error); any other path must exist. Problems point at at[i], path i's
// place in the configuration.
func Paths(dir, base string, paths []string, at []token.Position) ([]string, error) {
	var out []string
	var errs diag.List
	for i, p := range paths {
		rel := p // relative to dir
		if !filepath.IsAbs(p) {
			rel = filepath.Join(base, p)
		}
		full := rel
		if !filepath.IsAbs(rel) {
			full = filepath.Join(dir, rel)
		}
		if !strings.ContainsAny(p, "*?[]") {
			if _, err := os.Stat(full); err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				errs.Addf(at[i], "sqlc path %s: %v", p, err)
			}
			out = append(out, rel)
			continue
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			errs.Addf(at[i], "sqlc path %s: %v", p, err)
			continue
		}
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				errs.Addf(at[i], "sqlc path %s: %v", p, err)
				continue
			}
			if !st.IsDir() && !sqlcReads(filepath.Base(m)) {
				continue
			}
			if !filepath.IsAbs(rel) {
				if m, err = filepath.Rel(dir, m); err != nil {
					errs.Addf(at[i], "sqlc path %s: %v", p, err)
					continue
				}
			}
			out = append(out, m)
		}
	}
	return out, errs.Err()
}
