// Package migrations holds the clinic's schema as goose migrations. sqlc reads the same files as its schema, so
// the generated code and the database cannot drift apart. Up installs the audit schema first (the library's
// auditschema), then runs these migrations, then installs the audit triggers gen/repo generates for the models.
//
// A database the clinic's migrations created before the audit schema was a library (schema version 0: the trail
// in public.audit_log, written by the repositories and the backstop triggers) is upgraded by Up too: its trail is
// imported into the audit table (auditschema.Upgrade) and the old backstop triggers are dropped once the new
// ones are in place.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
)

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS

// Audit is the clinic's audit schema: the library's default names.
var Audit = auditschema.Config{}.WithDefaults()

// Result says what Up did.
type Result struct {
	Applied int                 // clinic migrations applied
	Schema  *auditschema.Report // what installing the audit schema did
	// Upgrade is what importing the schema version 0 trail (public.audit_log) did; nil when there was none.
	Upgrade *auditschema.UpgradeReport
	// Retired lists the version 0 backstop triggers dropped (as "table.trigger") once the models' audit
	// triggers were installed.
	Retired []string
	// NotImported names the version 0 table (auditschema.LegacyTable) when it exists but the audit schema was
	// installed before this run: Up does not import it (see Up).
	NotImported string
}

// Up installs the audit schema and roles (auditschema.Install), applies every pending migration, then (re)installs
// the models' audit triggers (repo.Install). The connecting user must be a superuser for the DDL event trigger;
// with CREATEROLE, as the database's owner, everything else installs.
//
// On a database at schema version 0 (public.audit_log exists and the audit schema does not), Up imports that
// trail in the transaction that installs the schema (auditschema.Upgrade: every row kept, the old table renamed
// public.audit_log_v0 and kept read-only), and, once repo.Install has put the models' audit triggers in place,
// drops the old backstop triggers (auditrepo_backstop_* and their functions), which wrote to public.audit_log and
// would now fail every raw write. Between the two, raw writes to PHI tables fail rather than go unrecorded. Stop the old application
// first: its repositories write public.audit_log, and fail once it is renamed.
func Up(ctx context.Context, db *sql.DB) (*Result, error) {
	res := &Result{}
	err := withConn(ctx, db, func(c *pgx.Conn) error {
		// Install and the import in one transaction: a version 0 trail is imported by the run that installs the
		// audit schema, or never. Later, public.audit_log is a name the owner role may create (it may create in
		// public): importing it would file rows of its making in the trail.
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			var legacy bool
			if err := tx.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", auditschema.LegacyTable).Scan(&legacy); err != nil {
				return err
			}
			var err error
			if res.Schema, err = auditschema.Install(ctx, tx, Audit); err != nil {
				return err
			}
			switch {
			case legacy && res.Schema.Installed:
				res.Upgrade, err = auditschema.Upgrade(ctx, tx, Audit, auditschema.LegacyTable)
			case legacy:
				res.NotImported = auditschema.LegacyTable
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	applied, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	res.Applied = len(applied)
	if err := withConn(ctx, db, func(c *pgx.Conn) error { return repo.Install(ctx, c, Audit) }); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if err := withConn(ctx, db, func(c *pgx.Conn) error {
		var err error
		res.Retired, err = retireBackstop(ctx, c)
		return err
	}); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return res, nil
}

// retireBackstop drops, in one transaction, the triggers schema version 0 generated on the PHI tables
// (auditrepo_backstop_insert/update/delete/truncate, calling public.auditrepo_backstop_<table>() and
// public.auditrepo_refuse_truncate()): they wrote to public.audit_log, which auditschema.Upgrade renamed. Only
// triggers calling those functions are dropped; on a database that never had them it does nothing.
func retireBackstop(ctx context.Context, c *pgx.Conn) ([]string, error) {
	var dropped []string
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		// Run as a superuser: no function or operator the owner role put in public (LIKE of a name, quote_ident of
		// one) may stand in for a built-in.
		if _, err := tx.Exec(ctx, "SET LOCAL search_path = pg_catalog, pg_temp"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT t.tgrelid::regclass::text, quote_ident(t.tgname)
			FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
			WHERE NOT t.tgisinternal AND t.tgname LIKE 'auditrepo\_backstop\_%'
			  AND p.pronamespace = 'public'::regnamespace
			  AND (p.proname LIKE 'auditrepo\_backstop\_%' OR p.proname = 'auditrepo_refuse_truncate')
			ORDER BY 1, 2`)
		if err != nil {
			return err
		}
		type trig struct{ Table, Name string }
		trigs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[trig])
		if err != nil {
			return err
		}
		for _, t := range trigs {
			if _, err := tx.Exec(ctx, fmt.Sprintf("DROP TRIGGER %s ON %s", t.Name, t.Table)); err != nil {
				return fmt.Errorf("dropping the version 0 backstop trigger %s on %s: %w", t.Name, t.Table, err)
			}
			dropped = append(dropped, t.Table+"."+t.Name)
		}
		rows, err = tx.Query(ctx, `
			SELECT p.oid::regprocedure::text FROM pg_proc p
			WHERE p.pronamespace = 'public'::regnamespace AND p.pronargs = 0
			  AND p.prorettype = 'trigger'::regtype
			  AND (p.proname LIKE 'auditrepo\_backstop\_%' OR p.proname = 'auditrepo_refuse_truncate')
			  AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgfoid = p.oid)`)
		if err != nil {
			return err
		}
		funcs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, f := range funcs {
			if _, err := tx.Exec(ctx, "DROP FUNCTION "+f); err != nil {
				return fmt.Errorf("dropping the version 0 backstop function %s: %w", f, err)
			}
		}
		return nil
	})
	return dropped, err
}

// withConn runs f on one pgx connection of db's pool.
func withConn(ctx context.Context, db *sql.DB, f func(*pgx.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("migrations: need the pgx database/sql driver, got %T", dc)
		}
		return f(sc.Conn())
	})
}
