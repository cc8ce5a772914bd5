package load

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRowStruct names row structs as sqlc v1.31 does (each expectation is a struct sqlc generated for the table
// under the same options).
func TestRowStruct(t *testing.T) {
	defaults := Naming{Initialisms: map[string]bool{"id": true}}
	options := Naming{Initialisms: map[string]bool{"api": true}, Exclude: []string{"campus", "Customers"},
		Rename: map[string]string{"person": "Human", "api_key": "Key"}}
	tests := []struct {
		n             Naming
		schema, table string
		want          string
	}{
		{defaults, "public", "customers", "Customer"},
		{defaults, "pharmacy", "customers", "PharmacyCustomer"},
		{defaults, "public", "user_ids", "UserID"},
		{defaults, "public", "people", "Person"},
		{defaults, "public", "Chart Notes", "ChartNote"},
		{defaults, "public", "2fa_codes", "_2faCode"},
		{defaults, "public", "campus", "Campus"},
		{defaults, "public", "api_keys", "ApiKey"},
		{Naming{Exact: true}, "public", "people", "People"},
		{options, "public", "customers", "Customers"},
		{options, "public", "people", "Human"},
		{options, "public", "api_keys", "Key"},
		{options, "public", "user_ids", "UserId"},
		{options, "pharmacy", "customers", "PharmacyCustomer"},
	}
	for _, tt := range tests {
		if got := tt.n.RowStruct(tt.schema, tt.table); got != tt.want {
			t.Errorf("RowStruct(%s, %s) with %+v = %s, want %s", tt.schema, tt.table, tt.n, got, tt.want)
		}
	}
}

// TestReadNaming reads the options that name row structs, the global overrides' renames over the entry's.
func TestReadNaming(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sqlc.yaml")
	cfg := `version: "2"
overrides:
  go:
    rename:
      person: Human
sql:
  - engine: postgresql
    schema: schema.sql
    queries: q
    gen:
      go:
        package: db
        out: db
        sql_package: pgx/v5
        emit_db_tags: true
        emit_exact_table_names: true
        initialisms: [api]
        inflection_exclude_table_names: [campus]
        rename: {person: Someone, api_key: Key}
`
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadSQLC(file, "")
	if err != nil {
		t.Fatal(err)
	}
	n := c.Naming
	if !n.Exact || len(n.Initialisms) != 1 || !n.Initialisms["api"] || len(n.Exclude) != 1 || n.Exclude[0] != "campus" ||
		len(n.Rename) != 2 || n.Rename["person"] != "Human" || n.Rename["api_key"] != "Key" {
		t.Errorf("Naming = %+v", n)
	}
}
