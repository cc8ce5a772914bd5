package ir

import "testing"

// A row the trigger refers to whole is named by no column: a bare name would mean the column.
func TestRowNameAvoidsColumns(t *testing.T) {
	m := &Model{Columns: []*Column{{Name: "id"}, {Name: "ar_after"}, {Name: "ar_after_"}}}
	if got := m.rowName("ar_after"); got != "ar_after__" {
		t.Errorf(`rowName("ar_after") = %q, want "ar_after__"`, got)
	}
	if got := m.rowName("ar_before"); got != "ar_before" {
		t.Errorf(`rowName("ar_before") = %q, want it unchanged`, got)
	}
}
