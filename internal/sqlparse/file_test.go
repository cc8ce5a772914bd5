package sqlparse

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

// ReadSchema names the tables as the catalog has them: unquoted names folded, quoted ones kept, unqualified
// ones in public; renames add the new name, drops remove nothing.
func TestCreatedTables(t *testing.T) {
	sc, err := ReadSchema(`CREATE TABLE Visits (id bigint); CREATE TABLE "Chart Notes" (id bigint);
		CREATE TABLE clinic.rooms (id bigint); CREATE TABLE copy AS SELECT 1; CREATE VIEW v AS SELECT 1;
		ALTER TABLE visits RENAME TO appointments; DROP TABLE rooms;`)
	var got []Table
	if sc != nil {
		got = sc.Tables
	}
	want := []Table{{"public", "visits"}, {"public", "Chart Notes"}, {"clinic", "rooms"}, {"public", "copy"}, {"public", "appointments"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadSchema(...).Tables = %v, %v; want %v", got, err, want)
	}
	var pe *Error
	if _, err := ReadSchema("CREATE TABLE (;"); !errors.As(err, &pe) || pe.Offset != 13 {
		t.Errorf("a syntax error: %v, want an *Error at byte 13", err)
	}
}

// Text, varchar and char columns without a COLLATE clause compare byte for byte; citext, a collation, an array, a
// domain or any other type do not, nor does a column retyped later.
func TestPlainTextColumns(t *testing.T) {
	sc, err := ReadSchema(`CREATE TABLE people (id bigint, name text, code varchar(8), initials char(2),
			email citext, nick text COLLATE nocase, tags text[], kind mood, notes text);
		ALTER TABLE people ADD COLUMN alias character varying, ALTER COLUMN notes TYPE citext;
		CREATE TABLE clinic.rooms (label pg_catalog.text)`)
	if err != nil {
		t.Fatal(err)
	}
	got := sc.PlainText
	people := Table{"public", "people"}
	want := map[Column]bool{{people, "id"}: false, {people, "name"}: true, {people, "code"}: true, {people, "initials"}: true,
		{people, "email"}: false, {people, "nick"}: false, {people, "tags"}: false, {people, "kind"}: false,
		{people, "notes"}: false, {people, "alias"}: true, {Table{"clinic", "rooms"}, "label"}: true}
	if !maps.Equal(got, want) {
		t.Errorf("ReadSchema(...).PlainText = %v\nwant %v", got, want)
	}
}
