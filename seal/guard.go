package seal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/auditschema"
)

// ErrTableAltered is matched (errors.Is) by a *TableError, which matches ErrTampered too: the audit table is not
// the one the schema installed, in a way that lets some reads of it see other rows or values than others.
var ErrTableAltered = errors.New("seal: the audit table was altered")

// TableError says how the audit table (or a partition of it) differs from what the schema installs, and what to
// remove. Verify reads the rows as they are; a reviewer's read must see the same rows and values, and neither a
// row-level security policy, a rule, nor a column of another type (whose text, or whose JSON decoding, another
// reader may take otherwise) may stand between them.
type TableError struct {
	Table string
	Msg   string
}

func (e *TableError) Error() string {
	return fmt.Sprintf("seal: the audit table %s was altered: %s", e.Table, e.Msg)
}

func (e *TableError) Is(target error) bool { return target == ErrTableAltered || target == ErrTampered }

// checkTable refuses an audit table that could show Verify, Seal or VerifyPatient other rows or values than the
// reviewers' reads: one that is not a partitioned table, a partition that is not a table, row-level security
// (enabled or forced) or a policy or rule on it or a partition, a column of another type than the schema installs
// (auditschema.Config.AuditColumns), or a column the schema does not install. A superuser can do each of these;
// none changes a row, so the rows alone would verify. A sealed column that is gone is left to the rows (each
// sealed row reads as edited).
func checkTable(ctx context.Context, tx pgx.Tx, qualified string) error {
	var schema, name string
	var kind string
	err := tx.QueryRow(ctx, `SELECT n.nspname, c.relname, c.relkind::text FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass`, qualified).Scan(&schema, &name, &kind)
	if err != nil {
		return fmt.Errorf("seal: reading %s from the catalog: %w", qualified, err)
	}
	bad := func(format string, args ...any) error {
		return &TableError{Table: qualified, Msg: fmt.Sprintf(format, args...)}
	}
	if kind != "p" {
		return bad("it is not a partitioned table (relkind %q): the schema installs one, partitioned by month", kind)
	}
	rows, err := tx.Query(ctx, `SELECT c.oid::regclass::text, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
			ARRAY(SELECT p.polname::text FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid ORDER BY 1),
			ARRAY(SELECT r.rulename::text FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid ORDER BY 1)
		FROM pg_catalog.pg_partition_tree($1::regclass) t JOIN pg_catalog.pg_class c ON c.oid = t.relid
		ORDER BY t.level, 1`, qualified)
	if err != nil {
		return fmt.Errorf("seal: reading the partitions of %s: %w", qualified, err)
	}
	var rel string
	var rls, force bool
	var policies, rules []string
	_, err = pgx.ForEachRow(rows, []any{&rel, &kind, &rls, &force, &policies, &rules}, func() error {
		switch {
		case kind != "p" && kind != "r":
			return bad("its partition %s is not a table (relkind %q): detach it", rel, kind)
		case len(policies) > 0:
			return bad("%s has row-level security policies (%s), which can hide rows from some reads and not others: drop them (DROP POLICY ... ON %[1]s) and ALTER TABLE %[1]s DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY",
				rel, strings.Join(policies, ", "))
		case rls || force:
			return bad("%s has row-level security enabled or forced, which can hide rows from some reads and not others: ALTER TABLE %[1]s DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY", rel)
		case len(rules) > 0:
			return bad("%s has rules (%s), which the schema installs none of: drop them (DROP RULE ... ON %[1]s)", rel, strings.Join(rules, ", "))
		}
		return nil
	})
	if err != nil {
		return err
	}
	want, err := auditschema.Config{Schema: schema, Table: name}.AuditColumns()
	if err != nil {
		return err
	}
	names, types := make([]string, len(want)), make([]string, len(want))
	for i, c := range want {
		names[i], types[i] = c.Name, c.Type
	}
	rows, err = tx.Query(ctx, `SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), e.type,
			pg_catalog.format_type(pg_catalog.to_regtype(e.type), NULL),
			a.atttypid IS NOT DISTINCT FROM pg_catalog.to_regtype(e.type) AND a.atttypmod = -1
		FROM pg_catalog.pg_attribute a LEFT JOIN ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[])) e (name, type) ON e.name = a.attname
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, qualified, names, types)
	if err != nil {
		return fmt.Errorf("seal: reading the columns of %s: %w", qualified, err)
	}
	var col, typ string
	var wantType, wantName *string
	var same bool
	_, err = pgx.ForEachRow(rows, []any{&col, &typ, &wantType, &wantName, &same}, func() error {
		switch {
		case wantType == nil:
			return bad("it has a column %s (%s) that the schema does not install: drop it", pgx.Identifier{col}.Sanitize(), typ)
		case !same:
			w := *wantType
			if wantName != nil {
				w = *wantName
			}
			return bad("column %s is of type %s, not %s as the schema installs it (a value of another type reads as other text, or decodes otherwise): alter it back", pgx.Identifier{col}.Sanitize(), typ, w)
		}
		return nil
	})
	return err
}
