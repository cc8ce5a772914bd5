package auditschema_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// The same with the models' SQL (repo.AuditModels.SQL), run statement by statement by a CREATEROLE installer: its
// first block grants the installer the audit and writer roles, and check_models, the very next statement, refuses
// whenever a table is not ready (here: none exists yet), which is its ordinary way to say no. With ON_ERROR_STOP the
// REVOKE at its end never runs: the installer stays a member of the audit role (the trail's owner) and the writer.
func TestRT16bModelsSQLRefusalLeavesNoMembership(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not found")
	}
	ctx := context.Background()
	super := pgtest.Audited(t, auditschema.Config{})
	role := fmt.Sprintf("rt16b_inst_%d", rand.Uint32())
	dbName := super.Config().ConnConfig.Database
	if _, err := super.Exec(ctx, "CREATE ROLE "+role+" LOGIN CREATEROLE; ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER TO "+role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, q := range []string{
			"REVOKE auditrepo_audit, auditrepo_writer FROM " + role,
			"ALTER DATABASE " + pgx.Identifier{dbName}.Sanitize() + " OWNER TO CURRENT_USER",
			"DROP OWNED BY " + role, "DROP ROLE " + role,
		} {
			if _, err := super.Exec(ctx, q); err != nil {
				t.Logf("cleanup %s: %v", q, err)
			}
		}
	})
	cc := super.Config().ConnConfig
	cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cc.Host, "-p", fmt.Sprint(cc.Port), "-U", role, "-d", dbName, "-f", "-")
	cmd.Stdin = strings.NewReader(repo.AuditModels.SQL)
	cmd.Env = append(os.Environ(), "PGPASSWORD=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the models' SQL installed with no tables:\n%s", out)
	}
	var audit, writer bool
	if err := super.QueryRow(ctx, "SELECT pg_has_role($1, 'auditrepo_audit', 'MEMBER'), pg_has_role($1, 'auditrepo_writer', 'MEMBER')", role).Scan(&audit, &writer); err != nil {
		t.Fatal(err)
	}
	if audit || writer {
		t.Errorf("the models' SQL, refused by check_models, left %s a member of auditrepo_audit (%v) and auditrepo_writer (%v)", role, audit, writer)
	}
}
