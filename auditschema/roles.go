package auditschema

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// roleRule is what one role of the audit schema must not be or have, when it already exists: the attributes
// that would let it (or whoever logs in as it) reach the audit rows around the trigger functions, and the roles
// whose membership would. Install creates missing roles with none of them.
type roleRule struct {
	name, what string
	attrs      []string // pg_roles columns that must be false
	notIn      []string // roles it must not be a member of, directly or not
}

func roleRules(c Config) []roleRule {
	return []roleRule{
		// Whoever logs in as the audit role, or may make itself a member of it, may edit the trail.
		{c.Audit, "the audit role", []string{"rolcanlogin", "rolsuper", "rolcreaterole", "rolreplication"}, nil},
		// The owner role is reached through membership, so that ddl_log names who acted, and may not grant itself
		// the audit role (CREATEROLE may, on PostgreSQL 15); the other roles' memberships would let it read or
		// write the trail as they may not either.
		{c.Owner, "the owner role", []string{"rolcanlogin", "rolsuper", "rolcreaterole", "rolreplication"},
			[]string{c.Audit, c.App, c.Reviewer, "pg_read_all_data", "pg_write_all_data"}},
		{c.App, "the application role", []string{"rolsuper", "rolcreaterole", "rolreplication", "rolbypassrls"},
			[]string{c.Audit, c.Owner, c.Reviewer, "pg_read_all_data", "pg_write_all_data"}},
		{c.Reviewer, "the reviewer role", []string{"rolsuper", "rolcreaterole", "rolreplication", "rolbypassrls"},
			[]string{c.Audit, c.Owner, c.App, "pg_write_all_data"}},
	}
}

// attrKeywords are the ALTER ROLE keywords that clear each attribute.
var attrKeywords = map[string]string{
	"rolcanlogin": "NOLOGIN", "rolsuper": "NOSUPERUSER", "rolcreaterole": "NOCREATEROLE",
	"rolreplication": "NOREPLICATION", "rolbypassrls": "NOBYPASSRLS",
}

// checkRoles finds what the existing roles of c have that the audit schema's boundaries forbid (see roleRules),
// and the members of the audit role, which should have none. The installer (current_user) is not counted: a
// CREATEROLE installer holds a lasting membership of the roles it created on PostgreSQL 16 and later, and is
// made a member for the install's own transaction on 15.
func checkRoles(ctx context.Context, tx pgx.Tx, c Config) ([]Problem, error) {
	var probs []Problem
	for _, r := range roleRules(c) {
		var have []string
		err := tx.QueryRow(ctx, `
			SELECT array(SELECT a FROM unnest($2::text[]) WITH ORDINALITY AS u(a, i) WHERE (to_jsonb(r) ->> a)::boolean ORDER BY i)
			FROM pg_catalog.pg_roles r WHERE r.rolname = $1`, r.name, r.attrs).Scan(&have)
		if err == pgx.ErrNoRows {
			continue // Install creates it
		}
		if err != nil {
			return nil, fmt.Errorf("auditschema: reading role %s: %w", r.name, err)
		}
		if len(have) > 0 {
			kw, attr := make([]string, len(have)), make([]string, len(have))
			for i, a := range have {
				kw[i] = attrKeywords[a]
				attr[i] = strings.TrimPrefix(kw[i], "NO")
			}
			probs = append(probs, Problem{
				What: fmt.Sprintf("role %s (%s) has %s", r.name, r.what, strings.Join(attr, ", ")),
				Fix:  fmt.Sprintf("ALTER ROLE %s %s;", pgx.Identifier{r.name}.Sanitize(), strings.Join(kw, " ")),
			})
		}
		var in []string
		err = tx.QueryRow(ctx, `
			SELECT array(SELECT u.g FROM unnest($2::text[]) WITH ORDINALITY AS u(g, i)
			             JOIN pg_catalog.pg_roles g ON g.rolname = u.g -- by oid: a role Install creates later is no error
			             WHERE pg_catalog.pg_has_role($1, g.oid, 'MEMBER') ORDER BY u.i)`, r.name, r.notIn).Scan(&in)
		if err != nil {
			return nil, fmt.Errorf("auditschema: reading the memberships of role %s: %w", r.name, err)
		}
		for _, g := range in {
			probs = append(probs, Problem{
				What: fmt.Sprintf("role %s (%s) is a member of %s", r.name, r.what, g),
				Fix:  fmt.Sprintf("REVOKE %s FROM %s; (or from the role through which it is one)", pgx.Identifier{g}.Sanitize(), pgx.Identifier{r.name}.Sanitize()),
			})
		}
	}
	rows, err := tx.Query(ctx, `
		SELECT m.rolname FROM pg_catalog.pg_auth_members am
		JOIN pg_catalog.pg_roles g ON g.oid = am.roleid JOIN pg_catalog.pg_roles m ON m.oid = am.member
		WHERE g.rolname = $1 AND m.rolname <> current_user ORDER BY 1`, c.Audit)
	if err != nil {
		return nil, fmt.Errorf("auditschema: reading the members of role %s: %w", c.Audit, err)
	}
	members, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("auditschema: reading the members of role %s: %w", c.Audit, err)
	}
	for _, m := range members {
		if m == c.Owner || m == c.App || m == c.Reviewer {
			continue // named above
		}
		probs = append(probs, Problem{
			What: fmt.Sprintf("role %s is a member of %s (the audit role): it may edit the trail", m, c.Audit),
			Fix:  fmt.Sprintf("REVOKE %s FROM %s;", pgx.Identifier{c.Audit}.Sanitize(), pgx.Identifier{m}.Sanitize()),
		})
	}
	return probs, nil
}
