package load

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// typeCheck writes files (name -> text) as a schema directory, reads it as the generator does, runs the files' Up
// sections in name order on a fresh database with the audit schema, and returns the type refusals installing
// would make for every column the generator typed (model_problems' "of type" problems: of the declared type's
// name, and of the generator's verdicts, exact equality (ExactText; the others taken for strings, compared by
// their text too), padding (Padded) and whether the table pins extra_float_digits (some column not FloatFree),
// against the database's type), and the Input.
func typeCheck(t *testing.T, files map[string]string) (refusals []string, in *Input, super *pgxpool.Pool) {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for name, text := range files {
		names = append(names, name)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(names)
	in = &Input{}
	if err := scanSchemas(dir, []string{"."}, in); err != nil {
		t.Fatalf("scanSchemas: %v", err)
	}
	var sql strings.Builder
	for _, n := range names {
		sql.WriteString(upSection(files[n]))
		sql.WriteString("\n;\n")
	}
	super = pgtest.Schema(t, sql.String())
	ctx := t.Context()
	if _, err := auditschema.Install(ctx, super, auditschema.Defaults); err != nil {
		t.Fatal(err)
	}
	byTable := map[string]*auditschema.Table{}
	for key, typ := range in.Types {
		// keys are schema.table.column; the tests' tables and columns have no dots, their schemas may.
		i := strings.LastIndex(key, ".")
		j := strings.LastIndex(key[:i], ".")
		schema, table, col := key[:j], key[j+1:i], key[i+1:]
		name := pgx.Identifier{schema, table}.Sanitize()
		if byTable[name] == nil {
			byTable[name] = &auditschema.Table{Name: name, Types: map[string]string{}}
		}
		t := byTable[name]
		t.Columns = append(t.Columns, col)
		t.Types[col] = typ
		if in.ExactText[key] {
			t.Exact = append(t.Exact, col)
		} else {
			t.ByText = append(t.ByText, col) // as a string column's (ByBytes): the harness has no Go types
		}
		if in.Padded[key] {
			t.ByLength = append(t.ByLength, col)
		}
		t.FloatDigits = t.FloatDigits || !in.FloatFree[key]
	}
	var tables []auditschema.Table
	for _, t := range byTable {
		tables = append(tables, *t)
	}
	models, err := json.Marshal(tables)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := super.Query(ctx, "SELECT what FROM "+pgx.Identifier{auditschema.Defaults.Schema, "model_problems"}.Sanitize()+"($1, 'nobody', NULL) WHERE what LIKE 'table % has column % of type %' OR what LIKE '%does not exist'", models)
	if err != nil {
		t.Fatal(err)
	}
	refusals, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(refusals)
	return refusals, in, super
}

// misread returns, for each column the generator typed and installing accepts, what the generator decided wrongly
// of the database's type: exact equality (ExactText) for a type whose equality is not exact (neither text,
// varchar, char nor an enum, through domains: a citext domain's ignores case), or no padding (Padded) for a column
// of bpchar, whose equality and text drop trailing spaces (through domains).
func misread(t *testing.T, in *Input, super *pgxpool.Pool, refused []string) []string {
	t.Helper()
	var out []string
	for key := range in.Types {
		i := strings.LastIndex(key, ".")
		j := strings.LastIndex(key[:i], ".")
		schema, table, col := key[:j], key[j+1:i], key[i+1:]
		name := pgx.Identifier{schema, table}.Sanitize()
		if strings.Contains(strings.Join(refused, "\n"), name+" has column "+col+" ") {
			continue
		}
		var base, typtype string
		var array bool
		err := super.QueryRow(t.Context(), `WITH RECURSIVE d(oid, n) AS (
				SELECT a.atttypid, 0 FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2
				UNION ALL SELECT t.typbasetype, d.n + 1 FROM d JOIN pg_type t ON t.oid = d.oid WHERE t.typtype = 'd')
			SELECT t.oid::regtype::text, t.typtype::text, t.typelem <> 0 AND t.typlen = -1
			FROM d JOIN pg_type t ON t.oid = d.oid ORDER BY d.n DESC LIMIT 1`, name, col).Scan(&base, &typtype, &array)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		exactOK := typtype == "e" || base == "text" || base == "character varying" || base == "character"
		if in.ExactText[key] && !exactOK {
			out = append(out, key+": compared by equality alone (ExactText), but its type is "+base)
		}
		if base == "character" && !in.Padded[key] {
			out = append(out, key+": not compared by length (Padded), but its type is bpchar")
		}
	}
	sort.Strings(out)
	return out
}
