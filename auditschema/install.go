package auditschema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// Report says what Install did.
type Report struct {
	// Installed: the schema was created by this call (false: it was already installed, by this SQL).
	Installed bool
	// EventTrigger: the DDL event trigger is in place. It needs a superuser; without one it is skipped and DDL on
	// audited tables is not recorded.
	EventTrigger bool
}

// Install creates the roles and the audit schema with c's names, unless the schema already holds exactly the SQL
// that c.SQL() creates; a schema another revision of this library installed, or with other names, is refused (a
// *NotReadyError, matching ErrNotReady) and left as it is. It runs in one transaction. The connecting user must be
// a superuser, or have CREATEROLE and own the database (then the event trigger is skipped): only the owner may revoke TEMPORARY from PUBLIC. Run it before the migrations that give tables to the owner role
// and grant the application role; then install the models (InstallModels, or the generated Install).
func Install(ctx context.Context, db Querier, c Config) (*Report, error) {
	c = c.WithDefaults()
	if err := c.Check(); err != nil {
		return nil, err
	}
	rep := &Report{}
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		// One install at a time: roles and the schema are created only if missing.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('auditrepo install'))"); err != nil {
			return err
		}
		inst, err := installed(ctx, tx, c)
		if err != nil {
			return err
		}
		if inst.version > 0 {
			if err := c.refuseOther(inst); err != nil {
				return err
			}
		}
		probs, err := checkRoles(ctx, tx, c)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			return &NotReadyError{Problems: probs}
		}
		if inst.version == 0 {
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
	return inTx(ctx, db, func(tx pgx.Tx) error { return secure(ctx, tx, c.WithDefaults()) })
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

// inTx runs f in a transaction (a savepoint, where db is one) whose search_path is pg_catalog and pg_temp alone, and
// restores the caller's after it: the install runs as a superuser, and a function or operator that another role put
// in a schema of the caller's search_path (the owner role may create in public) would otherwise stand in for a
// built-in that matches its arguments less exactly, and run as the superuser.
func inTx(ctx context.Context, db Querier, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		// auditrepo.pin_local tells the schema's and the models' SQL to pin it for the transaction too, not the
		// session: the caller's is given back for the transaction, where it may be one of its own (SET LOCAL).
		var prev string
		err := tx.QueryRow(ctx, `SELECT pg_catalog.current_setting('search_path'), pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true),
			pg_catalog.set_config('auditrepo.pin_local', 'on', true)`).Scan(&prev, nil, nil)
		if err != nil {
			return err
		}
		if err := f(tx); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT pg_catalog.set_config('search_path', $1, true)", prev)
		return err
	})
}

// superuser reports whether the connecting role is a superuser: only one may install the event trigger, and others
// become the audit role for a transaction by a grant.
func superuser(ctx context.Context, tx pgx.Tx) (bool, error) {
	var super bool
	err := tx.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super)
	return super, err
}

// installation is the newest row of an audit schema's schema_version: version 0 when there is none.
type installation struct {
	version          int
	revision, digest string // "" where the revision that installed it recorded none
}

// installed reads what is installed under c's schema, once foreignSchema finds it and everything in it the audit
// schema's roles'. The catalog is read first, which needs no privilege: to_regclass would need USAGE on the
// schema, which a CREATEROLE installer outside the owner role lacks.
func installed(ctx context.Context, tx pgx.Tx, c Config) (installation, error) {
	found, err := foreignSchema(ctx, tx, c)
	if err != nil || !found {
		return installation{}, err
	}
	var inst installation
	err = asAuditMember(ctx, tx, c, func() error {
		inst, err = readVersion(ctx, tx, c.Schema)
		return err
	})
	return inst, err
}

