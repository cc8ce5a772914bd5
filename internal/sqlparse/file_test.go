package sqlparse

import (
	"errors"
	"slices"
	"testing"
)

// CreatedTables names the tables as the catalog has them: unquoted names folded, quoted ones kept, unqualified
// ones in public; renames add the new name, drops remove nothing.
func TestCreatedTables(t *testing.T) {
	got, err := CreatedTables(`CREATE TABLE Visits (id bigint); CREATE TABLE "Chart Notes" (id bigint);
		CREATE TABLE clinic.rooms (id bigint); CREATE TABLE copy AS SELECT 1; CREATE VIEW v AS SELECT 1;
		ALTER TABLE visits RENAME TO appointments; DROP TABLE rooms;`)
	want := []Table{{"public", "visits"}, {"public", "Chart Notes"}, {"clinic", "rooms"}, {"public", "copy"}, {"public", "appointments"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("CreatedTables = %v, %v; want %v", got, err, want)
	}
	var pe *Error
	if _, err := CreatedTables("CREATE TABLE (;"); !errors.As(err, &pe) || pe.Offset != 13 {
		t.Errorf("a syntax error: %v, want an *Error at byte 13", err)
	}
}
