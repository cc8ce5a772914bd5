package auditschema

import (
	"context"
	"fmt"

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
		{c.Audit, "the audit role", []string{"rolcanlogin", "rolsuper", "rolcreaterole", "rolreplication"}, []string{c.Writer}},
		// The trigger functions run as the writer role, and code of the owner's can reach them (a cast's function,
		// say, where the event trigger is off): it may add audit rows and nothing more, so it is a member of no role
		// that may do more, pg_write_all_data's UPDATE and DELETE of the trail included.
		{c.Writer, "the writer role", []string{"rolcanlogin", "rolsuper", "rolcreaterole", "rolreplication"},
			[]string{c.Audit, c.Owner, c.App, c.Reviewer, c.Sealer, "pg_read_all_data", "pg_write_all_data"}},
		// The owner role is reached through membership, so that ddl_log names who acted, and may not grant itself
		// the audit role (CREATEROLE may, on PostgreSQL 15); the other roles' memberships would let it read or
		// write the trail, or its seals, as they may not either.
		{c.Owner, "the owner role", []string{"rolcanlogin", "rolsuper", "rolcreaterole", "rolreplication"},
			[]string{c.Audit, c.Writer, c.App, c.Reviewer, c.Sealer, "pg_read_all_data", "pg_write_all_data"}},
		{c.App, "the application role", []string{"rolsuper", "rolcreaterole", "rolreplication", "rolbypassrls"},
			[]string{c.Audit, c.Writer, c.Owner, c.Reviewer, c.Sealer, "pg_read_all_data", "pg_write_all_data"}},
		{c.Reviewer, "the reviewer role", []string{"rolsuper", "rolcreaterole", "rolreplication", "rolbypassrls"},
			[]string{c.Audit, c.Writer, c.Owner, c.App, c.Sealer, "pg_write_all_data"}},
		// Sealing appends checkpoints no one can remove: a role that writes PHI or owns the tables must not, nor
		// may the reviewers' login (above) be a member: whoever may seal can break sealing for good.
		{c.Sealer, "the sealer role", []string{"rolsuper", "rolcreaterole", "rolreplication", "rolbypassrls"},
			[]string{c.Audit, c.Writer, c.Owner, c.App, "pg_read_all_data", "pg_write_all_data"}},
	}
}

// attrWords are the ALTER ROLE keywords of each attribute (NO and the keyword clears it).
var attrWords = map[string]string{
	"rolcanlogin": "LOGIN", "rolsuper": "SUPERUSER", "rolcreaterole": "CREATEROLE",
	"rolreplication": "REPLICATION", "rolbypassrls": "BYPASSRLS",
}

// checkRoles finds what the existing roles of c have that the audit schema's boundaries forbid (see roleRules),
// and the members of the audit and writer roles, which should have none: the query role_problems, which v1.sql
// runs too.
func checkRoles(ctx context.Context, tx pgx.Tx, c Config) ([]Problem, error) {
	q, err := c.render("role_problems")
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("auditschema: reading the roles: %w", err)
	}
	probs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Problem])
	if err != nil {
		return nil, fmt.Errorf("auditschema: reading the roles: %w", err)
	}
	return probs, nil
}
