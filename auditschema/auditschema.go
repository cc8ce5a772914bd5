// Package auditschema installs auditrepo's audit schema into a PostgreSQL database: the roles, the audit tables,
// the claim functions the generated repositories call (in a schema of their own), and (with the SQL the generator
// emits for a module's models) the trigger functions that write every audit row. Install runs in one transaction and checks before it
// changes anything, so a database is never left half-installed.
package auditschema

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// Version is the newest schema version this package installs.
const Version = 1

//go:embed sql/*.sql
var files embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"ident":           func(s string) string { return pgx.Identifier{s}.Sanitize() },
	"lit":             sqltext.Literal,
	"writerGrantLock": WriterGrantLock,
}).ParseFS(files, "sql/*.sql"))

// WriterGrantLock returns the statement that takes the lock under which the writer role is granted and revoked
// CREATE on the audit schema named schema (the DDL event trigger's stale path, the models' SQL): each GRANT and
// REVOKE updates the schema's pg_namespace row, and a second transaction doing so waits for the first and then
// fails with "tuple concurrently updated" (XX000) rather than see its change. It locks the rows of schema_version,
// which only the audit role may update: an advisory lock any role could hold for as long as it liked, stalling
// migrations. Outside a transaction block it is released at once, as the statement ends.
func WriterGrantLock(schema string) string {
	return "SELECT FROM " + pgx.Identifier{schema, "schema_version"}.Sanitize() + " FOR UPDATE"
}

// Config names what the schema creates. The zero value of a field means its default (Defaults).
type Config struct {
	Schema   string // the audit schema: "auditrepo"
	Table    string // the audit table in it: "audit_log"
	Audit    string // NOLOGIN role owning the audit schema: "auditrepo_audit"
	Writer   string // NOLOGIN role owning the trigger functions, which may only add audit rows: "auditrepo_writer"
	Owner    string // NOLOGIN role owning the application's tables: "auditrepo_owner"
	App      string // the application's LOGIN role: "auditrepo_app"
	Reviewer string // the reviewers' LOGIN role, which may read the trail: "auditrepo_reviewer"
	Sealer   string // the sealing job's LOGIN role, which reads the trail and appends seals: "auditrepo_sealer"
}

// Defaults are the names used where a Config leaves them empty.
var Defaults = Config{
	Schema: "auditrepo", Table: "audit_log", Audit: "auditrepo_audit", Writer: "auditrepo_writer", Owner: "auditrepo_owner",
	App: "auditrepo_app", Reviewer: "auditrepo_reviewer", Sealer: "auditrepo_sealer",
}

// WithDefaults returns c with every empty name set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.Schema, Defaults.Schema)
	def(&c.Table, Defaults.Table)
	def(&c.Audit, Defaults.Audit)
	def(&c.Writer, Defaults.Writer)
	def(&c.Owner, Defaults.Owner)
	def(&c.App, Defaults.App)
	def(&c.Reviewer, Defaults.Reviewer)
	def(&c.Sealer, Defaults.Sealer)
	return c
}

// ErrBadName matches a *NameError: a Config's name the audit schema's SQL cannot hold.
var ErrBadName = errors.New("auditschema: a Config name the SQL cannot hold")

// The longest names, in bytes, a Config may give: PostgreSQL keeps 63 bytes of a name (NAMEDATALEN - 1) and cuts
// the rest off, and the SQL names schemas after Schema (ClaimSchema, Schema + "_ddl") and relations after Table
// (WritesView, the monthly partitions Table + "_YYYYMM"), which a cut would make other names than the ones the
// checks and the tools look for.
const (
	MaxSchemaName = 63 - len("_claim")
	MaxTableName  = 63 - len("_writes")
	MaxRoleName   = 63
)

// NameError says which of a Config's names cannot be written into the audit schema's SQL.
type NameError struct {
	Field, Value string // Field is the Config field: "Schema", "Table", "Audit", "Writer", "Owner", "App", "Reviewer" or "Sealer"
	// Same is another role field naming the same role, which the boundaries between the roles cannot allow.
	Same string
	// Max is the most bytes the field may have, when Value has more.
	Max int
}

func (e *NameError) Is(target error) bool { return target == ErrBadName }

