package load

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jinzhu/inflection"
)

// Naming is how sqlc names the row struct of a table, from the options of the configuration's entry; a model must
// have that name.
type Naming struct {
	Exact       bool              // emit_exact_table_names: the table's name is not made singular
	Exclude     []string          // inflection_exclude_table_names
	Initialisms map[string]bool   // initialisms (sqlc's default: id), written upper case
	Rename      map[string]string // rename, the global overrides' (overrides: go: rename:) over the entry's
}

// defaultSchema is the schema whose tables sqlc names without their schema's name.
const defaultSchema = "public"

// RowStruct returns the name sqlc gives the row struct of table schema.table, as sqlc v1.31's buildStructs and
// StructName (internal/codegen/golang) make it.
func (n Naming) RowStruct(schema, table string) string {
	name := table
	if schema != defaultSchema {
		name = schema + "_" + table
	}
	if !n.Exact {
		name = singular(name, n.Exclude)
	}
	if r := n.Rename[name]; r != "" {
		return r
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '_'
	}, name)
	var out strings.Builder
	for _, p := range strings.Split(name, "_") {
		if n.Initialisms[p] {
			out.WriteString(strings.ToUpper(p))
			continue
		}
		// strings.Title of a word of letters and digits: its first rune in title case.
		r, size := utf8.DecodeRuneInString(p)
		if size > 0 {
			out.WriteRune(unicode.ToTitle(r))
		}
		out.WriteString(p[size:])
	}
	if r, _ := utf8.DecodeRuneInString(out.String()); unicode.IsDigit(r) {
		return "_" + out.String()
	}
	return out.String()
}

// singular is sqlc's internal/inflection.Singular: jinzhu/inflection's, but for the excluded names and the words
// sqlc corrects.
func singular(name string, exclude []string) string {
	for _, e := range exclude {
		if strings.EqualFold(name, e) {
			return name
		}
	}
	switch strings.ToLower(name) {
	case "campus", "meta":
		return name
	case "calories":
		return "calorie"
	case "waves":
		return "wave"
	case "metadata":
		return "metadata"
	}
	return inflection.Singular(name)
}
