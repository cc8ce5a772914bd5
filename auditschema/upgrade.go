package auditschema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// LegacyTable is the table Upgrade imports unless told another: an audit trail kept before auditrepo's audit
// schema was installed ("schema version 0"): public.audit_log, with the audit table's columns id, occurred_at,
// transaction_id (a bigint there, the writing transaction's id), actor_id, actor_kind, ip, user_agent,
// request_id, action, target_table, target_id, patient_id, prior_patient_id and changes. LegacyTable,
// LegacySuffix and Upgrade are for a database that has such a trail; one that never had it needs none of them.
const LegacyTable = "public.audit_log"

// LegacySuffix is appended to the imported table's name when Upgrade has imported it (public.audit_log is kept
// as public.audit_log_v0): the table is kept, read-only, never dropped.
const LegacySuffix = "_v0"

// UpgradeReport says what Upgrade did.
type UpgradeReport struct {
	// Source is the version 0 table (LegacyTable unless named), RenamedTo where it is now kept.
	Source, RenamedTo string
	// Already: an earlier Upgrade imported Source (the row of the audit schema's upgrades table); this call
	// changed nothing, and Rows, MinID and MaxID are what that upgrade recorded.
	Already bool
	// Rows is how many audit rows moved into the audit table; MinID and MaxID their ids (nil when none).
	Rows         int64
	MinID, MaxID *int64
	// Partitions are the monthly partitions created for the imported rows' months.
	Partitions []string
	// InDefault is how many imported rows landed in the default partition, because rows already there kept
	// their month from getting a partition; retention reports them (action "default") and never drops them.
	InDefault int64
}

// ErrUpgradeMismatch is matched (errors.Is) by the error Upgrade returns when, after the copy, the audit table
// does not hold every row of the version 0 table with every column equal. Nothing was changed.
var ErrUpgradeMismatch = errors.New("auditschema: the imported audit rows do not match the version 0 table")

// UpgradeMismatchError is the error of a copy that did not match: the transaction was rolled back.
type UpgradeMismatchError struct {
	Source string
	// LegacyRows is the version 0 table's row count, Copied how many rows the copy inserted, Missing how many
	// of the version 0 rows are not in the audit table with every column equal.
	LegacyRows, Copied, Missing int64
}

func (e *UpgradeMismatchError) Error() string {
	return fmt.Sprintf("auditschema: upgrading %s: it holds %d rows, %d were copied, %d are not in the audit table as they were; nothing was changed",
		e.Source, e.LegacyRows, e.Copied, e.Missing)
}

func (e *UpgradeMismatchError) Is(target error) bool { return target == ErrUpgradeMismatch }

// ErrUpgradeRefused is matched (errors.Is) by the error Upgrade returns when it will not import: the audit
// schema is not installed, or not as Install installs it with the Config (then ErrNotReady matches too), the
// version 0 table is missing or reappeared after an import, its ids collide with rows already in the audit
// table, the trail has been sealed, or the legacy table is not of the version 0 shape. Nothing was changed; the
// error says why.
var ErrUpgradeRefused = errors.New("auditschema: upgrade from schema version 0 refused")

type upgradeView struct {
	view
	Legacy string // the version 0 table as SQL names it
	Source string // its name as text, schema.table
}

