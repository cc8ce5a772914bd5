package auditschema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Report says what Install did.
type Report struct {
	// Installed: the schema was created by this call (false: it was already at Version).
	Installed bool
	// EventTrigger: the DDL event trigger is in place. It needs a superuser; without one it is skipped and DDL on
	// audited tables is not recorded.
	EventTrigger bool
}

// Install creates the roles and the audit schema with c's names, unless the schema already holds this version;
// it runs in one transaction. The connecting user must be a superuser, or have CREATEROLE and own the database
// (then the event trigger is skipped): only the owner may revoke TEMPORARY from PUBLIC. Run it before the migrations that give tables to the owner role
// and grant the application role; then install the models (InstallModels, or the generated Install).
func Install(ctx context.Context, db Querier, c Config) (*Report, error) {
	c = c.WithDefaults()
	if err := c.Check(); err != nil {
		return nil, err
	}
	rep := &Report{}
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		// One install at a time: roles and the schema are created only if missing.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('auditrepo install'))"); err != nil {
			return err
		}
		probs, err := checkRoles(ctx, tx, c)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			return &NotReadyError{Problems: probs}
		}
		v, err := installedVersion(ctx, tx, c)
		if err != nil {
			return err
		}
		switch {
		case v > Version:
			return &NotReadyError{Problems: []Problem{{
				What: fmt.Sprintf("%s holds schema version %d, newer than this library's %d", c.Schema, v, Version),
				Fix:  "use the version of github.com/auditrepo/auditrepo that installed it, or a later one",
			}}}
		case v == 0:
			sql, err := c.SQL()
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("auditschema: creating schema %s: %w", c.Schema, err)
			}
			rep.Installed = true
		}
		if err := secure(ctx, tx, c); err != nil {
			return err
		}
		super, err := superuser(ctx, tx)
		if err != nil {
			return err
		}
		if super {
			sql, err := c.DDLSQL()
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("auditschema: installing the DDL event trigger: %w", err)
			}
			rep.EventTrigger = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// Secure applies what the audit schema needs of the database itself (Config.DatabaseSQL): run it on a database
// cloned from a template or restored without --create, where database privileges are lost. Install and
// InstallModels run it too.
func Secure(ctx context.Context, db Querier, c Config) error {
	if err := c.Check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return secure(ctx, tx, c.WithDefaults()) })
}

func secure(ctx context.Context, tx pgx.Tx, c Config) error {
	sql, err := c.DatabaseSQL()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("auditschema: securing the database: %w", err)
	}
	return nil
}

// superuser reports whether the connecting role is a superuser: only one may install the event trigger, and others
// become the audit role for a transaction by a grant.
func superuser(ctx context.Context, tx pgx.Tx) (bool, error) {
	var super bool
	err := tx.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super)
	return super, err
}

