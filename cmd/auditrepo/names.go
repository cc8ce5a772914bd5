package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/sqltext"
)

// nameFlag is the flag naming one field of auditschema.Config. Every subcommand that needs the field registers
// it with registerNames, so the flag has the same name, default (auditschema.Defaults) and help everywhere.
type nameFlag struct {
	flag, help string
	field      func(*auditschema.Config) *string
}

// The flags naming the audit schema's objects; `auditrepo schema` takes them all, the other subcommands those
// they use.
var (
	schemaName   = nameFlag{"schema", "the audit schema, and with _claim appended the claim functions' schema (as auditrepo-gen's -schema)", func(c *auditschema.Config) *string { return &c.Schema }}
	tableName    = nameFlag{"audit-table", "the audit table in the audit schema (as auditrepo-gen's -audit-table)", func(c *auditschema.Config) *string { return &c.Table }}
	auditName    = nameFlag{"audit-role", "the role owning the audit schema, NOLOGIN (as auditrepo-gen's -audit-role)", func(c *auditschema.Config) *string { return &c.Audit }}
	writerName   = nameFlag{"writer-role", "the role owning the trigger functions, NOLOGIN (as auditrepo-gen's -writer-role)", func(c *auditschema.Config) *string { return &c.Writer }}
	ownerName    = nameFlag{"owner-role", "the role owning the application's tables", func(c *auditschema.Config) *string { return &c.Owner }}
	appName      = nameFlag{"app-role", "the application's role", func(c *auditschema.Config) *string { return &c.App }}
	reviewerName = nameFlag{"reviewer-role", "the reviewers' role", func(c *auditschema.Config) *string { return &c.Reviewer }}
	sealerName   = nameFlag{"sealer-role", "the sealing job's role", func(c *auditschema.Config) *string { return &c.Sealer }}
)

// registerNames adds to fs the flags for the fields of c a subcommand uses, each defaulting to its
// auditschema.Defaults value.
func registerNames(fs *flag.FlagSet, c *auditschema.Config, names ...nameFlag) {
	defaults := auditschema.Defaults
	for _, n := range names {
		p := n.field(c)
		*p = *n.field(&defaults)
		fs.Var((*nameValue)(p), n.flag, "`name` of "+n.help)
	}
}

// nameValue is a name flag's value: never empty, which auditschema would silently read as the default, and one
// the audit schema's SQL can hold (auditschema.Config.Check).
type nameValue string

func (v *nameValue) String() string {
	if v == nil {
		return ""
	}
	return string(*v)
}

func (v *nameValue) Set(s string) error {
	if s == "" {
		return errors.New("a name cannot be empty: leave the flag out for its default")
	}
	if !sqltext.BodyName(s) {
		return fmt.Errorf("a name cannot hold a control character or %s, the audit SQL's body quote", sqltext.BodyQuote)
	}
	*v = nameValue(s)
	return nil
}
