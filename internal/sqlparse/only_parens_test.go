package sqlparse

import (
	"strings"
	"testing"
)

// TestOnlyParenthesizedTarget: PostgreSQL's grammar takes ONLY (t) as well as ONLY t (relation_expr). The target
// reader stops at the ')' after the name when there is no alias, and the WHERE scan starts there at depth -1, so it
// finds no WHERE at depth 0: a statement with one is refused ("WHERE condition not found"), and one without gets its
// claim's WHERE spliced after its RETURNING list (UPDATE ... RETURNING id WHERE (SELECT claim)), which generates
// and then fails at run time with a syntax error.
func TestOnlyParenthesizedTarget(t *testing.T) {
	for _, c := range []struct{ sql, cond string }{
		{`UPDATE ONLY (visits) SET reason = $1 WHERE id = $2`, "id = $2"},
		{`DELETE FROM ONLY (visits) WHERE id = $1 RETURNING id`, "id = $1"},
		{`UPDATE ONLY (visits) SET reason = $1 RETURNING id`, ""},
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