// foreignSchema reports whether c's schema_version exists, refusing (*NotReadyError) a schema under c's name that is
// not the audit schema's roles': one another role made before the install (any role with CREATE on the database may)
// would have its code run as the installer by reading schema_version (a view calling its function), or pass for
// an installed audit schema whose trail it owns and may edit. So the schema and schema_version, a plain table,
// must be the audit role's, and every relation and type in it too; every function the audit role's or the writer
// role's (the trigger functions, hop_gone, stale): those are what the installs read and call. Other kinds of
// objects (operators, collations) are not looked at: the installs name none of the schema's, and their pinned
// search_path does not hold it. An extension's objects (a trusted extension's are the bootstrap superuser's, and
// any role with CREATE on the database may create one in any schema) are named as the extension, whose owner
// made them and whose DROP EXTENSION removes them: dropping them one by one is refused, and dropping the schema
// drops the trail.
//
// The claim functions' schema (Config.ClaimSchema) is held to the same, its functions the audit role's alone:
// every repository statement calls into it, and another role's function there would run in each, or stand in for
// claim. One that exists without the audit schema is refused too: the schema's SQL creates both, and a DROP SCHEMA
// of the audit schema alone leaves it behind.
func foreignSchema(ctx context.Context, tx pgx.Tx, c Config) (found bool, err error) {
	drop := fmt.Sprintf("as a superuser, DROP SCHEMA IF EXISTS %s, %s CASCADE (see the README's Upgrading: export first what you keep), then install again",
		pgx.Identifier{c.Schema}.Sanitize(), pgx.Identifier{c.ClaimSchema()}.Sanitize())
	audit, err := schemaObjects(ctx, tx, c.Schema, c.Audit, c.Writer)
	if err != nil {
		return false, err
	}
	claim, err := schemaObjects(ctx, tx, c.ClaimSchema(), c.Audit, c.Audit)
	if err != nil {
		return false, err
	}
	var probs []Problem
	if audit.exists {
		probs = audit.problems(c, c.Schema, c.Audit+" (and, for functions, the writer role "+c.Writer+")", drop, true)
	}
	if claim.exists {
		if !audit.exists && claim.owner == c.Audit {
			probs = append(probs, Problem{
				What: fmt.Sprintf("schema %s, the claim functions' schema, exists without the audit schema %s: it is the audit schema's SQL's to create, with it", c.ClaimSchema(), c.Schema),
				Fix:  fmt.Sprintf("as a superuser, DROP SCHEMA %s CASCADE, then install again", pgx.Identifier{c.ClaimSchema()}.Sanitize()),
			})
		}
		probs = append(probs, claim.problems(c, c.ClaimSchema(), c.Audit, drop, false)...)
	}
	if len(probs) > 0 {
		return false, &NotReadyError{Problems: probs}
	}
	return audit.versionKind != nil, nil
}

// schemaContents is what foreignSchema finds of one schema in the catalog.
type schemaContents struct {
	exists                    bool
	owner                     string
	versionKind, versionOwner *string // NULL where the schema holds no schema_version
	exts, extNames, others    []string
}

