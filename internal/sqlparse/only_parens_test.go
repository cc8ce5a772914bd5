package sqlparse

import (
	"strings"
	"testing"
)

// TestOnlyParenthesizedTarget: PostgreSQL's grammar takes ONLY (t) as well as ONLY t and t * (relation_expr), with
// or without an alias. The statement's own WHERE condition is found after the target whichever it is, and with no
// WHERE the claim's goes before RETURNING, never after it (UPDATE ... RETURNING id WHERE (SELECT claim) would
// generate and fail at run time); the WHERE of a WITH or a subquery is not the statement's.
func TestOnlyParenthesizedTarget(t *testing.T) {
	for _, c := range []struct{ sql, cond string }{
		{`UPDATE ONLY (visits) SET reason = $1 WHERE id = $2`, "id = $2"},
		{`DELETE FROM ONLY (visits) WHERE id = $1 RETURNING id`, "id = $1"},
		{`UPDATE ONLY (visits) SET reason = $1 RETURNING id`, ""},
		{`UPDATE ONLY (clinic.visits) SET reason = $1 WHERE id = $2 RETURNING *`, "id = $2"},
		{`WITH w AS (SELECT 1 WHERE true) DELETE FROM ONLY (visits) RETURNING (SELECT 1 WHERE true)`, ""},
		{`UPDATE visits * SET reason = $1 WHERE id = (SELECT 1 WHERE true) RETURNING id`, "id = (SELECT 1 WHERE true)"},
		{`UPDATE visits * v SET reason = $1 WHERE v.id = $2`, "v.id = $2"},
	} {
		s, err := Parse(c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		if got := c.sql[s.Cond.Start:s.Cond.End]; got != c.cond {
			t.Errorf("%s: condition %q, want %q", c.sql, got, c.cond)
		}
		if r := strings.Index(c.sql, "RETURNING"); r >= 0 && s.Cond.End > r {
			t.Errorf("%s: the claim's condition goes at byte %d, after RETURNING (byte %d)", c.sql, s.Cond.End, r)
		}
	}
}