// installedVersion is the schema version installed under c's schema, 0 if none. The table is looked up in the
// catalog, which needs no privilege: to_regclass would need USAGE on the schema, which a CREATEROLE installer
// outside the owner role lacks.
func installedVersion(ctx context.Context, tx pgx.Tx, c Config) (int, error) {
	var found bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = 'schema_version')`, c.Schema).Scan(&found)
	if err != nil {
		return 0, fmt.Errorf("auditschema: looking for %s.schema_version: %w", c.Schema, err)
	}
	if !found {
		return 0, nil
	}
	var v *int
	err = asAuditMember(ctx, tx, c, func() error {
		if err := tx.QueryRow(ctx, "SELECT max(version) FROM "+pgx.Identifier{c.Schema, "schema_version"}.Sanitize()).Scan(&v); err != nil {
			return fmt.Errorf("auditschema: reading %s.schema_version: %w", c.Schema, err)
		}
		return nil
	})
	if err != nil || v == nil {
		return 0, err
	}
	return *v, nil
}

// asAuditMember runs f with the connecting user able to act as the audit role: a superuser already can; a
// CREATEROLE user is made a member for f and the membership revoked after it (on an error the transaction
// rolls the grant back), so nobody stays a member of the audit role.
func asAuditMember(ctx context.Context, tx pgx.Tx, c Config, f func() error) error {
	super, err := superuser(ctx, tx)
	if err != nil {
		return fmt.Errorf("auditschema: acting as %s: %w", c.Audit, err)
	}
	role := pgx.Identifier{c.Audit}.Sanitize()
	if !super {
		if _, err := tx.Exec(ctx, "GRANT "+role+" TO CURRENT_USER"); err != nil {
			return fmt.Errorf("auditschema: acting as %s: %w", c.Audit, err)
		}
	}
	if err := f(); err != nil {
		return err
	}
	if !super {
		if _, err := tx.Exec(ctx, "REVOKE "+role+" FROM CURRENT_USER"); err != nil {
			return fmt.Errorf("auditschema: acting as %s: %w", c.Audit, err)
		}
	}
	return nil
}

// Models is the per-model part of the schema, as the generator emits it for a module's models (the generated
// package's AuditModels): the trigger functions that write the audit rows, and the triggers.
type Models struct {
	// Schema is the audit schema the SQL was generated for; it must match the Config's.
	Schema string
	// Tables are the audited tables and the columns their models declare.
	Tables []Table
	// SQL creates the trigger functions (owned by the audit role) and the triggers; it may be run again.
	SQL string
}

// Table is an audited table, schema-qualified as SQL names it, with the columns its model declares. The audit
// rows' images and changed fields name these columns: a column the model does not declare would be in no audit
// row, so the table must have exactly these.
type Table struct {
	Name    string
	Columns []string
	// Refs are the steps of the table's patient path through other tables, in order (none when its rows name
	// their patient themselves).
	Refs []Ref
}

// Ref is one step of a patient path: column Column of table From holds ids of table To (both schema-qualified
// as SQL names them). The audit triggers read the patient there when a row of From changes, so Column needs a
// validated foreign key to To's id that is ON DELETE RESTRICT ON UPDATE RESTRICT and not deferrable, and no
// other: a row of To that rows of From refer to can then be neither deleted nor re-keyed while they do.
type Ref struct {
	From, Column, To string
}

// InstallModels installs m's trigger functions and triggers in one transaction, after checking that every table
// exists, has the columns its model declares, is owned by the owner role, grants the application role what it
// needs and has the foreign keys its patient path follows (Ref); if not, it changes nothing and returns a *NotReadyError (matching ErrNotReady) naming what fixes each
// problem. Running it again replaces what a previous run installed.
func InstallModels(ctx context.Context, db Querier, c Config, m Models) error {
	c = c.WithDefaults()
	if err := c.Check(); err != nil {
		return err
	}
	if m.Schema != c.Schema {
		return &NotReadyError{Problems: []Problem{{
			What: fmt.Sprintf("the models were generated for audit schema %q, not %q", m.Schema, c.Schema),
			Fix:  fmt.Sprintf("generate them with -schema %s, or install with Config.Schema %q", c.Schema, m.Schema),
		}}}
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		v, err := installedVersion(ctx, tx, c)
		if err != nil {
			return err
		}
		if v != Version {
			return &NotReadyError{Problems: []Problem{{
				What: fmt.Sprintf("audit schema %s is not installed (version %d, want %d)", c.Schema, v, Version),
				Fix:  "auditschema.Install, or the SQL of `auditrepo schema`",
			}}}
		}
		if err := check(ctx, tx, c, m.Tables); err != nil {
			return err
		}
		if err := secure(ctx, tx, c); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("auditschema: installing the models' triggers: %w", err)
		}
		return nil
	})
}

// check finds what the roles have that they may not (checkRoles), and every table that is missing, has other
// columns than its model, is not owned by the owner role, or lacks the application role's grants.
func check(ctx context.Context, tx pgx.Tx, c Config, tables []Table) error {
	probs, err := checkRoles(ctx, tx, c)
	if err != nil {
		return err
	}
	checked := map[Ref]bool{}
	for _, tbl := range tables {
		t := tbl.Name
		var owner string
		var grants, cols []string
		var idUnique bool
		var kin []string // the tables it inherits from or that inherit from it (partitions included)
		err := tx.QueryRow(ctx, `
			SELECT pg_get_userbyid(c.relowner),
				array(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
				      WHERE NOT has_table_privilege($2, c.oid, p)),
				array(SELECT a.attname::text FROM pg_attribute a
				      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
				EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
				        WHERE i.indrelid = c.oid AND i.indisunique AND i.indimmediate AND i.indnkeyatts = 1
				          AND i.indkey[0] = a.attnum AND i.indpred IS NULL),
				array(SELECT h.oid::regclass::text FROM pg_inherits i JOIN pg_class h
				      ON h.oid = CASE WHEN i.inhrelid = c.oid THEN i.inhparent ELSE i.inhrelid END
				      WHERE c.oid IN (i.inhrelid, i.inhparent) ORDER BY 1)
			FROM pg_class c WHERE c.oid = to_regclass($1)`, t, c.App).Scan(&owner, &grants, &cols, &idUnique, &kin)
		if errors.Is(err, pgx.ErrNoRows) {
			probs = append(probs, Problem{What: "table " + t + " does not exist", Fix: "run the migrations that create it before installing the models"})
			continue
		}
		if err != nil {
			return err
		}
		if extra := missingFrom(cols, tbl.Columns); len(extra) > 0 {
			probs = append(probs, Problem{
				What: fmt.Sprintf("table %s has columns its model does not declare: %s", t, strings.Join(extra, ", ")),
				Fix:  "declare them in the model (untagged, or audit:\"exclude\", \"redact\" or \"nonphi\"), regenerate the repositories and install those",
			})
		}
		if missing := missingFrom(tbl.Columns, cols); len(missing) > 0 {
			probs = append(probs, Problem{
				What: fmt.Sprintf("table %s lacks columns its model declares: %s", t, strings.Join(missing, ", ")),
				Fix:  "run the migrations the repositories were generated from, or regenerate them from this schema",
			})
		}
		if !idUnique && slices.Contains(cols, "id") {
			// The triggers pair a row's old and new versions by id (transition tables keep no other link): rows
			// sharing one would have their images mixed up, or a change of either written as two halves.
			probs = append(probs, Problem{
				What: fmt.Sprintf("table %s has no unique index on id alone (a PRIMARY KEY or UNIQUE constraint, not deferrable): the audit triggers pair a row's old and new versions by id", t),
				Fix:  fmt.Sprintf("ALTER TABLE %s ADD UNIQUE (id);", t),
			})
		}
		if len(kin) > 0 {
			// The audit triggers are statement triggers on this table: a statement on a parent or a child (a
			// partition included) fires none of them, and its changes to this table's rows would leave no row.
			probs = append(probs, Problem{
				What: fmt.Sprintf("table %s takes part in inheritance or partitioning (with %s): writes through those tables would fire none of its audit triggers", t, strings.Join(kin, ", ")),
				Fix:  "audit a table that neither inherits nor is inherited from, nor is partitioned or a partition",
			})
		}
		if owner != c.Owner {
			probs = append(probs, Problem{
				What: fmt.Sprintf("table %s is owned by %s, not %s", t, owner, c.Owner),
				Fix:  fmt.Sprintf("ALTER TABLE %s OWNER TO %s;", t, pgx.Identifier{c.Owner}.Sanitize()),
			})
		}
		if len(grants) > 0 {
			g := strings.Join(grants, ", ")
			probs = append(probs, Problem{
				What: fmt.Sprintf("role %s lacks %s on %s", c.App, g, t),
				Fix:  fmt.Sprintf("GRANT %s ON %s TO %s;", g, t, pgx.Identifier{c.App}.Sanitize()),
			})
		}
		for _, r := range tbl.Refs {
			// A longer path repeats the steps of the paths of its hop tables: each is checked, and named, once.
			if checked[r] {
				continue
			}
			checked[r] = true
			p, err := checkRef(ctx, tx, r)
			if err != nil {
				return err
			}
			if p != nil {
				probs = append(probs, *p)
			}
		}
	}
	if len(probs) > 0 {
		return &NotReadyError{Problems: probs}
	}
	return nil
}

// checkRef reports a step of a patient path whose column lacks a validated foreign key to the hop table's id that
// is ON DELETE RESTRICT ON UPDATE RESTRICT and not deferrable, or has another key there that is not (nil if
// neither, or if a table is missing, which check reports). NO ACTION would let a statement delete or re-key the
// hop row and give its id to another row, and CASCADE, SET NULL or SET DEFAULT change the dependents with it:
// either way the dependents would change patient with no audit row of theirs. A deferrable key lets any session
// (SET CONSTRAINTS ALL DEFERRED) write a dependent whose hop row does not exist yet, whose audit row names no
// patient. The fix drops the other keys and adds or validates one.
func checkRef(ctx context.Context, tx pgx.Tx, r Ref) (*Problem, error) {
	type key struct {
		Name         string
		Right, Valid bool // both actions RESTRICT, not deferrable; validated
	}
	rows, err := tx.Query(ctx, `
		SELECT k.conname::text, k.confdeltype = 'r' AND k.confupdtype = 'r' AND NOT k.condeferrable, k.convalidated
		FROM pg_constraint k
		JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attname = $2
		JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attname = 'id'
		WHERE k.contype = 'f' AND k.conrelid = to_regclass($1) AND k.confrelid = to_regclass($3)
		  AND k.conkey = ARRAY[a.attnum] AND k.confkey = ARRAY[b.attnum]
		ORDER BY 1`, r.From, r.Column, r.To)
	if err != nil {
		return nil, fmt.Errorf("auditschema: reading the foreign keys of %s: %w", r.From, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[key])
	if err != nil {
		return nil, fmt.Errorf("auditschema: reading the foreign keys of %s: %w", r.From, err)
	}
	var exist bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL", r.From, r.To).Scan(&exist); err != nil {
		return nil, fmt.Errorf("auditschema: looking up %s and %s: %w", r.From, r.To, err)
	}
	var fixes []string
	good := false
	for _, k := range keys {
		switch {
		case k.Right && k.Valid && !good:
			good = true
		case k.Right && !good:
			good = true
			fixes = append(fixes, "VALIDATE CONSTRAINT "+pgx.Identifier{k.Name}.Sanitize())
		case !k.Right:
			fixes = append(fixes, "DROP CONSTRAINT "+pgx.Identifier{k.Name}.Sanitize())
		}
	}
	if !exist || good && len(fixes) == 0 {
		return nil, nil
	}
	if !good {
		fixes = append(fixes, fmt.Sprintf("ADD FOREIGN KEY (%s) REFERENCES %s (id) ON DELETE RESTRICT ON UPDATE RESTRICT", pgx.Identifier{r.Column}.Sanitize(), r.To))
	}
	return &Problem{
		What: fmt.Sprintf("column %s.%s, which the patient path follows, needs exactly the foreign keys to %s (id) that are validated, not deferrable and ON DELETE RESTRICT ON UPDATE RESTRICT: without one, a statement could delete or re-key the %s row, or give its id to another row, and the dependents would change patient with no audit row of theirs",
			r.From, r.Column, r.To, r.To),
		Fix: fmt.Sprintf("ALTER TABLE %s %s;", r.From, strings.Join(fixes, ", ")),
	}, nil
}

// missingFrom returns those of names that has lacks, in their order.
func missingFrom(names, has []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(has, n) {
			out = append(out, n)
		}
	}
	return out
}
