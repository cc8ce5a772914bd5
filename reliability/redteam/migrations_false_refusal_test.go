package redteam_test

import (
	"context"
	"testing"

	"github.com/auditrepo/auditrepo/internal/clinictest"
)

// TestRedTeamRenameModelTableAfterDroppingTriggers: renaming an audited table is refused (0A000), with the hint to
// drop its audit triggers first. Following it did not help: the check compared every audited_tables row's name with
// its relation's name now, whatever triggers the table still had, so no migration could rename a model's table
// short of dropping it. With its audit triggers dropped, the rename of invoices succeeds, by the owner and by the
// superuser; appointments, whose trigger lists the invoices a patient move takes
// along by invoices' old name, refuses writes (55000) until the models are installed again.
func TestRedTeamRenameModelTableAfterDroppingTriggers(t *testing.T) {
	c := clinictest.New(t).AddRecords(t)
	ctx := context.Background()
	for _, who := range []string{"owner", "superuser"} {
		p := c.Owner
		if who == "superuser" {
			p = c.Super
		}
		conn := dedicated(t, p, nil)
		must(t, conn, "BEGIN")
		for _, trg := range []string{"audit_insert", "audit_update", "audit_delete", "audit_truncate"} {
			must(t, conn, "DROP TRIGGER "+trg+" ON public.invoices")
		}
		if _, err := conn.Exec(ctx, "ALTER TABLE public.invoices RENAME TO bills"); err != nil {
			t.Errorf("the %s's rename of invoices, its audit triggers dropped as the refusal's hint says: %v", who, err)
		}
		try(t, conn, "55000", "UPDATE appointments SET type = type WHERE id = $1", c.Appt1)
		must(t, conn, "ROLLBACK")
	}
}