func (e *NameError) Error() string {
	if e.Same != "" {
		return fmt.Sprintf("auditschema: Config.%s %q names the role of Config.%s too: each role of the audit schema must be one of its own", e.Field, e.Value, e.Same)
	}
	if e.Max > 0 {
		return fmt.Sprintf("auditschema: Config.%s %q is %d bytes, more than its %d: PostgreSQL keeps 63 bytes of a name, and the SQL names others after it",
			e.Field, e.Value, len(e.Value), e.Max)
	}
	return fmt.Sprintf("auditschema: Config.%s %q: want a name that holds no control character and no %s, the SQL's body quote",
		e.Field, e.Value, sqltext.BodyQuote)
}

// Check returns a *NameError for the first of c's names (its defaults where empty) that holds a control character
// or the quote of the function bodies and DO blocks the names are written into, as the generator refuses them, that
// is longer than its Max... constant, or that names the same role as another.
// Install, InstallModels, Secure, Upgrade and the SQL methods check c first.
func (c Config) Check() error {
	c = c.WithDefaults()
	for _, n := range []struct {
		field, value string
		max          int
	}{
		{"Schema", c.Schema, MaxSchemaName}, {"Table", c.Table, MaxTableName}, {"Audit", c.Audit, MaxRoleName},
		{"Writer", c.Writer, MaxRoleName}, {"Owner", c.Owner, MaxRoleName}, {"App", c.App, MaxRoleName},
		{"Reviewer", c.Reviewer, MaxRoleName}, {"Sealer", c.Sealer, MaxRoleName},
	} {
		if !sqltext.BodyName(n.value) {
			return &NameError{Field: n.field, Value: n.value}
		}
		if len(n.value) > n.max {
			return &NameError{Field: n.field, Value: n.value, Max: n.max}
		}
	}
	roles := map[string]string{}
	for _, n := range []struct{ field, value string }{
		{"Audit", c.Audit}, {"Writer", c.Writer}, {"Owner", c.Owner}, {"App", c.App}, {"Reviewer", c.Reviewer}, {"Sealer", c.Sealer},
	} {
		if same, ok := roles[n.value]; ok {
			return &NameError{Field: n.field, Value: n.value, Same: same}
		}
		roles[n.value] = n.field
	}
	return nil
}

// WritesView names the view of the audit table the writer role inserts through (Table + "_writes"). Its columns are
// those the trigger functions write, and no others, so the writer can set none of the server's facts (a row's id,
// time, transaction, session role, client address); PostgreSQL checks a view's INSERT privilege once
// per statement, where a grant of those columns is checked column by column (13k instructions per audited write).
func (c Config) WritesView() string { return c.WithDefaults().Table + "_writes" }

// QualifiedWritesView is WritesView as SQL names it, quoted where needed.
func (c Config) QualifiedWritesView() string {
	c = c.WithDefaults()
	return pgx.Identifier{c.Schema, c.WritesView()}.Sanitize()
}

// ClaimSchema names the schema of the claim functions: Schema + "_claim". It holds claim, its helpers claim_prefix
// and claim_field, and the tables' claim functions, and is the one schema of the audit role's the application role
// may look up: with USAGE on the audit schema it could name the audit tables, and a PREPARE of a SELECT there locks
// them before any privilege is checked (a lock a queued ACCESS EXCLUSIVE request would then stall every audited
// write behind).
func (c Config) ClaimSchema() string { return c.WithDefaults().Schema + "_claim" }

// QualifiedTable is the audit table as SQL names it, quoted where needed.
func (c Config) QualifiedTable() string {
	c = c.WithDefaults()
	return pgx.Identifier{c.Schema, c.Table}.Sanitize()
}

// view is what the SQL templates read.
type view struct {
	Config
	S, T         string // Schema and Table as SQL identifiers
	CS           string // ClaimSchema as an SQL identifier
	EventTrigger string
	// Rules, Attrs and Members are roleRules flattened for role_problems (sql/roles.sql), which Install runs and
	// v1.sql too, for the installs that run the SQL alone (`auditrepo schema`).
	Rules   []roleRule
	Attrs   []roleAttr
	Members []roleMember
}