// schemaObjects reads schema's owner, its schema_version's kind and owner, the extensions with objects in it, and
// its relations and types of roles other than audit and functions of roles other than audit and funcOwner (each
// but an extension's), from the catalog alone, which runs nobody's code.
func schemaObjects(ctx context.Context, tx pgx.Tx, schema, audit, funcOwner string) (schemaContents, error) {
	var s schemaContents
	err := tx.QueryRow(ctx, `WITH member AS (
			SELECT d.classid, d.objid, d.refobjid AS ext FROM pg_catalog.pg_depend d
			WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e')
		SELECT pg_catalog.pg_get_userbyid(n.nspowner)::text, v.relkind::text, pg_catalog.pg_get_userbyid(v.relowner)::text,
			x.what, x.name,
			ARRAY(SELECT o.what FROM (
				SELECT pg_catalog.format('relation %s (of %s)', k.oid::pg_catalog.regclass, pg_catalog.pg_get_userbyid(k.relowner))
				FROM pg_catalog.pg_class k WHERE k.relnamespace = n.oid AND pg_catalog.pg_get_userbyid(k.relowner) <> $2
					AND (k.oid, 'pg_catalog.pg_class'::pg_catalog.regclass) NOT IN (SELECT m.objid, m.classid FROM member m)
				UNION ALL
				SELECT pg_catalog.format('function %s (of %s)', p.oid::pg_catalog.regprocedure, pg_catalog.pg_get_userbyid(p.proowner))
				FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid AND pg_catalog.pg_get_userbyid(p.proowner) <> ALL (ARRAY[$2, $3])
					AND (p.oid, 'pg_catalog.pg_proc'::pg_catalog.regclass) NOT IN (SELECT m.objid, m.classid FROM member m)
				UNION ALL
				SELECT pg_catalog.format('type %s (of %s)', t.oid::pg_catalog.regtype, pg_catalog.pg_get_userbyid(t.typowner))
				FROM pg_catalog.pg_type t WHERE t.typnamespace = n.oid AND pg_catalog.pg_get_userbyid(t.typowner) <> $2
					AND (t.oid, 'pg_catalog.pg_type'::pg_catalog.regclass) NOT IN (SELECT m.objid, m.classid FROM member m)
					-- A relation's row type, and an array type, are their relation's and element's owner's.
					AND t.typrelid = 0 AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)) o(what)
			ORDER BY 1)
		FROM pg_catalog.pg_namespace n
		LEFT JOIN pg_catalog.pg_class v ON v.relnamespace = n.oid AND v.relname = 'schema_version'
		-- The extensions in the schema, or with a relation, function or type there.
		CROSS JOIN LATERAL (SELECT pg_catalog.array_agg(pg_catalog.format('extension %s (of %s)', e.extname, pg_catalog.pg_get_userbyid(e.extowner)) ORDER BY e.extname),
				pg_catalog.array_agg(pg_catalog.quote_ident(e.extname) ORDER BY e.extname)
			FROM pg_catalog.pg_extension e
			WHERE e.extnamespace = n.oid OR e.oid IN (SELECT m.ext FROM member m
				WHERE m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND m.objid IN (SELECT k.oid FROM pg_catalog.pg_class k WHERE k.relnamespace = n.oid)
				   OR m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND m.objid IN (SELECT p.oid FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid)
				   OR m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND m.objid IN (SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typnamespace = n.oid))) x(what, name)
		WHERE n.nspname = $1`, schema, audit, funcOwner).Scan(&s.owner, &s.versionKind, &s.versionOwner, &s.exts, &s.extNames, &s.others)
	if errors.Is(err, pgx.ErrNoRows) {
		return schemaContents{}, nil
	}
	if err != nil {
		return schemaContents{}, fmt.Errorf("auditschema: looking for %s.schema_version: %w", schema, err)
	}
	s.exists = true
	return s, nil
}

// problems are what foreignSchema refuses of s, a schema of the audit role c.Audit, in which may names the roles
// whose objects may be there; drop is the fix of a schema that is none of the audit schema's. version: the installs read s's
// schema_version, which must be a table of the audit role's.
func (s schemaContents) problems(c Config, schema, may, drop string, version bool) []Problem {
	if s.owner != c.Audit {
		return []Problem{{
			What: fmt.Sprintf("schema %s is owned by %s, not by the audit role %s: it is no audit schema this library installed; "+
				"reading it could run that role's code as the installer, and a trail in it would be that role's to edit", schema, s.owner, c.Audit),
			Fix: drop + ", or install under another Config.Schema",
		}}
	}
	if version && s.versionKind != nil && (*s.versionKind != "r" || *s.versionOwner != c.Audit) {
		return []Problem{{
			What: fmt.Sprintf("%s.schema_version is not a table of the audit role %s (relkind %s, owned by %s): reading it could run another role's code as the installer",
				schema, c.Audit, *s.versionKind, *s.versionOwner),
			Fix: drop,
		}}
	}
	var probs []Problem
	if len(s.exts) > 0 {
		probs = append(probs, Problem{
			What: fmt.Sprintf("audit schema %s holds objects of %s, none of them this library's: they are no audit role's, and stand by names the audit schema's code may call",
				schema, strings.Join(s.exts, ", ")),
			Fix: fmt.Sprintf("as a superuser, DROP EXTENSION %s (its objects go with it; create it again in another schema if it is used)", strings.Join(s.extNames, ", ")),
		})
	}
	if len(s.others) > 0 {
		probs = append(probs, Problem{
			What: fmt.Sprintf("audit schema %s holds objects of roles other than the audit role %s: %s", schema, may, strings.Join(s.others, ", ")),
			Fix:  "drop them, if none is this library's; else " + drop,
		})
	}
	return probs
}

