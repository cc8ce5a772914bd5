package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/auditschema"
)

// checkRevision refuses (exit 1) an audit schema that another revision of auditschema installed than the one this
// build installs: until schema version 1 is released its SQL changes with no upgrade between revisions, and this
// build could misread that schema's trail, or seal or drop its rows by the wrong rules. Every command that connects
// runs it first, reading commands too: a trail printed by the wrong build would pass for evidence. A role that may
// not read the revision gets denied, the command's own refusal of a wrong role, if not nil. A schema under c's name
// that is not the audit schema's roles' (c.Audit, c.Writer) is refused unread (exit 2): reading it could run
// another role's code as the command's user.
func checkRevision(ctx context.Context, db auditschema.Querier, c auditschema.Config, denied error) error {
	want, err := auditschema.Revision()
	if err != nil {
		return err
	}
	schema := c.Schema
	version, got, err := auditschema.InstalledRevision(ctx, db, c)
	var pgErr *pgconn.PgError
	var notReady *auditschema.NotReadyError
	switch {
	case errors.As(err, &notReady):
		// The flags first: a schema installed under other role names is the likelier cause, and the problems' fix
		// for a schema that is no audit schema is to drop it.
		msg := fmt.Sprintf("audit schema %s is not the audit schema of roles %s and %s: nothing in it was read. "+
			"If it was installed with other role names, give them with --audit-role and --writer-role; otherwise it is no audit schema this library installed:",
			schema, c.Audit, c.Writer)
		for _, p := range notReady.Problems {
			msg += fmt.Sprintf("\n  - %s\n    fix: %s", p.What, p.Fix)
		}
		return errors.New(msg)
	case errors.As(err, &pgErr) && pgErr.Code == "42P01":
		return usageError{fmt.Sprintf("no audit schema %s in this database (it has no %s.schema_version): check --db (or $DATABASE_URL) and --schema", schema, schema)}
	case errors.As(err, &pgErr) && pgErr.Code == "42501":
		// This revision grants it to the roles that run auditrepo; another revision's schema may not.
		if denied == nil {
			denied = errors.New("cannot check the audit schema's revision")
		}
		return fmt.Errorf("%w: %w (or the schema is another revision's, which may not let this role read its revision: see Upgrading in auditrepo's README)", denied, err)
	case err != nil:
		return err
	case version == auditschema.Version && got == want:
		return nil
	}
	if got == "" {
		got = "(none recorded)"
	}
	return failedError{fmt.Sprintf("audit schema %s is revision %s (schema version %d), but this auditrepo was built for revision %s (schema version %d): "+
		"schema version %d is not released yet and its revisions differ, so this build could misread the trail or seal or drop rows by other rules; it did nothing. "+
		"Run the auditrepo built from the revision that installed the schema; or install this build's schema (`auditrepo schema` prints its SQL) "+
		"into a fresh database, or after exporting the trail and dropping the audit schema, as README's Upgrading says",
		schema, got, version, want, auditschema.Version, auditschema.Version)}
}
