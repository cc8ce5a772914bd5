package integration_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/migrations"
)

// breakers make every audit insert in t's database fail, as the superuser (nobody else may touch the audit
// table), and return the repositories to write with.
var breakers = []struct {
	name  string
	apply func(t *testing.T, f *clinictest.Clinic) *repo.Repos
}{
	{"check constraint", func(t *testing.T, f *clinictest.Clinic) *repo.Repos {
		_, err := f.Super.Exec(t.Context(), "ALTER TABLE "+migrations.Audit.QualifiedTable()+" ADD CONSTRAINT no_writes CHECK (false) NOT VALID")
		mustNil(t, "add constraint", err)
		return f.R
	}},
	{"insert revoked", func(t *testing.T, f *clinictest.Clinic) *repo.Repos {
		// The trigger functions run as the writer role: take its INSERT away (on the view it inserts through).
		_, err := f.Super.Exec(t.Context(), "REVOKE INSERT ON "+migrations.Audit.QualifiedWritesView()+" FROM "+pgx.Identifier{migrations.Audit.Writer}.Sanitize())
		mustNil(t, "revoke insert", err)
		return f.R
	}},
}

// Scenario 9: when the audit row cannot be written, the change is not made either (fail closed), and the error
// matches audit.ErrAuditWrite. Replaces the seed's "signal failure doesn't crash save".
func TestAuditFailureLeavesDataUnchanged(t *testing.T) {
	t.Parallel()
	for _, b := range breakers {
		for _, k := range kits() {
			t.Run(b.name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				f := clinictest.New(t)
				c, err := k.create(f.Ctx, f, f.R)
				mustNil(t, "create", err)
				data, n := clinictest.Snapshot(t, f.App, k.table), clinictest.Count(t, f.Reviewer, "true")

				r := b.apply(t, f)
				c2, err := k.create(f.Ctx, f, r)
				checkKind(t, "Create", err, audit.ErrAuditWrite, audit.ActionCreate, k.table)
				_, err = k.update(f.Ctx, f, r, c.id, 1)
				checkKind(t, "Update", err, audit.ErrAuditWrite, audit.ActionUpdate, k.table)
				err = k.del(f.Ctx, r, c.id)
				checkKind(t, "Delete", err, audit.ErrAuditWrite, audit.ActionDelete, k.table)
				recs, _, err := k.many(f.Ctx, f, r, 5)
				checkKind(t, "CreateMany", err, audit.ErrAuditWrite, audit.ActionCreate, k.table)
				if c2.id != 0 || len(recs) != 0 {
					t.Errorf("failed Create returned id %d, failed CreateMany %d records: want zero values", c2.id, len(recs))
				}

				clinictest.Unchanged(t, f.App, data) // the table, although its audit rows failed
				if got := clinictest.Count(t, f.Reviewer, "true"); got != n {
					t.Errorf("audit_log grew by %d rows", got-n)
				}
			})
		}
	}
}

// Scenario 13: strict repositories refuse a context without an actor; AllowAnonymous records "unknown";
// WithSystem records a system actor.
func TestActorPolicy(t *testing.T) {
	t.Parallel()
	for _, k := range kits() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f := clinictest.New(t)
			c, err := k.create(f.Ctx, f, f.R)
			mustNil(t, "create", err)
			data, n := clinictest.Snapshot(t, f.App, k.table), clinictest.Count(t, f.Reviewer, "true")

			bare := context.Background()
			_, err = k.create(bare, f, f.R)
			checkKind(t, "Create", err, audit.ErrNoActor, audit.ActionCreate, k.table)
			_, err = k.update(bare, f, f.R, c.id, 1)
			checkKind(t, "Update", err, audit.ErrNoActor, audit.ActionUpdate, k.table)
			err = k.del(bare, f.R, c.id)
			checkKind(t, "Delete", err, audit.ErrNoActor, audit.ActionDelete, k.table)
			_, _, err = k.many(bare, f, f.R, 3)
			checkKind(t, "CreateMany", err, audit.ErrNoActor, audit.ActionCreate, k.table)
			if !clinictest.Unchanged(t, f.App, data) || clinictest.Count(t, f.Reviewer, "true") != n {
				t.Fatalf("a write without an actor changed %s or audit_log", k.table)
			}

			lax := repo.New(f.App, audit.AllowAnonymous())
			_, err = k.update(bare, f, lax, c.id, 1)
			mustNil(t, "unattributed update", err)
			_, err = k.update(f.Ctx, f, lax, c.id, 2) // an actor in the context still wins
			mustNil(t, "attributed update", err)
			_, err = k.update(audit.WithSystem(bare, "nightly-billing"), f, f.R, c.id, 3)
			mustNil(t, "system update", err)
			mustNil(t, "system delete", k.del(audit.WithSystem(bare, "retention-job"), f.R, c.id))

			rows := clinictest.Record(t, f.Reviewer, k.table, c.id)
			if len(rows) != 5 {
				t.Fatalf("%d audit rows, want CREATE, 3 UPDATE, DELETE", len(rows))
			}
			checkActor(t, rows[1], audit.Actor{Kind: audit.KindUnknown})
			checkActor(t, rows[2], f.Actor)
			checkActor(t, rows[3], audit.Actor{Kind: audit.KindSystem, UserAgent: "nightly-billing"})
			checkActor(t, rows[4], audit.Actor{Kind: audit.KindSystem, UserAgent: "retention-job"})
		})
	}
}

// An ordinary database error (here a foreign key) is neither ErrNotFound nor ErrAuditWrite, and writes nothing.
func TestConstraintErrorIsNotAnAuditError(t *testing.T) {
	t.Parallel()
	f := clinictest.New(t)
	n := clinictest.Count(t, f.Reviewer, "true")
	err := f.R.User.Delete(f.Ctx, f.Patient1) // appointments reference patient1
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		t.Fatalf("Delete of a referenced user: err = %v, want a foreign key violation", err)
	}
	for _, kind := range []error{audit.ErrNotFound, audit.ErrAuditWrite, audit.ErrNoActor} {
		if errors.Is(err, kind) {
			t.Errorf("err = %v matches %v", err, kind)
		}
	}
	if !exists(t, f.App, "users", f.Patient1) || clinictest.Count(t, f.Reviewer, "true") != n {
		t.Error("the failed delete changed users or audit_log")
	}
}
