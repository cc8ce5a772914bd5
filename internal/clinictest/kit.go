package clinictest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/migrations"
)

// Tables are the clinic's PHI tables (gen/repo's models), unqualified, in the models' order.
var Tables = func() []string {
	out := make([]string, len(repo.AuditModels.Tables))
	for i, t := range repo.AuditModels.Tables {
		out[i] = strings.TrimPrefix(t.Name, "public.")
	}
	return out
}()

// Since returns the audit rows with an id above after, in id order: pass MaxID's result to see what a step
// wrote. q should connect as the reviewer (or a superuser).
func Since(t testing.TB, q audit.DBTX, after int64) []Row {
	t.Helper()
	return Trail(t, q, "id > $1", after)
}

// MaxID is the highest audit row id (0 when there is none).
func MaxID(t testing.TB, q audit.DBTX) int64 {
	t.Helper()
	var id int64
	if err := q.QueryRow(context.Background(), "SELECT coalesce(max(id), 0) FROM "+migrations.Audit.QualifiedTable()).Scan(&id); err != nil {
		t.Fatalf("max audit id: %v", err)
	}
	return id
}

// Count returns the number of audit rows that match where (SQL over the audit table's columns, with args).
func Count(t testing.TB, q audit.DBTX, where string, args ...any) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), "SELECT count(*) FROM "+migrations.Audit.QualifiedTable()+" WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatalf("counting audit rows (%s): %v", where, err)
	}
	return n
}

// RowCount returns the number of rows of a table (unqualified names are public's), as q sees them; Count is
// the one for audit rows.
func RowCount(t testing.TB, q audit.DBTX, table string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), "SELECT count(*) FROM "+qualify(table)).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// Records returns every audit row of table grouped by target id, each group in id order.
func Records(t testing.TB, q audit.DBTX, table string) map[int64][]Row {
	t.Helper()
	out := map[int64][]Row{}
	for _, r := range Trail(t, q, "target_table = $1", table) {
		out[r.TargetID] = append(out[r.TargetID], r)
	}
	return out
}

// Snapshot returns the whole content of each table (unqualified names are public's; the audit table by its
// qualified name) as JSON text, to compare before and after a write that must change nothing. q must be able
// to read them all: Super for the clinic's tables with the trail.
func Snapshot(t testing.TB, q audit.DBTX, tables ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tab := range tables {
		var s string
		err := q.QueryRow(context.Background(), fmt.Sprintf(
			"SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.id), '[]')::text FROM %s x", qualify(tab))).Scan(&s)
		if err != nil {
			t.Fatalf("snapshot of %s: %v", tab, err)
		}
		out[tab] = s
	}
	return out
}

// Unchanged takes the Snapshot of before's tables again (on the same q) and fails t with each table whose
// content differs, before and after abbreviated; it reports whether none does, for a caller that cannot go on
// otherwise. It is the check that a refused or failed write changed nothing.
func Unchanged(t testing.TB, q audit.DBTX, before map[string]string) bool {
	t.Helper()
	tables := slices.Sorted(maps.Keys(before))
	after := Snapshot(t, q, tables...)
	same := true
	for _, tab := range tables {
		if b, a := before[tab], after[tab]; b != a {
			same = false
			// From just before the first difference: a changed row deep in a table is past Abbrev's cut.
			i := 0
			for i < min(len(b), len(a)) && b[i] == a[i] {
				i++
			}
			from := max(0, i-80)
			t.Errorf("%s changed at byte %d:\nbefore ...%s\nafter  ...%s", tab, i, Abbrev(b[from:]), Abbrev(a[from:]))
		}
	}
	return same
}

func qualify(tab string) string {
	if s, n, ok := strings.Cut(tab, "."); ok {
		return pgx.Identifier{s, n}.Sanitize()
	}
	return pgx.Identifier{tab}.Sanitize()
}

// AppPool opens another pool on the clinic's database as the application role, with MaxConns maxConns and
// tweaks applied (for tests that size the pool or change session settings); it is closed when t ends.
func (c *Clinic) AppPool(t testing.TB, maxConns int32, tweaks ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg := c.App.Config()
	cfg.MaxConns = maxConns
	for _, f := range tweaks {
		f(cfg)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("clinictest: pool: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}
