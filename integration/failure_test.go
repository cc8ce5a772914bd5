package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/repo"
)

// breakers make every audit insert in t's database fail and return the repositories to write with.
var breakers = []struct {
	name  string
	apply func(t *testing.T, f *fixture) *repo.Repos
}{
	{"check constraint", func(t *testing.T, f *fixture) *repo.Repos {
		_, err := adminConn(t, f).Exec(t.Context(), "ALTER TABLE audit_log ADD CONSTRAINT no_writes CHECK (false) NOT VALID")
		mustNil(t, "add constraint", err)
		return f.r
	}},
	{"insert revoked", func(t *testing.T, f *fixture) *repo.Repos {
		conn := adminConn(t, f)
		var b [6]byte
		rand.Read(b[:])
		role := pgx.Identifier{"ar_noaudit_" + hex.EncodeToString(b[:])}.Sanitize() // roles are cluster-wide
		for _, sql := range []string{
			"CREATE ROLE " + role + " NOLOGIN",
			"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role,
			"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO " + role,
			"REVOKE INSERT ON audit_log FROM " + role,
			"SET ROLE " + role,
		} {
			_, err := conn.Exec(t.Context(), sql)
			mustNil(t, sql, err)
		}
		t.Cleanup(func() {
			ctx := context.Background()
			for _, sql := range []string{"RESET ROLE", "DROP OWNED BY " + role, "DROP ROLE " + role} {
				if _, err := conn.Exec(ctx, sql); err != nil {
					t.Errorf("cleanup %s: %v", sql, err)
				}
			}
		})
		return repo.New(conn)
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
				f := setup(t)
				c, err := k.create(f.ctx, f, f.r)
				mustNil(t, "create", err)
				data, n := snapshot(t, f.pool, k.table), count(t, f.pool, "audit_log")

				r := b.apply(t, f)
				c2, err := k.create(f.ctx, f, r)
				checkKind(t, "Create", err, audit.ErrAuditWrite, audit.Create, k.table)
				_, err = k.update(f.ctx, f, r, c.id, 1)
				checkKind(t, "Update", err, audit.ErrAuditWrite, audit.Update, k.table)
				err = k.del(f.ctx, r, c.id)
				checkKind(t, "Delete", err, audit.ErrAuditWrite, audit.Delete, k.table)
				recs, _, err := k.many(f.ctx, f, r, 5)
				checkKind(t, "CreateMany", err, audit.ErrAuditWrite, audit.Create, k.table)
				if c2.id != 0 || len(recs) != 0 {
					t.Errorf("failed Create returned id %d, failed CreateMany %d records: want zero values", c2.id, len(recs))
				}

				if got := snapshot(t, f.pool, k.table); got != data {
					t.Errorf("%s changed although its audit rows failed:\nbefore %s\nafter  %s", k.table, data, got)
				}
				if got := count(t, f.pool, "audit_log"); got != n {
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
			f := setup(t)
			c, err := k.create(f.ctx, f, f.r)
			mustNil(t, "create", err)
			data, n := snapshot(t, f.pool, k.table), count(t, f.pool, "audit_log")

			bare := context.Background()
			_, err = k.create(bare, f, f.r)
			checkKind(t, "Create", err, audit.ErrNoActor, audit.Create, k.table)
			_, err = k.update(bare, f, f.r, c.id, 1)
			checkKind(t, "Update", err, audit.ErrNoActor, audit.Update, k.table)
			err = k.del(bare, f.r, c.id)
			checkKind(t, "Delete", err, audit.ErrNoActor, audit.Delete, k.table)
			_, _, err = k.many(bare, f, f.r, 3)
			checkKind(t, "CreateMany", err, audit.ErrNoActor, audit.Create, k.table)
			if snapshot(t, f.pool, k.table) != data || count(t, f.pool, "audit_log") != n {
				t.Fatalf("a write without an actor changed %s or audit_log", k.table)
			}

			lax := repo.New(f.pool, audit.AllowAnonymous())
			_, err = k.update(bare, f, lax, c.id, 1)
			mustNil(t, "unattributed update", err)
			_, err = k.update(f.ctx, f, lax, c.id, 2) // an actor in the context still wins
			mustNil(t, "attributed update", err)
			_, err = k.update(audit.WithSystem(bare, "nightly-billing"), f, f.r, c.id, 3)
			mustNil(t, "system update", err)
			mustNil(t, "system delete", k.del(audit.WithSystem(bare, "retention-job"), f.r, c.id))

			rows := trail(t, f, k.table, c.id)
			if len(rows) != 5 {
				t.Fatalf("%d audit rows, want CREATE, 3 UPDATE, DELETE", len(rows))
			}
			checkActor(t, rows[1], audit.Actor{Kind: audit.KindUnknown})
			checkActor(t, rows[2], f.actor)
			checkActor(t, rows[3], audit.Actor{Kind: audit.KindSystem, UserAgent: "nightly-billing"})
			checkActor(t, rows[4], audit.Actor{Kind: audit.KindSystem, UserAgent: "retention-job"})
		})
	}
}

// An ordinary database error (here a foreign key) is neither ErrNotFound nor ErrAuditWrite, and writes nothing.
func TestConstraintErrorIsNotAnAuditError(t *testing.T) {
	t.Parallel()
	f := setup(t)
	n := count(t, f.pool, "audit_log")
	err := f.r.User.Delete(f.ctx, f.patient1) // appointments reference patient1
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		t.Fatalf("Delete of a referenced user: err = %v, want a foreign key violation", err)
	}
	for _, kind := range []error{audit.ErrNotFound, audit.ErrAuditWrite, audit.ErrNoActor} {
		if errors.Is(err, kind) {
			t.Errorf("err = %v matches %v", err, kind)
		}
	}
	if !exists(t, f.pool, "users", f.patient1) || count(t, f.pool, "audit_log") != n {
		t.Error("the failed delete changed users or audit_log")
	}
}
