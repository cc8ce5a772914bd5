package redteam_test

import (
	"context"
	"testing"

	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// TestRedTeamOwnerDropsPathKeysUnderStaleTarget: record_ddl_as checked a patient path's step only while both its
// tables still had the columns they were installed with (relation_layout), leaving a changed table stale instead.
// But stale covers only the changed table and the tables reading it: a step's source table that does not read its
// target by name (dental_records -> users: reads {}) stays writable. As the owner, one ALTER TABLE on users that
// added a column and dropped users_pkey CASCADE dropped every path key into users (appointments, dental_records,
// billings, ...) and was accepted, and the application kept writing dental_records with no path key. A step is
// now skipped only when its source table's columns changed: the command is refused, and the keys stay.
func TestRedTeamOwnerDropsPathKeysUnderStaleTarget(t *testing.T) {
	c := clinictest.New(t).AddRecords(t)
	try(t, c.Owner, "0A000", "ALTER TABLE public.users ADD COLUMN rt_x integer, DROP CONSTRAINT users_pkey CASCADE, ADD PRIMARY KEY (id)")
	keys := pgtest.Strings(t, c.Super, `SELECT conname FROM pg_constraint
		WHERE contype = 'f' AND conrelid = 'public.dental_records'::regclass AND confrelid = 'public.users'::regclass ORDER BY 1`)
	if len(keys) == 0 {
		t.Errorf("dental_records has no foreign key to users after the refused command")
	}
	if _, err := c.App.Exec(context.Background(), "UPDATE dental_records SET treatment = 'rt' WHERE id = $1", c.DentalRecord); err != nil {
		t.Errorf("dental_records' write after the refused command: %v", err)
	}
}