// Upgrade imports an audit trail kept before the audit schema was installed, in a table of the shape LegacyTable
// describes (legacy, schema.table; "" means LegacyTable, "public.audit_log"), into the audit table of c, in one
// transaction, once:
//
//   - every row is copied keeping id, occurred_at, transaction_id (bigint to xid8), the actor columns, ip,
//     user_agent, request_id, action, target table and id, the patients and changes exactly; db_role is the role
//     an unattributed row's user_agent names ('db role NAME[, application APP]'), else 'imported';
//     application is 'imported from <legacy>'; client_addr and method are NULL;
//   - the monthly partitions of the imported months are created first, named by the audit schema's
//     partition_name() as maintain() names them, so retention sees and ages the imported rows like any other;
//   - the audit table's identity is advanced past the largest id, so new rows get larger ids;
//   - the copy is checked: unless every legacy row is in the audit table with every column equal, nothing is
//     changed and the error matches ErrUpgradeMismatch;
//   - the legacy table is renamed <name>_v0 (LegacySuffix) and kept: its privileges are revoked from PUBLIC and
//     the application role, an INSERT trigger refuses new rows. The reviewer role is granted nothing on it: the
//     owner role owns it, and a policy it added would run as whoever reads it; the audit table holds its rows;
//   - the import is recorded in <schema>.upgrades; a second call finds it and changes nothing (Already).
//
// Install must have run first (a migration runs Install, then Upgrade if the old table exists). The
// connecting user must be a superuser, or a member of the owner role (which owns the legacy table) with
// CREATEROLE and CREATE on the legacy table's schema (it becomes a member of the audit role for the call only, as
// in Install). Upgrade refuses (ErrUpgradeRefused) a trail that already has seal checkpoints: rows under a signed
// watermark would make the seal fail to verify. It refuses, before reading it, a legacy table that reading would
// run another role's code in: one that is no plain table, has rules, row level security or inheritance, a column
// Upgrade reads of another type than LegacyTable's, or an index, statistics or constraint using a function,
// operator or type of a role that is no superuser. Call it in the transaction that installs the schema: later,
// the owner role may have made the table, and its rows would enter the trail.
func Upgrade(ctx context.Context, db Querier, c Config, legacy string) (*UpgradeReport, error) {
	c = c.WithDefaults()
	if err := c.Check(); err != nil {
		return nil, err
	}
	if legacy == "" {
		legacy = LegacyTable
	}
	schema, name, ok := strings.Cut(legacy, ".")
	if !ok {
		schema, name = "public", legacy
	}
	if schema == "" || name == "" || strings.Contains(name, ".") {
		return nil, fmt.Errorf("%w: %q is not a table name (schema.table)", ErrUpgradeRefused, legacy)
	}
	v := upgradeView{view: c.view(), Legacy: pgx.Identifier{schema, name}.Sanitize(), Source: schema + "." + name}
	renamed := name + LegacySuffix
	rep := &UpgradeReport{Source: v.Source, RenamedTo: schema + "." + renamed}
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrUpgradeRefused, fmt.Sprintf(format, args...))
	}
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		// Not while Install (or another Upgrade) runs.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('auditrepo install'))"); err != nil {
			return err
		}
		inst, err := installed(ctx, tx, c)
		if errors.Is(err, ErrNotReady) {
			return fmt.Errorf("%w: %w", ErrUpgradeRefused, err)
		}
		if err != nil {
			return err
		}
		if inst.version == 0 {
			return refuse("audit schema %s is not installed: run Install first", c.Schema)
		}
		if err := c.refuseOther(inst); err != nil {
			return fmt.Errorf("%w: %w", ErrUpgradeRefused, err)
		}
		// As Install does: a CREATEROLE user acts as the audit role for this call only.
		return asAuditMember(ctx, tx, c, func() error {
			asAudit := "SET LOCAL ROLE " + pgx.Identifier{c.Audit}.Sanitize()
			sql, err := render("upgrades", v)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, asAudit+";\n"+sql+";\nRESET ROLE"); err != nil {
				return fmt.Errorf("auditschema: upgrade: creating %s.upgrades: %w", c.Schema, err)
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf("REVOKE ALL ON %s.upgrades FROM PUBLIC; REVOKE USAGE ON TYPE %[1]s.upgrades FROM PUBLIC; GRANT SELECT ON %[1]s.upgrades TO %s, %s",
				v.S, pgx.Identifier{c.Owner}.Sanitize(), pgx.Identifier{c.Reviewer}.Sanitize())); err != nil {
				return err
			}

			var exists bool
			if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", v.Legacy).Scan(&exists); err != nil {
				return err
			}
			var done bool
			err = tx.QueryRow(ctx, "SELECT true, renamed_to, row_count, min_id, max_id FROM "+v.S+".upgrades WHERE source = $1", v.Source).
				Scan(&done, &rep.RenamedTo, &rep.Rows, &rep.MinID, &rep.MaxID)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			switch {
			case done && !exists:
				rep.Already = true
				return nil
			case done:
				return refuse("%s was imported before (kept as %s) but exists again; import or drop it by hand", v.Source, rep.RenamedTo)
			case !exists:
				return refuse("%s does not exist: there is no version 0 trail to import", v.Source)
			}
			var taken bool
			if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgx.Identifier{schema, renamed}.Sanitize()).Scan(&taken); err != nil {
				return err
			}
			if taken {
				return refuse("%s exists already: the version 0 table cannot be kept under that name", rep.RenamedTo)
			}

			// No writes to the legacy table from here on: what is counted is what is copied, then renamed.
			if _, err := tx.Exec(ctx, "LOCK TABLE "+v.Legacy+" IN ACCESS EXCLUSIVE MODE"); err != nil {
				return err
			}
			if problem, err := legacyProblem(ctx, tx, v); err != nil {
				return err
			} else if problem != "" {
				return refuse("%s %s: Upgrade reads only a plain table of the version 0 shape, lest reading it run another role's code as the installer", v.Source, problem)
			}
			var sealed int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+v.S+".seal_checkpoint").Scan(&sealed); err != nil {
				return err
			}
			if sealed > 0 {
				return refuse("the trail in %s has %d seal checkpoints; imported rows would lie under their watermarks", c.QualifiedTable(), sealed)
			}
			var legacyRows int64
			if err := tx.QueryRow(ctx, "SELECT count(*), min(id), max(id) FROM "+v.Legacy).Scan(&legacyRows, &rep.MinID, &rep.MaxID); err != nil {
				return fmt.Errorf("auditschema: upgrade: reading %s: %w", v.Source, err)
			}
			var clash int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+v.S+"."+v.T+" n WHERE n.id IN (SELECT id FROM "+v.Legacy+")").Scan(&clash); err != nil {
				return err
			}
			if clash > 0 {
				return refuse("%d rows of %s have the id of a row already in %s", clash, v.Source, c.QualifiedTable())
			}

			made, err := importPartitions(ctx, tx, v, asAudit)
			if err != nil {
				return err
			}
			rep.Partitions = made

			sql, err = render("import_v0", v)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, sql)
			if err != nil {
				return fmt.Errorf("auditschema: upgrade: copying %s: %w", v.Source, err)
			}
			rep.Rows = tag.RowsAffected()
			sql, err = render("missing_v0", v)
			if err != nil {
				return err
			}
			var missing int64
			if err := tx.QueryRow(ctx, sql).Scan(&missing); err != nil {
				return err
			}
			if missing != 0 || rep.Rows != legacyRows {
				return &UpgradeMismatchError{Source: v.Source, LegacyRows: legacyRows, Copied: rep.Rows, Missing: missing}
			}
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+v.S+"."+pgx.Identifier{c.Table + "_default"}.Sanitize()+
				" WHERE application = $1", "imported from "+v.Source).Scan(&rep.InDefault); err != nil {
				return err
			}

			// New rows get larger ids than every imported one (and than any the identity already handed out).
			if err := advanceIdentity(ctx, tx, c); err != nil {
				return fmt.Errorf("auditschema: upgrade: advancing the identity: %w", err)
			}

			// The version 0 table is kept, read-only for everyone but its owner (and the INSERT trigger refuses even
			// the owner): the app role loses its INSERT. Reviewers read its rows in the audit table, not in a table
			// whose owner could make reading it run code of its own.
			for _, q := range []string{
				fmt.Sprintf("ALTER TABLE %s RENAME TO %s", v.Legacy, pgx.Identifier{renamed}.Sanitize()),
				fmt.Sprintf("REVOKE ALL ON %s FROM PUBLIC, %s", pgx.Identifier{schema, renamed}.Sanitize(), pgx.Identifier{c.App}.Sanitize()),
				fmt.Sprintf("CREATE TRIGGER refuse_insert BEFORE INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s.refuse()",
					pgx.Identifier{schema, renamed}.Sanitize(), v.S),
				fmt.Sprintf("COMMENT ON TABLE %s IS %s", pgx.Identifier{schema, renamed}.Sanitize(),
					sqltext.Literal(fmt.Sprintf("audit trail of schema version 0, imported into %s by auditschema.Upgrade; kept read-only", c.QualifiedTable()))),
			} {
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("auditschema: upgrade: retiring %s: %w", v.Source, err)
				}
			}
			if _, err := tx.Exec(ctx, asAudit); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+v.S+".upgrades (from_version, to_version, source, renamed_to, row_count, min_id, max_id) VALUES (0, $1, $2, $3, $4, $5, $6)",
				Version, v.Source, rep.RenamedTo, rep.Rows, rep.MinID, rep.MaxID); err != nil {
				return fmt.Errorf("auditschema: upgrade: recording it: %w", err)
			}
			_, err = tx.Exec(ctx, "RESET ROLE")
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// importPartitions creates, as the audit role and named by the audit schema's partition_name() (as maintain()
// names them), the monthly partition of each month of the legacy rows that has none, unless rows already in the
// default partition fall in that month (the partition could not be created; the imported rows join them there).
// Install has run, so the function exists; the name is not computed here a second time.
func importPartitions(ctx context.Context, tx pgx.Tx, v upgradeView, asAudit string) ([]string, error) {
	// UTC's months, as maintain() makes them, whatever the session's TimeZone: bounds of another zone's months would
	// overlap maintain()'s partitions or leave gaps between them.
	rows, err := tx.Query(ctx, "SELECT m, "+v.S+".partition_name(m) FROM (SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS m FROM "+
		v.Legacy+") AS months ORDER BY m")
	if err != nil {
		return nil, err
	}
	type month struct {
		Start time.Time
		Name  string
	}
	months, err := pgx.CollectRows(rows, pgx.RowToStructByPos[month])
	if err != nil {
		return nil, err
	}
	var made []string
	for _, m := range months {
		name := m.Name
		const utcMidnight = "2006-01-02 00:00:00+00"
		from, to := m.Start.Format(utcMidnight), m.Start.AddDate(0, 1, 0).Format(utcMidnight)
		var exists, blocked bool
		err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT to_regclass($1) IS NOT NULL,
				EXISTS (SELECT FROM %s.%s WHERE occurred_at >= $2::timestamptz AND occurred_at < $3::timestamptz)`,
			v.S, pgx.Identifier{v.Table + "_default"}.Sanitize()),
			pgx.Identifier{v.Schema, name}.Sanitize(), from, to).Scan(&exists, &blocked)
		if err != nil {
			return nil, err
		}
		if exists || blocked {
			continue
		}
		// As maintain() does, its row type is no other role's to build on.
		if _, err := tx.Exec(ctx, fmt.Sprintf("%s; CREATE TABLE %s PARTITION OF %s.%s FOR VALUES FROM (%s) TO (%s); REVOKE USAGE ON TYPE %[2]s FROM PUBLIC; RESET ROLE",
			asAudit, pgx.Identifier{v.Schema, name}.Sanitize(), v.S, v.T, sqltext.Literal(from), sqltext.Literal(to))); err != nil {
			return nil, fmt.Errorf("auditschema: upgrade: creating partition %s: %w", name, err)
		}
		made = append(made, name)
	}
	return made, nil
}

// advanceIdentity sets the audit table's identity so that the next row gets an id larger than every row's and
// than any id it already handed out.
func advanceIdentity(ctx context.Context, tx pgx.Tx, c Config) error {
	var seq string
	var max *int64
	err := tx.QueryRow(ctx, "SELECT pg_get_serial_sequence($1, 'id'), (SELECT max(id) FROM "+c.QualifiedTable()+")", c.QualifiedTable()).Scan(&seq, &max)
	if err != nil || max == nil {
		return err
	}
	_, err = tx.Exec(ctx, "SELECT setval($1::regclass, greatest($2, (SELECT CASE WHEN is_called THEN last_value END FROM "+seq+")))", seq, *max)
	return err
}

// legacyColumns are the version 0 table's columns Upgrade reads, with their types.
var legacyColumns = [][2]string{
	{"id", "bigint"}, {"occurred_at", "timestamp with time zone"}, {"transaction_id", "bigint"}, {"actor_id", "bigint"},
	{"actor_kind", "text"}, {"ip", "inet"}, {"user_agent", "text"}, {"request_id", "text"}, {"action", "text"},
	{"target_table", "text"}, {"target_id", "bigint"}, {"patient_id", "bigint"}, {"prior_patient_id", "bigint"},
	{"changes", "jsonb"},
}

// legacyProblem says what about the version 0 table would make reading it run another role's code, or import
// rows of a role other than the owner's, ("" when nothing): it is read as the installer, a superuser, and the
// owner role owns it and may have made it (anyone who may create in its schema may have). A view, a rule, a row
// security policy, an inheriting table, a column of a type of its own or an index or constraint using a function
// of its own would each run that code.
func legacyProblem(ctx context.Context, tx pgx.Tx, v upgradeView) (string, error) {
	names := make([]string, len(legacyColumns))
	types := make([]string, len(legacyColumns))
	for i, c := range legacyColumns {
		names[i], types[i] = c[0], c[1]
	}
	var problem string
	err := tx.QueryRow(ctx, `SELECT coalesce(CASE
			WHEN c.relkind <> 'r' THEN pg_catalog.format('is no plain table (relkind %s)', c.relkind)
			-- relhassubclass stays set after the last child is gone, until a VACUUM.
			WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE c.oid IN (i.inhrelid, i.inhparent)) THEN 'inherits or is inherited'
			WHEN c.relhasrules THEN 'has rules'
			WHEN c.relrowsecurity THEN 'has row level security'
			-- The owner role's, as the version 0 migrations left it (or a superuser's): another role, the
			-- application where it may create in the schema, could have made it and its rows.
			WHEN NOT (c.relowner = (SELECT o.oid FROM pg_catalog.pg_roles o WHERE o.rolname = $4)
			          OR (SELECT o.rolsuper FROM pg_catalog.pg_roles o WHERE o.oid = c.relowner))
				THEN pg_catalog.format('is owned by %s, neither %s nor a superuser', pg_catalog.pg_get_userbyid(c.relowner), $4)
		END, (SELECT CASE WHEN a.atttypid IS NULL THEN pg_catalog.format('lacks column %s', w.name)
				ELSE pg_catalog.format('has column %s of type %s, not %s', w.name, pg_catalog.format_type(a.atttypid, a.atttypmod), w.type) END
			FROM ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[])) WITH ORDINALITY w(name, type, i)
			LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = w.name AND a.attnum > 0 AND NOT a.attisdropped
			WHERE a.atttypid IS DISTINCT FROM pg_catalog.to_regtype(w.type)
			ORDER BY w.i LIMIT 1),
		'has an index, statistics or constraint using ' || `+v.S+`.foreign_code(c.oid), '')
		FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)`, v.Legacy, names, types, v.Owner).Scan(&problem)
	return problem, err
}