// readVersion reads the newest row of schema's schema_version (version 0 when there is none), its digests through
// to_jsonb, as revisions from before they were recorded lack their columns. Every name is qualified: the caller's
// search_path may not be pinned.
func readVersion(ctx context.Context, db DB, schema string) (installation, error) {
	var inst installation
	err := db.QueryRow(ctx, `SELECT v.version, COALESCE(pg_catalog.to_jsonb(v) OPERATOR(pg_catalog.->>) 'revision', ''),
			COALESCE(pg_catalog.to_jsonb(v) OPERATOR(pg_catalog.->>) 'digest', '')
		FROM `+pgx.Identifier{schema, "schema_version"}.Sanitize()+` v ORDER BY v.version DESC LIMIT 1`).Scan(&inst.version, &inst.revision, &inst.digest)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return installation{}, fmt.Errorf("auditschema: reading %s.schema_version: %w", schema, err)
	}
	return inst, nil
}

// Revision returns the revision of the audit schema this library installs, as schema_version.revision records
// it: the SHA-256, in hex, of its SQL rendered with the default names, so the same whatever the names.
func Revision() (string, error) { return revision() }

// InstalledRevision reads the newest row of schema_version of the audit schema installed with c's names (their
// defaults where empty): its version and revision ("" where the revision that installed it recorded none). The
// reviewer, sealer and owner roles may read it, so that a tool run as them can refuse a schema of another Revision,
// whose trail it might misread, before it does anything. It reads nothing before the catalog shows the schema the
// audit schema's roles', as Install checks it: another role's schema of that name (a view schema_version calling
// its function) would run that role's code as the caller; such a schema fails with a *NotReadyError (matching
// ErrNotReady). It does not tell other names apart (schema_version.digest does). A schema that is not installed
// fails with PostgreSQL's undefined_table (42P01).
func InstalledRevision(ctx context.Context, db Querier, c Config) (version int, rev string, err error) {
	c = c.WithDefaults()
	if err := c.Check(); err != nil {
		return 0, "", err
	}
	var inst installation
	err = inTx(ctx, db, func(tx pgx.Tx) error {
		found, err := foreignSchema(ctx, tx, c)
		switch {
		case err != nil:
			return err
		case !found:
			return &pgconn.PgError{Code: "42P01", Message: fmt.Sprintf("relation %s does not exist", pgx.Identifier{c.Schema, "schema_version"}.Sanitize())}
		}
		inst, err = readVersion(ctx, tx, c.Schema)
		return err
	})
	return inst.version, inst.revision, err
}

// refuseOther returns a *NotReadyError unless the installed schema inst is the one c.SQL() creates. Until a
// version is released its SQL changes with no upgrade between revisions: this library's functions, grants and
// triggers used with another revision's schema would install and then fail at run time.
func (c Config) refuseOther(inst installation) error {
	if inst.version > Version {
		return &NotReadyError{Problems: []Problem{{
			What: fmt.Sprintf("%s holds schema version %d, newer than this library's %d", c.Schema, inst.version, Version),
			Fix:  "use the version of github.com/auditrepo/auditrepo that installed it, or a later one",
		}}}
	}
	rev, err := revision()
	if err != nil {
		return err
	}
	if inst.revision != rev {
		return &NotReadyError{Problems: []Problem{otherRevision(c)}}
	}
	d, err := c.digest()
	if err != nil {
		return err
	}
	if inst.digest != d {
		return &NotReadyError{Problems: []Problem{{
			What: fmt.Sprintf("audit schema %s was installed with other names than this Config's (Table, or the Audit, Writer, Owner, App, Reviewer or Sealer role)", c.Schema),
			Fix:  "use the names it was installed with: the Config, or the flags of `auditrepo schema`, that installed it",
		}}}
	}
	return nil
}

// otherRevision is the problem of c's schema when another revision of version Version installed it. Earlier
// revisions had no claim functions' schema: IF EXISTS.
func otherRevision(c Config) Problem {
	schema := c.Schema
	return Problem{
		What: fmt.Sprintf("audit schema %s was installed by another revision of schema version %d of github.com/auditrepo/auditrepo: "+
			"that version is not released yet, its SQL has changed since, and there is no upgrade path between unreleased revisions "+
			"(this library's repositories and triggers would fail against it at run time)", schema, Version),
		Fix: fmt.Sprintf("install into a fresh database; or, as a superuser in one transaction (so that no write goes unaudited in between), "+
			"DROP SCHEMA IF EXISTS %s, %s CASCADE (the trail, its seals and the audited tables' triggers go with it: export what you keep first), "+
			"then Install and InstallModels again (or the SQL of `auditrepo schema` and the models' SQL). Upgrade imports only the "+
			"version 0 table %s, not another revision's schema", pgx.Identifier{schema}.Sanitize(), pgx.Identifier{c.ClaimSchema()}.Sanitize(), LegacyTable),
	}
}