// roleAttr is an attribute the role of rule Rules[Rule] must not have: a pg_roles column, and its keyword.
type roleAttr struct {
	Rule         int
	Name, What   string
	Column, Word string
}

// roleMember is a role the role of rule Rules[Rule] must not be a member of.
type roleMember struct {
	Rule           int
	Name, What, Of string
}

func (c Config) view() view {
	c = c.WithDefaults()
	v := view{Config: c, S: pgx.Identifier{c.Schema}.Sanitize(), T: pgx.Identifier{c.Table}.Sanitize(),
		CS: pgx.Identifier{c.ClaimSchema()}.Sanitize(), EventTrigger: c.Schema + "_ddl"}
	v.Rules = roleRules(c)
	for i, r := range v.Rules {
		for _, a := range r.attrs {
			v.Attrs = append(v.Attrs, roleAttr{i, r.name, r.what, a, attrWords[a]})
		}
		for _, of := range r.notIn {
			v.Members = append(v.Members, roleMember{i, r.name, r.what, of})
		}
	}
	return v
}

// render renders the template name with c's names, once they pass Check.
func (c Config) render(name string) (string, error) {
	if err := c.Check(); err != nil {
		return "", err
	}
	return render(name, c.view())
}

func render(name string, v any) (string, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, v); err != nil {
		return "", fmt.Errorf("auditschema: rendering %s: %w", name, err)
	}
	return b.String(), nil
}

// SQL returns the statements that create schema version 1 with c's names, as one migration (goose annotations
// included; other tools ignore them as comments). It does not include the event trigger (DDLSQL), which needs a
// superuser. It records in schema_version which SQL it is, so that this library refuses a schema another
// revision installed, however it was run.
func (c Config) SQL() (string, error) {
	d, err := c.digest()
	if err != nil {
		return "", err
	}
	rev, err := revision()
	if err != nil {
		return "", err
	}
	return render("v1.sql", schemaView{c.view(), rev, d})
}

// schemaView is what v1.sql reads: the names, and the digests it records of itself.
type schemaView struct {
	view
	Revision, Digest string
}

// digest is the SHA-256, in hex, of c's schema SQL with its digests left empty (the SQL cannot hold its own):
// what schema_version.digest records.
func (c Config) digest() (string, error) {
	if err := c.Check(); err != nil {
		return "", err
	}
	sql, err := render("v1.sql", schemaView{view: c.view()})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(sql))
	return hex.EncodeToString(sum[:]), nil
}

// revision is the digest with the default names, schema_version.revision: it tells this library's schema SQL
// from another revision's whatever the names, for the generated SQL, whose generator knows only some of them.
var revision = sync.OnceValues(Defaults.digest)

// DatabaseSQL returns the statements that set what the audit schema needs of the database itself: no TEMP for the
// application. Install and InstallModels run them every time: database privileges do not survive CREATE DATABASE
// ... TEMPLATE or a pg_restore without --create.
func (c Config) DatabaseSQL() (string, error) { return c.render("database") }

// DDLSQL returns the statements that install the event trigger recording DDL on audited tables (superuser only).
func (c Config) DDLSQL() (string, error) { return c.render("ddl.sql") }

// Querier is what Install needs of a connection: pgx.Conn, pgxpool.Pool and pgx.Tx have it.
type Querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ErrNotReady is matched (errors.Is) by the error Install, InstallModels and the generated repo.Install (which
// calls InstallModels) return when the database needs a change they will not make themselves; the error, a
// *NotReadyError, names each problem and the SQL that fixes it.
var ErrNotReady = errors.New("auditschema: the database is not ready for the audit schema")

// NotReadyError lists what must be fixed before Install or InstallModels can proceed.
type NotReadyError struct {
	Problems []Problem
}

// Problem is one thing to fix, with the statement that fixes it.
type Problem struct {
	What string
	Fix  string
}

func (e *NotReadyError) Error() string {
	var b strings.Builder
	b.WriteString("auditschema: nothing was installed; fix these first:")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  - %s\n    fix: %s", p.What, p.Fix)
	}
	return b.String()
}

func (e *NotReadyError) Is(target error) bool { return target == ErrNotReady }
