package templates

import (
	"context"
	"slices"
	"testing"

	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// Quoted column names may hold what the array syntax means something by; PostgreSQL must read each back whole.
func TestArrayLitRoundTrips(t *testing.T) {
	items := []string{"id", "a,b", `q"x`, `b\s`, " sp", "NULL", "null", "{x}", "two words", "é"}
	var got []string
	if err := pgtest.Empty(t).QueryRow(context.Background(), "SELECT "+arrayLit(items)).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, items) {
		t.Errorf("%s reads back as %q, want %q", arrayLit(items), got, items)
	}
}