// asAuditMember runs f with the connecting user able to act as the audit role: a superuser already can; a
// CREATEROLE user is made a member for f and the membership revoked after it (on an error the transaction
// rolls the grant back), so nobody stays a member of the audit role. One that has the audit role's privileges
// already is granted and revoked nothing: that membership is one left over, for checkRoles to report rather than
// the REVOKE here to clear unseen.
func asAuditMember(ctx context.Context, tx pgx.Tx, c Config, f func() error) error {
	var grant bool
	err := tx.QueryRow(ctx, "SELECT NOT rolsuper AND NOT pg_has_role(current_user, $1, 'USAGE') FROM pg_roles WHERE rolname = current_user", c.Audit).Scan(&grant)
	if err != nil {
		return fmt.Errorf("auditschema: acting as %s: %w", c.Audit, err)
	}
	role := pgx.Identifier{c.Audit}.Sanitize()
	if grant {
		if _, err := tx.Exec(ctx, "GRANT "+role+" TO CURRENT_USER"); err != nil {
			return fmt.Errorf("auditschema: acting as %s: %w", c.Audit, err)
		}
	}
	if err := f(); err != nil {
		return err
	}
	if grant {
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
	// SQL creates the trigger functions (owned by the writer role) and the triggers; it may be run again.
	SQL string
}

// Table is an audited table, schema-qualified as SQL names it, with the columns its model declares. The audit
// rows' images and changed fields name these columns: a column the model does not declare would be in no audit
// row, so the table must have exactly these.
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	// Refs are the steps of the table's patient path through other tables, in order (none when its rows name
	// their patient themselves).
	Refs []Ref `json:"refs,omitempty"`
	// ByText are the columns the audit triggers compare by their text too; they compare the others by their
	// type's equality alone, which must then hold no two values that differ (as a nondeterministic collation's
	// does).
	ByText []string `json:"by_text,omitempty"`
	// Types are the SQL types of the columns whose declarations the generator read, by column, named as to_regtype
	// reads them (an array's ends in []): schema-qualified when the declaration is ("pg_catalog.int8" for bigint,
	// as the parser spells the SQL standard's names), else the name alone ("text", "citext"), which installing
	// resolves as PostgreSQL did, in pg_catalog first, else in public. The audit triggers compare and print each
	// column by its type, so the database's must be that one.
	Types map[string]string `json:"types,omitempty"`
	// Exact are the columns the audit triggers compare by their type's equality alone because the schema declares
	// them of a type whose equality is exact (text, varchar or char with no COLLATE clause, or an enum): installing
	// refuses one whose database type, seen through domains and arrays, is none of those (nor name or "char").
	// Installing refuses too a column outside ByText whose type is another string type (citext).
	Exact []string `json:"exact,omitempty"`
	// ByLength are the columns the audit triggers compare by their octet_length too (char, bpchar): installing
	// refuses a column outside them whose database type, seen through domains, is bpchar with no length, whose
	// equality and text drop trailing spaces that its values keep.
	ByLength []string `json:"by_length,omitempty"`
	// FloatDigits: the table's audit trigger pins extra_float_digits (some column's type may print floats). When
	// not, installing refuses a column whose database type may print floats: float4, float8, a geometric type, an
	// extension's base type, or a domain, array, composite, range or multirange holding one.
	FloatDigits bool `json:"float_digits,omitempty"`
}

// Ref is one step of a patient path: column Column of table From holds ids of table To (both schema-qualified
// as SQL names them). The audit triggers read the patient there when a row of From changes, so Column needs a
// validated foreign key to To's id that is ON DELETE RESTRICT ON UPDATE RESTRICT and not deferrable, and no
// other: a row of To that rows of From refer to can then be neither deleted nor re-keyed while they do.
type Ref struct {
	From   string `json:"from"`
	Column string `json:"column"`
	To     string `json:"to"`
}

// InstallModels installs m's trigger functions and triggers in one transaction, after checking that the audit
// schema is the one Install installs with c (not another revision's, nor other names'), and that every table
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
	return inTx(ctx, db, func(tx pgx.Tx) error {
		inst, err := installed(ctx, tx, c)
		if err != nil {
			return err
		}
		if inst.version == 0 {
			return &NotReadyError{Problems: []Problem{{
				What: fmt.Sprintf("audit schema %s is not installed", c.Schema),
				Fix:  "auditschema.Install, or the SQL of `auditrepo schema`",
			}}}
		}
		if err := c.refuseOther(inst); err != nil {
			return err
		}
		if err := check(ctx, tx, c, m.Tables); err != nil {
			return err
		}
		if err := secure(ctx, tx, c); err != nil {
			return err
		}
		// The tables passed check, against the Config's roles: m.SQL's own check (ModelChecksSQL), which reads the
		// roles from the schema's grants, need not run again.
		if _, err := tx.Exec(ctx, "SELECT pg_catalog.set_config('auditrepo.models_checked', 'on', true)"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("auditschema: installing the models' triggers: %w", err)
		}
		return nil
	})
}

// check finds what the roles have that they may not (checkRoles), and every table that is missing, has other
// columns than its model, has no unique id, takes part in inheritance, is not owned by the owner role, lacks the
// application role's grants, or lacks the foreign keys its patient path follows: the schema's function
// model_problems, which the generated SQL runs too (ModelChecksSQL).
func check(ctx context.Context, tx pgx.Tx, c Config, tables []Table) error {
	probs, err := checkRoles(ctx, tx, c)
	if err != nil {
		return err
	}
	models, err := json.Marshal(tables)
	if err != nil {
		return err
	}
	err = asAuditMember(ctx, tx, c, func() error {
		rows, err := tx.Query(ctx, "SELECT what, fix FROM "+pgx.Identifier{c.Schema, "model_problems"}.Sanitize()+"($1, $2, $3)", models, c.Owner, c.App)
		if err != nil {
			return err
		}
		more, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Problem])
		probs = append(probs, more...)
		return err
	})
	if err != nil {
		return fmt.Errorf("auditschema: checking the models' tables: %w", err)
	}
	if len(probs) > 0 {
		return &NotReadyError{Problems: probs}
	}
	return nil
}

// RefsJSON is refs as audited_tables.refs keeps a model's patient path steps, and check_models reads a table's:
// "[]" for none. The generated models' SQL writes it there.
func RefsJSON(refs []Ref) (string, error) {
	if refs == nil {
		refs = []Ref{}
	}
	return jsonText(refs)
}

// jsonText is v as JSON, with no trailing newline and no HTML escaping: the SQL it is written into reads '<', '>'
// and '&' as themselves.
func jsonText(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// ModelChecksSQL returns the PL/pgSQL statement (a PERFORM, for a DO block's body) that refuses installing the
// triggers of tables, naming each problem and its fix, unless the audit schema installed under schema is this
// library's revision (whatever its names: the generator knows only some) and the tables pass the checks
// InstallModels makes of them (not those of the roles): the generated Models.SQL runs it before it installs
// anything, for installs that run that alone. It calls the audit schema's check_models, which reads the owner and
// application roles from the grants of the schema. The generated SQL runs it in the DO block that makes a
// CREATEROLE installer a member of the audit role, which check_models needs: run statement by statement, a
// refusal then takes that grant back with it. A table or column name holding the body quote $ar$ is refused.
func ModelChecksSQL(schema string, tables []Table) (string, error) {
	c := Config{Schema: schema}
	if err := c.Check(); err != nil {
		return "", err
	}
	// One table a line: the generated SQL is read in review.
	lines := make([]string, len(tables))
	for i, t := range tables {
		var err error
		if lines[i], err = jsonText(t); err != nil {
			return "", err
		}
		if strings.Contains(lines[i], sqltext.BodyQuote) {
			return "", fmt.Errorf("auditschema: table %s: a name holds %s, the quote of the DO block the checks are written into", t.Name, sqltext.BodyQuote)
		}
	}
	rev, err := revision()
	if err != nil {
		return "", err
	}
	return render("model_checks", struct {
		view
		Models, Revision string
	}{c.view(), "[\n\t" + strings.Join(lines, ",\n\t") + "\n]", rev})
}
