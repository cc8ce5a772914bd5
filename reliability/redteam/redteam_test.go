package redteam_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/clinictest"
	"github.com/auditrepo/auditrepo/internal/pgtest"
	"github.com/auditrepo/auditrepo/internal/sqltext"
	"github.com/auditrepo/auditrepo/internal/testdb"
	"github.com/auditrepo/auditrepo/migrations"
	"github.com/auditrepo/auditrepo/seal"
)

// SQLSTATEs the attacks are refused with.
const (
	denied = "42501" // insufficient_privilege: no privilege, not the owner, or the audit schema's own refusals
	// invalid_text_representation: a forged claim that is no row of auditrepo.claimed, or names an actor kind
	// other than user, system or unknown (the enum auditrepo.actor_kind refuses it when the trigger parses it)
	badText = "22P02"
	// badEnum is badText raised by the enum auditrepo.actor_kind: refused for its kind, not another flaw.
	badEnum = badText + " invalid input value for enum"
	noKind  = "23502" // not_null_violation: a claim without a kind, refused by the audit table's actor_kind
	tooBig  = "22003" // numeric_value_out_of_range
)

// falseActor is the user the attacker names in its own claims: no such user exists.
const falseActor int64 = 424242

// userActor is claim()'s actor argument naming user id as a user, with no address, user agent or request id:
// the rest of an auditrepo.claimed row's text after the method, as package audit formats it.
func userActor(id int64) string { return fmt.Sprintf("user,%d,,,)", id) }

// forgedActor is the attacker's actor, in full, as claim() takes it.
var forgedActor = fmt.Sprintf(`user,%d,10.6.6.6,"evil","req-evil")`, falseActor)

// valid is what follows a statement's claim_prefix in a claim: the method and the actor, as claim() writes them.
var valid = `"Forged",` + forgedActor

// staleClaim is a whole claim for appointments, well formed, made at (the text of a UTC timestamp): the claim of
// a statement that started then.
func staleClaim(at string) string { return `("` + at + `","appointments",` + valid }

// rewrite changes appointment %d's type (a PHI field) to a new value: the raw write of most attacks.
const rewrite = `UPDATE appointments SET type = 'rt-' || substr(md5(random()::text), 1, 8) WHERE id = %d`

// ---------------------------------------------------------------------------------------------------------
// Helpers: outcomes, images, the trail since a mark.

// refused asserts that err is the server refusing the attack with SQLSTATE code: a SQLSTATE, optionally followed
// by a space and a text the error's message must contain.
func refused(t *testing.T, err error, code, attack string) {
	t.Helper()
	code, msg, _ := strings.Cut(code, " ")
	switch {
	case err == nil:
		t.Errorf("ACCEPTED: %s\n\twant it refused with SQLSTATE %s", attack, code)
	case pgtest.SQLState(err) != code:
		t.Errorf("%s: refused with %v (SQLSTATE %q), want SQLSTATE %s", attack, err, pgtest.SQLState(err), code)
	case !strings.Contains(err.Error(), msg):
		t.Errorf("%s: refused with %v, want a message with %q", attack, err, msg)
	}
}

// try runs sql on q and asserts it is refused with code.
func try(t *testing.T, q audit.DBTX, code, sql string, args ...any) {
	t.Helper()
	_, err := q.Exec(context.Background(), sql, args...)
	refused(t, err, code, sql)
}

func must(t *testing.T, q audit.DBTX, sql string, args ...any) {
	t.Helper()
	if _, err := q.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dedicated opens a connection of its own on p's database as p's role, for attacks whose session state matters,
// with params added to its startup packet.
func dedicated(t *testing.T, p *pgxpool.Pool, params map[string]string) *pgx.Conn {
	t.Helper()
	cfg := p.Config().ConnConfig.Copy()
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// imageSQL is what the audit triggers put in a row's images, per table: the record minus its excluded fields.
var imageSQL = map[string]string{
	"appointments":   `to_jsonb(x) || '{"notes": "[REDACTED]"}'::jsonb`,
	"users":          `to_jsonb(x) - '{password,auth_token}'::text[]`,
	"dental_records": `to_jsonb(x)`,
}

// image reads the record's real image now, as the superuser; nil when there is no such record.
func image(t *testing.T, c *clinictest.Clinic, table string, id int64) map[string]any {
	t.Helper()
	var s *string
	err := c.Super.QueryRow(context.Background(), fmt.Sprintf("SELECT (%s)::text FROM public.%s x WHERE id = $1", imageSQL[table], table), id).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading %s %d: %v", table, id, err)
	}
	return decode(t, *s)
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return m
}

// want is the true row an accepted attack must leave.
type want struct {
	table         string
	id            int64
	action        string
	before, after map[string]any // the record's real images (nil where the action has none)
	actor         *int64         // nil: the row must be 'unattributed'; else a 'user' claim naming it
	role          string         // db_role: who connected
}

// trueRow asserts that r is the true row w describes.
func trueRow(t *testing.T, r clinictest.Row, w want) {
	t.Helper()
	if r.TargetTable != w.table || r.TargetID != w.id || r.Action != w.action {
		t.Errorf("audit row %d is %s %s %d, want %s %s %d", r.ID, r.Action, r.TargetTable, r.TargetID, w.action, w.table, w.id)
	}
	if r.DBRole != w.role {
		t.Errorf("audit row %d: db_role %q, want %q", r.ID, r.DBRole, w.role)
	}
	if w.actor == nil {
		if r.ActorKind != string(audit.KindUnattributed) || r.ActorID != nil || r.IP != nil || r.UserAgent != nil || r.RequestID != nil || r.Method != nil {
			t.Errorf("audit row %d: actor %s/%v/%v/%v/%v/%v, want 'unattributed' with no actor columns",
				r.ID, r.ActorKind, deref(r.ActorID), r.IP, deref(r.UserAgent), deref(r.RequestID), deref(r.Method))
		}
	} else if r.ActorKind != string(audit.KindUser) || r.ActorID == nil || *r.ActorID != *w.actor {
		t.Errorf("audit row %d: actor %s/%v, want the claimed user %d", r.ID, r.ActorKind, deref(r.ActorID), *w.actor)
	}
	check := func(key string, real map[string]any) {
		got, _ := r.Ch[key].(map[string]any)
		if !reflect.DeepEqual(got, real) {
			t.Errorf("audit row %d: %s image\n\t%v\nwant the real\n\t%v", r.ID, key, got, real)
		}
	}
	switch w.action {
	case "CREATE":
		check("after", w.after)
	case "UPDATE":
		check("before", w.before)
		check("after", w.after)
	case "DELETE":
		check("deleted_record", w.before)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// attack runs one attack whose write is an UPDATE of one appointment (run gets the SQL of that write) and
// asserts it is ACCEPTED WITH A TRUE ROW: one audit row, true images, attributed to actor (nil: unattributed).
func attack(t *testing.T, c *clinictest.Clinic, actor *int64, run func(write string) error) {
	t.Helper()
	before := image(t, c, "appointments", c.Appt1)
	m := clinictest.MaxID(t, c.Reviewer)
	if err := run(fmt.Sprintf(rewrite, c.Appt1)); err != nil {
		t.Fatalf("the attack's write failed (a refused write is not the outcome expected here): %v", err)
	}
	after := image(t, c, "appointments", c.Appt1)
	if reflect.DeepEqual(before, after) {
		t.Fatal("the attack changed nothing")
	}
	rows := clinictest.Since(t, c.Reviewer, m)
	if len(rows) != 1 {
		t.Fatalf("SILENCED or duplicated: %d audit rows for one changed record, want 1: %+v", len(rows), rows)
	}
	trueRow(t, rows[0], want{table: "appointments", id: c.Appt1, action: "UPDATE", before: before, after: after, actor: actor, role: migrations.Audit.App})
}

// repoOn is the appointments repository over one connection.
func repoOn(conn *pgx.Conn) *repo.AppointmentRepo { return repo.NewAppointmentRepo(conn) }

func ptr[T any](v T) *T { return &v }

// auditTables are the audit schema's tables (and the audit table's DEFAULT partition).
var auditTables = []string{"auditrepo.audit_log", "auditrepo.audit_log_default", "auditrepo.ddl_log", "auditrepo.audited_tables", "auditrepo.schema_version"}

// keeping are the tables of sealing and retention, by the column an attack rewrites: nobody may change or remove
// what they hold; only seal_leaves() and seal_checkpoint() (the sealer's) append seals, only retain() and hold()
// (the owner's) write the others.
var keeping = map[string]string{"auditrepo.seal_checkpoint": "note", "auditrepo.seal_leaf": "leaf_hash",
	"auditrepo.legal_holds": "reason", "auditrepo.retention_log": "partition_name"}

// changeKeeping asserts that q can neither insert into, update, delete, empty nor lock the sealing and retention
// tables, nor, unless it seals, append seals through the seal functions.
func changeKeeping(t *testing.T, q audit.DBTX, seals bool) {
	t.Helper()
	if !seals {
		try(t, q, denied, "SELECT auditrepo.seal_leaves(0, '{}', '{}', '{}', '{}', '{}')")
		try(t, q, denied, "SELECT auditrepo.seal_checkpoint(1, 0, '0', '1', '', '{}', '{}', '')")
	}
	for tab, col := range keeping {
		t.Run(tab, func(t *testing.T) {
			try(t, q, denied, "INSERT INTO "+tab+" DEFAULT VALUES")
			try(t, q, denied, "UPDATE "+tab+" SET "+col+" = "+col)
			try(t, q, denied, "DELETE FROM "+tab)
			try(t, q, denied, "TRUNCATE "+tab)
			try(t, q, denied, "DROP TABLE "+tab)
		})
	}
}

// writeAuditTables asserts that q can neither write, empty nor lock the audit tables.
func writeAuditTables(t *testing.T, q audit.DBTX) {
	t.Helper()
	for _, tab := range auditTables {
		t.Run(tab, func(t *testing.T) {
			switch tab {
			case "auditrepo.audit_log", "auditrepo.audit_log_default":
				try(t, q, denied, "INSERT INTO "+tab+` (actor_kind, actor_id, action, target_table, target_id, patient_id, changes)
					VALUES ('user', 1, 'UPDATE', 'appointments', 1, 1, '{}')`)
				try(t, q, denied, "INSERT INTO "+tab+` (id, occurred_at, db_role, actor_kind, action, target_table, target_id, changes)
					OVERRIDING SYSTEM VALUE VALUES (1, now(), 'auditrepo_app', 'user', 'UPDATE', 'appointments', 1, '{}')`)
				try(t, q, denied, "UPDATE "+tab+" SET actor_kind = 'user', actor_id = 1")
			case "auditrepo.ddl_log":
				try(t, q, denied, "INSERT INTO "+tab+" (command_tag) VALUES ('ENABLE TRIGGER')")
				try(t, q, denied, "UPDATE "+tab+" SET command_tag = 'COMMENT'")
			case "auditrepo.audited_tables":
				try(t, q, denied, "INSERT INTO "+tab+" VALUES ('public.clinic_locations')")
				try(t, q, denied, "UPDATE "+tab+" SET tbl = 'public.clinic_locations'")
			case "auditrepo.schema_version":
				try(t, q, denied, "INSERT INTO "+tab+" (version) VALUES (99)")
				try(t, q, denied, "UPDATE "+tab+" SET version = 0")
			}
			try(t, q, denied, "DELETE FROM "+tab)
			try(t, q, denied, "TRUNCATE "+tab)
			refused(t, pgx.BeginFunc(context.Background(), q.(interface {
				Begin(context.Context) (pgx.Tx, error)
			}), func(tx pgx.Tx) error {
				_, err := tx.Exec(context.Background(), "LOCK TABLE "+tab+" IN ACCESS EXCLUSIVE MODE")
				return err
			}), denied, "LOCK TABLE "+tab)
			try(t, q, denied, "ALTER TABLE "+tab+" DISABLE TRIGGER ALL")
			try(t, q, denied, "DROP TABLE "+tab)
		})
	}
}

// ---------------------------------------------------------------------------------------------------------
// The application's credentials (auditrepo_app).

func TestRedTeamApp(t *testing.T) {
	c := clinictest.New(t)
	ctx := context.Background()
	app := c.App

	// 1. The old design's mark: a transaction-local setting that once told the trigger "a repository writes".
	t.Run("01_old_write_mark", func(t *testing.T) {
		attack(t, c, nil, func(write string) error {
			tx, err := app.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, "SELECT set_config('auditrepo.write', 'users', true), set_config('auditrepo.write', 'appointments', true)"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, write); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
		// And on users, the table the mark named.
		before := image(t, c, "users", c.Patient1)
		m := clinictest.MaxID(t, c.Reviewer)
		conn := dedicated(t, app, nil)
		must(t, conn, "SELECT set_config('auditrepo.write', 'users', false)")
		must(t, conn, "UPDATE users SET first_name = 'Mallory' WHERE id = $1", c.Patient1)
		rows := clinictest.Since(t, c.Reviewer, m)
		if len(rows) != 1 {
			t.Fatalf("%d audit rows, want 1", len(rows))
		}
		trueRow(t, rows[0], want{table: "users", id: c.Patient1, action: "UPDATE", before: before, after: image(t, c, "users", c.Patient1), role: migrations.Audit.App})
	})

	// 2. The claim setting forged without claim(): by set_config, SET and SET LOCAL, stale, foreign, malformed.
	t.Run("02_forged_claim_setting", func(t *testing.T) {
		session := func(setup ...string) func(string) error {
			return func(write string) error {
				conn := dedicated(t, app, nil)
				for _, s := range setup {
					if _, err := conn.Exec(ctx, s); err != nil {
						return fmt.Errorf("%s: %w", s, err)
					}
				}
				_, err := conn.Exec(ctx, write)
				return err
			}
		}
		t.Run("set_config_session_any_text", func(t *testing.T) {
			attack(t, c, nil, session("SELECT set_config('auditrepo.claim', 'I am the dentist', false)"))
		})
		t.Run("set_config_session_claim_form", func(t *testing.T) {
			attack(t, c, nil, session("SELECT set_config('auditrepo.claim', '"+staleClaim("2001-01-01 00:00:00")+"', false)"))
		})
		t.Run("SET", func(t *testing.T) {
			attack(t, c, nil, session("SET auditrepo.claim = '"+staleClaim("2001-01-01 00:00:00.000001")+"'"))
		})
		t.Run("SET_LOCAL", func(t *testing.T) {
			attack(t, c, nil, func(write string) error {
				conn := dedicated(t, app, nil)
				return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, "SET LOCAL auditrepo.claim = '"+staleClaim("2001-01-01 00:00:00.000001")+"'"); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, write)
					return err
				})
			})
		})
		// A correctly formed prefix, of an earlier statement: the session keeps it, the next statement's prefix differs.
		t.Run("stale_prefix_session", func(t *testing.T) {
			attack(t, c, nil, session("SELECT set_config('auditrepo.claim', auditrepo_claim.claim_prefix('appointments') || '"+valid+"', false)"))
		})
		// claim() itself, in an earlier statement of the same transaction.
		t.Run("stale_prefix_claim_earlier_statement", func(t *testing.T) {
			attack(t, c, nil, func(write string) error {
				return pgx.BeginFunc(ctx, app, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, "SELECT auditrepo_claim.claim($1, 'appointments', 'Forged')", forgedActor); err != nil {
						return err
					}
					time.Sleep(2 * time.Millisecond) // a later statement, a later timestamp
					_, err := tx.Exec(ctx, write)
					return err
				})
			})
		})
		// In the writing statement itself, through a CTE: the prefix is right, the rest is what is forged.
		inStatement := func(table, payload string) func(string) error {
			return func(string) error {
				_, err := app.Exec(ctx, `WITH f AS MATERIALIZED (SELECT set_config('auditrepo.claim', auditrepo_claim.claim_prefix($1::text) || $2::text, true) AS v)
					UPDATE appointments SET type = 'rt-' || substr(md5(random()::text), 1, 8) FROM f WHERE id = $3 AND f.v IS NOT NULL`, table, payload, c.Appt1)
				return err
			}
		}
		// Another table's prefix, or this one's spelled differently: not this statement's claim, an unattributed
		// row.
		for _, tc := range []struct{ name, table, payload string }{
			{"another_tables_prefix", "users", valid},
			{"schema_qualified_prefix", "public.appointments", valid},
			{"case_changed_prefix", "Appointments", valid},
		} {
			t.Run("in_statement_"+tc.name, func(t *testing.T) { attack(t, c, nil, inStatement(tc.table, tc.payload)) })
		}
		// This statement's prefix followed by what is no valid claim: the trigger refuses the write. A kind other
		// than user, system or unknown does not parse; a NULL kind (every field NULL included) parses, and the audit
		// table refuses the row it would write (actor_kind NOT NULL).
		for _, tc := range []struct{ name, payload, code string }{
			{"garbage_after_prefix", "garbage", badText},
			{"row_then_garbage", valid + "garbage", badText},
			{"json_object", `{"k":"user","a":424242}`, badText},
			{"too_few_fields", `"Forged",user,424242)`, badText},
			{"too_many_fields", `"Forged",user,424242,,,,x)`, badText},
			{"kind_unattributed", `"Forged",unattributed,424242,,,)`, badEnum},
			{"kind_admin", `"Forged",admin,424242,,,)`, badEnum},
			{"kind_quoted_case", `"Forged","USER",424242,,,)`, badEnum},
			{"kind_empty", `"Forged","",424242,,,)`, badEnum},
			{"kind_null", `"Forged",,424242,,,)`, noKind},
			{"all_fields_null", ",,,,,)", noKind},
			{"id_not_numeric", `"Forged",user,x,,,)`, badText},
			{"id_fraction", `"Forged",user,1.5,,,)`, badText},
			{"id_overflow", `"Forged",user,99999999999999999999,,,)`, tooBig},
			{"bad_inet", `"Forged",user,424242,999.1.1.1,,)`, badText},
			{"inet_text", `"Forged",user,424242,localhost,,)`, badText},
		} {
			t.Run("in_statement_"+tc.name, func(t *testing.T) {
				before, m := image(t, c, "appointments", c.Appt1), clinictest.MaxID(t, c.Reviewer)
				err := inStatement("appointments", tc.payload)("")
				refused(t, err, tc.code, "a forged claim "+tc.payload)
				if !reflect.DeepEqual(before, image(t, c, "appointments", c.Appt1)) || len(clinictest.Since(t, c.Reviewer, m)) != 0 {
					t.Error("a refused write changed the record or the trail")
				}
			})
		}
		// claim() with a kind the runtime never sends: the trigger refuses it, the attacker's statement fails, nothing
		// changes. The kind is the actor's first field: "" is the empty string, an empty field NULL.
		for _, tc := range []struct{ name, kind, code string }{
			{"unattributed", "unattributed", badEnum}, {"admin", "admin", badEnum}, {"USER", "USER", badEnum},
			{"empty", `""`, badEnum}, {"null", "", noKind},
		} {
			t.Run("claim_kind_"+tc.name, func(t *testing.T) {
				before, m := image(t, c, "appointments", c.Appt1), clinictest.MaxID(t, c.Reviewer)
				_, err := app.Exec(ctx, `WITH cl AS MATERIALIZED (SELECT auditrepo_claim.claim($1, 'appointments', 'Forged') AS ok)
					UPDATE appointments SET type = 'rt-x' FROM cl WHERE id = $2 AND cl.ok`, fmt.Sprintf("%s,%d,,,)", tc.kind, falseActor), c.Appt1)
				refused(t, err, tc.code, "claim() with kind "+tc.name)
				if !reflect.DeepEqual(before, image(t, c, "appointments", c.Appt1)) || len(clinictest.Since(t, c.Reviewer, m)) != 0 {
					t.Error("a refused claim changed the record or the trail")
				}
			})
		}
		// claim() given a NULL makes no claim (the setting is reset): an unattributed true row, never silence.
		for _, tc := range []struct{ name, args string }{
			{"actor", "NULL, 'appointments', 'Forged'"}, {"table", "'user,1,,,)', NULL, 'Forged'"}, {"method", "'user,1,,,)', 'appointments', NULL"},
		} {
			t.Run("claim_null_"+tc.name, func(t *testing.T) {
				attack(t, c, nil, func(write string) error {
					_, err := app.Exec(ctx, `WITH cl AS MATERIALIZED (SELECT auditrepo_claim.claim(`+tc.args+`) AS ok)
						UPDATE appointments SET type = 'rt-' || substr(md5(random()::text), 1, 8) FROM cl WHERE id = $1 AND cl.ok`, c.Appt1)
					return err
				})
			})
		}
		// The allowed false actor, by forging the setting in the writing statement: the same power as claim().
		t.Run("in_statement_valid_claim_is_a_false_actor", func(t *testing.T) {
			attack(t, c, ptr(falseActor), inStatement("appointments", valid))
		})
	})

	// 3. The claim in the connection's startup packet (what PGOPTIONS sends).
	t.Run("03_startup_parameters", func(t *testing.T) {
		for name, params := range map[string]map[string]string{
			"runtime_param": {"auditrepo.claim": staleClaim("2001-01-01 00:00:00")},
			// In options a space separates arguments unless escaped.
			"options_c":          {"options": `-c auditrepo.claim=` + strings.ReplaceAll(staleClaim("2001-01-01 00:00:00"), " ", `\ `)},
			"options_c_nonsense": {"options": `-c auditrepo.claim=dentist`},
		} {
			t.Run(name, func(t *testing.T) {
				conn := dedicated(t, app, params)
				var v string
				if err := conn.QueryRow(ctx, "SELECT current_setting('auditrepo.claim', true)").Scan(&v); err != nil || v == "" {
					t.Fatalf("the startup parameter did not set the claim (%q, %v): the attack was not made", v, err)
				}
				attack(t, c, nil, func(write string) error { _, err := conn.Exec(ctx, write); return err })
			})
		}
	})

	// 4. A role-level default for the application's own role.
	t.Run("04_alter_role_set", func(t *testing.T) {
		var dbname string
		if err := app.QueryRow(ctx, "SELECT current_database()").Scan(&dbname); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, set, reset string }{
			{"in_database", fmt.Sprintf("ALTER ROLE auditrepo_app IN DATABASE %q SET auditrepo.claim = '(\"0\",\"appointments\",{\"k\":\"user\",\"a\":424242}'", dbname),
				fmt.Sprintf("ALTER ROLE auditrepo_app IN DATABASE %q RESET auditrepo.claim", dbname)},
			{"all_databases", "ALTER ROLE auditrepo_app SET auditrepo.claim = '" + staleClaim("2001-01-01 00:00:00") + "'",
				"ALTER ROLE auditrepo_app RESET auditrepo.claim"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// Refused: the role may not set its own defaults for this parameter (README: 42501). Were it
				// accepted, every new session of the role would start with a forged claim.
				_, err := app.Exec(ctx, tc.set)
				if err == nil {
					t.Cleanup(func() { c.Super.Exec(context.Background(), tc.reset) })
				}
				refused(t, err, denied, tc.set)
			})
		}
	})

	// 5. DO blocks: claim() then writes is the allowed false actor; raw writes alone are unattributed.
	t.Run("05_do_block", func(t *testing.T) {
		t.Run("claim_then_writes_false_actor", func(t *testing.T) {
			b1, b2 := image(t, c, "appointments", c.Appt1), image(t, c, "appointments", c.Appt2)
			m := clinictest.MaxID(t, c.Reviewer)
			must(t, app, fmt.Sprintf(`DO $$
			BEGIN
				PERFORM auditrepo_claim.claim('%s', 'appointments', 'Forged');
				UPDATE appointments SET type = 'rt-do-1' WHERE id = %d;
				UPDATE appointments SET type = 'rt-do-2', status = 'confirmed' WHERE id = %d;
			END $$`, forgedActor, c.Appt1, c.Appt2))
			rows := clinictest.Since(t, c.Reviewer, m)
			if len(rows) != 2 {
				t.Fatalf("%d audit rows, want 2", len(rows))
			}
			trueRow(t, rows[0], want{table: "appointments", id: c.Appt1, action: "UPDATE", before: b1, after: image(t, c, "appointments", c.Appt1), actor: ptr(falseActor), role: migrations.Audit.App})
			trueRow(t, rows[1], want{table: "appointments", id: c.Appt2, action: "UPDATE", before: b2, after: image(t, c, "appointments", c.Appt2), actor: ptr(falseActor), role: migrations.Audit.App})
		})
		t.Run("raw_writes_unattributed", func(t *testing.T) {
			attack(t, c, nil, func(write string) error {
				_, err := app.Exec(ctx, "DO $$ BEGIN "+write+"; END $$")
				return err
			})
		})
		t.Run("claim_for_users_writes_appointments", func(t *testing.T) {
			attack(t, c, nil, func(write string) error {
				_, err := app.Exec(ctx, fmt.Sprintf("DO $$ BEGIN PERFORM auditrepo_claim.claim('%s', 'users', 'Forged'); %s; END $$", userActor(falseActor), write))
				return err
			})
		})
		// Not a DO block but the same reach: a simple-protocol message of several statements shares one
		// statement_timestamp, so claim() in the first statement attributes the second. Still the attacker's own
		// claim, in its own message: a false actor on a true row.
		t.Run("multi_statement_message_false_actor", func(t *testing.T) {
			conn := dedicated(t, app, nil)
			attack(t, c, ptr(falseActor), func(write string) error {
				_, err := conn.PgConn().Exec(ctx, fmt.Sprintf("SELECT auditrepo_claim.claim('%s', 'appointments', 'Forged'); %s", userActor(falseActor), write)).ReadAll()
				return err
			})
		})
	})

	// 5b. A pipeline (pgx.Batch: Bind/Execute per query, one Sync): claim() in one query, the raw write in the
	// next. Each Execute message sets its own statement_timestamp, so the claim is stale for the write.
	t.Run("05b_pipelined_claim_then_write", func(t *testing.T) {
		conn := dedicated(t, app, nil)
		attack(t, c, nil, func(write string) error {
			b := &pgx.Batch{}
			b.Queue("SELECT auditrepo_claim.claim($1, 'appointments', 'Forged')", userActor(falseActor))
			b.Queue(write)
			return conn.SendBatch(ctx, b).Close()
		})
	})

	// 6. claim() in a CTE of the attacker's own statement, for another table than the one written.
	t.Run("06_claim_cte_other_table", func(t *testing.T) {
		attack(t, c, nil, func(write string) error {
			_, err := app.Exec(ctx, `WITH cl AS MATERIALIZED (SELECT auditrepo_claim.claim($1, 'users', 'Forged') AS ok)
				UPDATE appointments SET type = 'rt-' || substr(md5(random()::text), 1, 8) FROM cl WHERE id = $2 AND cl.ok`, userActor(falseActor), c.Appt1)
			return err
		})
		// A claim for appointments covers appointments only: the users change in the same statement is unattributed.
		t.Run("claim_covers_one_table", func(t *testing.T) {
			ba, bu := image(t, c, "appointments", c.Appt1), image(t, c, "users", c.Patient2)
			m := clinictest.MaxID(t, c.Reviewer)
			must(t, app, `WITH cl AS MATERIALIZED (SELECT auditrepo_claim.claim($1, 'appointments', 'Forged') AS ok),
				u AS (UPDATE users SET last_name = 'Forged' WHERE id = $3 AND (SELECT ok FROM cl) RETURNING id)
				UPDATE appointments SET type = 'rt-cte' FROM cl WHERE id = $2 AND cl.ok`, userActor(falseActor), c.Appt1, c.Patient2)
			rows := clinictest.Since(t, c.Reviewer, m)
			if len(rows) != 2 {
				t.Fatalf("%d audit rows, want 2", len(rows))
			}
			for _, r := range rows {
				if r.TargetTable == "users" {
					trueRow(t, r, want{table: "users", id: c.Patient2, action: "UPDATE", before: bu, after: image(t, c, "users", c.Patient2), role: migrations.Audit.App})
				} else {
					trueRow(t, r, want{table: "appointments", id: c.Appt1, action: "UPDATE", before: ba, after: image(t, c, "appointments", c.Appt1), actor: ptr(falseActor), role: migrations.Audit.App})
				}
			}
		})
	})

	// 7. The audit schema's tables and functions.
	t.Run("07_audit_tables_and_functions", func(t *testing.T) {
		for _, tab := range auditTables {
			try(t, app, denied, "SELECT * FROM "+tab)
		}
		writeAuditTables(t, app)
		// The view the writer role inserts through is the writer's alone.
		writes := migrations.Audit.QualifiedWritesView()
		try(t, app, denied, "SELECT * FROM "+writes)
		try(t, app, denied, "INSERT INTO "+writes+` (actor_kind, actor_id, action, target_table, target_id, patient_id, changes)
			VALUES ('user', 1, 'UPDATE', 'appointments', 1, 1, '{}')`)
		for tab := range keeping {
			try(t, app, denied, "SELECT * FROM "+tab)
		}
		changeKeeping(t, app, false)
		for _, fn := range []string{
			"auditrepo.audit_public_appointments()", "auditrepo.audit_public_users()", "auditrepo.maintain()", "auditrepo.maintain(120)",
			"auditrepo.actor('appointments')", "auditrepo.refuse()", "auditrepo.refuse_truncate()", "auditrepo.record_ddl()",
		} {
			try(t, app, denied, "SELECT "+fn)
		}
	})

	// 8. Temporary objects and objects named like those the generated SQL uses.
	t.Run("08_shadowing_objects", func(t *testing.T) {
		// Each on a connection of its own, closed after it: an accepted temporary object must not shadow the
		// other attacks' tables.
		fresh := func(t *testing.T, sql string) {
			t.Helper()
			conn := dedicated(t, app, nil)
			try(t, conn, denied, sql)
			conn.Close(ctx)
		}
		// The install REVOKEs TEMPORARY from PUBLIC, but a database's privileges are not copied by CREATE
		// DATABASE ... TEMPLATE (how the test databases are made), nor restored by pg_restore without --create.
		var acl, tpl string
		var temp, tplTemp bool
		if err := c.Super.QueryRow(ctx, `SELECT coalesce(d.datacl::text, '(default: PUBLIC has TEMP)'), has_database_privilege('auditrepo_app', d.oid, 'TEMP'),
				coalesce(t.datacl::text, ''), coalesce(has_database_privilege('auditrepo_app', t.oid, 'TEMP'), false)
			FROM pg_database d LEFT JOIN pg_database t ON t.datname = regexp_replace(d.datname, '_inst_[0-9a-f]+$', '')
			WHERE d.datname = current_database()`).Scan(&acl, &temp, &tpl, &tplTemp); err != nil {
			t.Fatal(err)
		}
		t.Logf("this database's ACL %s (app TEMP: %v); its template's ACL %s (app TEMP: %v)", acl, temp, tpl, tplTemp)
		// Every table name the generated SQL uses: the models' tables and the audit schema's, as tables and views.
		names := slices.Clone(clinictest.Tables)
		for _, tab := range auditTables {
			names = append(names, strings.TrimPrefix(tab, "auditrepo."))
		}
		names = append(names, migrations.Audit.WritesView())
		for _, name := range names {
			fresh(t, "CREATE TEMP TABLE "+name+" (id bigint)")
			fresh(t, "CREATE TEMP VIEW "+name+" AS SELECT 1 AS id")
		}
		fresh(t, "CREATE FUNCTION pg_temp.x() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'")
		fresh(t, "CREATE FUNCTION pg_temp.actor(text) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'")
		fresh(t, "CREATE VIEW public.audit_log AS SELECT 1 AS id")
		fresh(t, "CREATE TABLE public.audit_log (id bigint)")
		fresh(t, "CREATE FUNCTION public.actor(text) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'")
		fresh(t, "CREATE FUNCTION public.claim_prefix(text) RETURNS text LANGUAGE sql AS 'SELECT $1'")
		fresh(t, "CREATE FUNCTION public.claim_field(text) RETURNS text LANGUAGE sql AS 'SELECT $1'")
		fresh(t, "CREATE FUNCTION auditrepo.actor(target varchar) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'")
		fresh(t, "CREATE TABLE auditrepo.audit_shadow (id bigint)")
		fresh(t, "CREATE VIEW auditrepo.actor_v AS SELECT 1 AS id")
		// The application role's own schema would come first in "$user", public.
		fresh(t, "CREATE SCHEMA auditrepo_app")
	})

	// 8b. What an accepted temporary table would do: it shadows the unqualified table names of sqlc's statements,
	// which the repository runs verbatim, so a repository write lands in the session's copy: the call succeeds
	// with its claim, the real record is unchanged and the trail has no row. The trail stays true to the real
	// table; the application's own view of what it wrote does not.
	t.Run("08b_temp_table_shadows_repository", func(t *testing.T) {
		conn := dedicated(t, app, nil)
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE appointments AS SELECT * FROM public.appointments"); err != nil {
			refused(t, err, denied, "CREATE TEMP TABLE appointments AS SELECT * FROM public.appointments")
			return
		}
		before, m := image(t, c, "appointments", c.Appt1), clinictest.MaxID(t, c.Reviewer)
		a, err := repoOn(conn).UpdateStatus(c.Ctx, db.UpdateAppointmentStatusParams{ID: c.Appt1, Status: "no_show"})
		if err != nil {
			t.Fatalf("the repository write on the shadowed table: %v", err)
		}
		if a.Status == "no_show" && reflect.DeepEqual(before, image(t, c, "appointments", c.Appt1)) && len(clinictest.Since(t, c.Reviewer, m)) == 0 {
			t.Errorf("ACCEPTED: a temporary table named appointments absorbed a repository UpdateStatus (it returned status %q): the real record is unchanged and no audit row was written", a.Status)
		}
	})

	// 9. COPY FROM STDIN into a PHI table: one unattributed row per row.
	t.Run("09_copy_from", func(t *testing.T) {
		cp := func(t *testing.T, conn interface {
			CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error)
		}, tag string) {
			m := clinictest.MaxID(t, c.Reviewer)
			rows := [][]any{}
			for i := range 3 {
				rows = append(rows, []any{c.Patient1, c.Dentist, pgtype.Date{Time: time.Date(2026, 3, i+1, 0, 0, 0, 0, time.UTC), Valid: true},
					pgtype.Time{Microseconds: 9 * 3600e6, Valid: true}, "rt-copy-" + tag, "scheduled", "copied notes"})
			}
			n, err := conn.CopyFrom(ctx, pgx.Identifier{"appointments"}, []string{"patient_id", "dentist_id", "date", "time", "type", "status", "notes"},
				pgx.CopyFromRows(rows))
			if err != nil {
				t.Fatalf("COPY failed: %v", err)
			}
			if n != 3 {
				t.Fatalf("copied %d rows, want 3", n)
			}
			var ids []int64
			r, err := c.Super.Query(ctx, "SELECT id FROM appointments WHERE type = $1 ORDER BY id", "rt-copy-"+tag)
			if err != nil {
				t.Fatal(err)
			}
			ids, err = pgx.CollectRows(r, pgx.RowTo[int64])
			if err != nil || len(ids) != 3 {
				t.Fatalf("copied appointments %v (%v), want 3", ids, err)
			}
			trail := clinictest.Since(t, c.Reviewer, m)
			if len(trail) != 3 {
				t.Fatalf("SILENCED: %d audit rows for 3 copied rows", len(trail))
			}
			for i, row := range trail {
				trueRow(t, row, want{table: "appointments", id: ids[i], action: "CREATE", after: image(t, c, "appointments", ids[i]), role: migrations.Audit.App})
			}
		}
		t.Run("plain", func(t *testing.T) { cp(t, app, "plain") })
		t.Run("forged_claim", func(t *testing.T) {
			conn := dedicated(t, app, map[string]string{"auditrepo.claim": staleClaim("2001-01-01 00:00:00")})
			must(t, conn, "SELECT set_config('auditrepo.claim', auditrepo_claim.claim_prefix('appointments') || '\"Forged\",user,424242,,,)', false)")
			cp(t, conn, "forged")
		})
	})

	// 10. Switching the audit triggers off, or replacing them.
	t.Run("10_disable_or_replace_triggers", func(t *testing.T) {
		app := dedicated(t, app, nil)
		try(t, app, denied, "ALTER TABLE public.appointments DISABLE TRIGGER audit_update")
		try(t, app, denied, "ALTER TABLE public.appointments DISABLE TRIGGER ALL")
		try(t, app, denied, "ALTER TABLE public.appointments DISABLE TRIGGER USER")
		try(t, app, denied, "ALTER TABLE public.appointments ENABLE REPLICA TRIGGER audit_update")
		try(t, app, denied, "SET session_replication_role = replica")
		try(t, app, denied, "DROP TRIGGER audit_update ON public.appointments")
		try(t, app, denied, "ALTER TRIGGER audit_update ON public.appointments RENAME TO x")
		try(t, app, denied, "CREATE OR REPLACE FUNCTION auditrepo.audit_public_appointments() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$")
		try(t, app, denied, "ALTER FUNCTION auditrepo.audit_public_appointments() OWNER TO auditrepo_app")
		try(t, app, denied, "ALTER FUNCTION auditrepo.actor(text) OWNER TO auditrepo_app")
		try(t, app, denied, "CREATE RULE rt AS ON UPDATE TO public.appointments DO INSTEAD NOTHING")
		try(t, app, denied, "ALTER TABLE public.appointments ENABLE ROW LEVEL SECURITY")
		try(t, app, denied, "ALTER TABLE public.appointments RENAME TO appointments_old")
		try(t, app, denied, "DROP TABLE public.appointments")
		try(t, app, denied, "TRUNCATE public.appointments")
	})

	// 11. Reading the trail: another patient's, and the images of deleted records.
	t.Run("11_read_trail", func(t *testing.T) {
		gone := c.Appointment(t, c.Ctx, db.CreateAppointmentParams{Type: "throwaway"}).ID
		if err := c.R.Appointment.Delete(c.Ctx, gone); err != nil {
			t.Fatal(err)
		}
		try(t, app, denied, "SELECT changes FROM auditrepo.audit_log WHERE patient_id = $1", c.Patient2)
		try(t, app, denied, "SELECT changes->'deleted_record' FROM auditrepo.audit_log WHERE action = 'DELETE' AND target_id = $1", gone)
		try(t, app, denied, "SELECT changes FROM auditrepo.audit_log_default")
		try(t, app, denied, "COPY auditrepo.audit_log TO STDOUT")
		if rows := clinictest.Record(t, c.Reviewer, "appointments", gone); len(rows) != 2 || rows[1].Action != "DELETE" {
			t.Errorf("the deleted appointment's trail, as the reviewer: %+v", rows)
		}
	})

	// 12. The repository itself, with an actor a strict Writer does not record: refused before anything is sent.
	t.Run("12_strict_writer_refuses", func(t *testing.T) {
		bg := context.Background()
		for _, tc := range []struct {
			name string
			ctx  context.Context
			err  error
		}{
			{"no_actor", bg, audit.ErrNoActor},
			{"anonymous", audit.WithActor(bg, audit.Actor{Kind: audit.KindUnknown}), audit.ErrNoActor},
			{"empty_kind", audit.WithActor(bg, audit.Actor{UserID: c.Dentist}), audit.ErrInvalidActor},
			{"kind_unattributed", audit.WithActor(bg, audit.Actor{UserID: c.Dentist, Kind: audit.KindUnattributed}), audit.ErrInvalidActor},
			{"kind_admin", audit.WithActor(bg, audit.Actor{UserID: c.Dentist, Kind: "admin"}), audit.ErrInvalidActor},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before, m := image(t, c, "appointments", c.Appt1), clinictest.MaxID(t, c.Reviewer)
				_, err := c.R.Appointment.UpdateStatus(tc.ctx, db.UpdateAppointmentStatusParams{ID: c.Appt1, Status: "no_show"})
				if !errors.Is(err, tc.err) {
					t.Errorf("UpdateStatus: %v, want %v", err, tc.err)
				}
				if pgtest.SQLState(err) != "" {
					t.Errorf("the refusal came from the server (%v): the statement was sent", err)
				}
				if !reflect.DeepEqual(before, image(t, c, "appointments", c.Appt1)) || len(clinictest.Since(t, c.Reviewer, m)) != 0 {
					t.Error("a refused write changed the record or the trail")
				}
			})
		}
	})

	// 13. Statement shapes that change rows in less common ways: each change still leaves a true row.
	t.Run("13_statement_shapes", func(t *testing.T) {
		t.Run("two_ctes_same_table", func(t *testing.T) {
			b1, b2 := image(t, c, "appointments", c.Appt1), image(t, c, "appointments", c.Appt2)
			m := clinictest.MaxID(t, c.Reviewer)
			must(t, app, `WITH a AS (UPDATE appointments SET type = 'rt-two-1' WHERE id = $1 RETURNING id),
				b AS (UPDATE appointments SET type = 'rt-two-2' WHERE id = $2 RETURNING id) SELECT * FROM a, b`, c.Appt1, c.Appt2)
			rows := clinictest.Since(t, c.Reviewer, m)
			if len(rows) != 2 {
				t.Fatalf("%d audit rows for 2 changed records: %+v", len(rows), rows)
			}
			got := map[int64]clinictest.Row{rows[0].TargetID: rows[0], rows[1].TargetID: rows[1]}
			trueRow(t, got[c.Appt1], want{table: "appointments", id: c.Appt1, action: "UPDATE", before: b1, after: image(t, c, "appointments", c.Appt1), role: migrations.Audit.App})
			trueRow(t, got[c.Appt2], want{table: "appointments", id: c.Appt2, action: "UPDATE", before: b2, after: image(t, c, "appointments", c.Appt2), role: migrations.Audit.App})
		})
		t.Run("merge_update", func(t *testing.T) {
			attack(t, c, nil, func(string) error {
				_, err := app.Exec(ctx, `MERGE INTO appointments a USING (VALUES ($1::bigint)) v(id) ON a.id = v.id
					WHEN MATCHED THEN UPDATE SET type = 'rt-merge-' || substr(md5(random()::text), 1, 8)`, c.Appt1)
				return err
			})
		})
		t.Run("merge_insert_and_delete", func(t *testing.T) {
			gone := c.Appointment(t, c.Ctx, db.CreateAppointmentParams{Type: "throwaway"}).ID
			before := image(t, c, "appointments", gone)
			m := clinictest.MaxID(t, c.Reviewer)
			must(t, app, `MERGE INTO appointments a
				USING (VALUES ($1::bigint), (-1)) v(id) ON a.id = v.id
				WHEN MATCHED THEN DELETE
				WHEN NOT MATCHED THEN INSERT (patient_id, dentist_id, date, time, type) VALUES ($2, $3, '2026-04-01', '09:00', 'rt-merge-new')`,
				gone, c.Patient1, c.Dentist)
			var made int64
			if err := c.Super.QueryRow(ctx, "SELECT id FROM appointments WHERE type = 'rt-merge-new'").Scan(&made); err != nil {
				t.Fatal(err)
			}
			rows := clinictest.Since(t, c.Reviewer, m)
			if len(rows) != 2 {
				t.Fatalf("%d audit rows for a MERGE that created one record and deleted one: %+v", len(rows), rows)
			}
			for _, r := range rows {
				if r.Action == "DELETE" {
					trueRow(t, r, want{table: "appointments", id: gone, action: "DELETE", before: before, role: migrations.Audit.App})
				} else {
					trueRow(t, r, want{table: "appointments", id: made, action: "CREATE", after: image(t, c, "appointments", made), role: migrations.Audit.App})
				}
			}
		})
		t.Run("upsert_on_conflict_update", func(t *testing.T) {
			attack(t, c, nil, func(string) error {
				_, err := app.Exec(ctx, `INSERT INTO appointments (id, patient_id, dentist_id, date, time, type)
					OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, '2026-01-05', '09:00', 'x')
					ON CONFLICT (id) DO UPDATE SET type = 'rt-upsert-' || substr(md5(random()::text), 1, 8)`, c.Appt1, c.Patient1, c.Dentist)
				return err
			})
		})
		// A chosen id, perhaps one a deleted record had: a CREATE row with the real image.
		t.Run("insert_overriding_system_value", func(t *testing.T) {
			m := clinictest.MaxID(t, c.Reviewer)
			must(t, app, `INSERT INTO appointments (id, patient_id, dentist_id, date, time, type)
				OVERRIDING SYSTEM VALUE VALUES (900001, $1, $2, '2026-01-05', '09:00', 'rt-chosen-id')`, c.Patient2, c.Dentist)
			rows := clinictest.Since(t, c.Reviewer, m)
			if len(rows) != 1 {
				t.Fatalf("%d audit rows, want 1", len(rows))
			}
			trueRow(t, rows[0], want{table: "appointments", id: 900001, action: "CREATE", after: image(t, c, "appointments", 900001), role: migrations.Audit.App})
		})
		// An invoice deleted in the statement that deletes its appointment, through which its patient is found: its
		// audit row could name no patient, and the patient's trail would miss the deletion. Refused, and nothing
		// changes. (ON DELETE CASCADE or SET NULL would do the same; installing refuses such a foreign key.)
		t.Run("delete_dependent_with_its_hop_row", func(t *testing.T) {
			appt := c.Appointment(t, c.Ctx, db.CreateAppointmentParams{Type: "throwaway"}).ID
			var inv int64
			if err := app.QueryRow(ctx, `INSERT INTO invoices (appointment_id, amount, status, due_date)
				VALUES ($1, 5, 'open', '2026-01-05') RETURNING id`, appt).Scan(&inv); err != nil {
				t.Fatal(err)
			}
			m := clinictest.MaxID(t, c.Reviewer)
			try(t, app, "23503 a row of public.appointments it finds its patient through is gone",
				`WITH d AS (DELETE FROM invoices WHERE id = $1 RETURNING 1) DELETE FROM appointments WHERE id = $2`, inv, appt)
			var left int
			if err := c.Super.QueryRow(ctx, `SELECT (SELECT count(*) FROM invoices WHERE id = $1) + (SELECT count(*) FROM appointments WHERE id = $2)`,
				inv, appt).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if rows := clinictest.Since(t, c.Reviewer, m); left != 2 || len(rows) != 0 {
				t.Errorf("a refused statement left %d of the 2 rows and wrote audit rows %+v", left, rows)
			}
		})
		// An appointment's id given, in one statement, to a new appointment of another patient, its invoices
		// following with no audit row of theirs: the foreign key is ON UPDATE / ON DELETE RESTRICT (installing
		// requires it), which refuses both forms even though the id exists again at the statement's end.
		t.Run("hand_a_hop_id_to_another_row", func(t *testing.T) {
			appt := c.Appointment(t, c.Ctx, db.CreateAppointmentParams{Type: "throwaway"}).ID
			if _, err := app.Exec(ctx, `INSERT INTO invoices (appointment_id, amount, status, due_date) VALUES ($1, 5, 'open', '2026-01-05')`, appt); err != nil {
				t.Fatal(err)
			}
			m := clinictest.MaxID(t, c.Reviewer)
			const reinsert = `INSERT INTO appointments (id, patient_id, dentist_id, clinic_id, date, time, type, status, notes)
				OVERRIDING SYSTEM VALUE SELECT $1, $2, dentist_id, clinic_id, date, time, type, status, notes FROM u`
			try(t, app, "23503", `WITH u AS (UPDATE appointments SET id = DEFAULT WHERE id = $1 RETURNING *) `+reinsert, appt, c.Patient2)
			try(t, app, "23503", `WITH u AS (DELETE FROM appointments WHERE id = $1 RETURNING *) `+reinsert, appt, c.Patient2)
			if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 0 {
				t.Errorf("refused statements wrote audit rows %+v", rows)
			}
		})
		// The same with a patient: re-keyed, or deleted, and their id given to another user in the same statement
		// would hand every record of theirs to that user with no audit row of the records'. The keys of patient
		// columns are ON UPDATE / ON DELETE RESTRICT (installing requires it), which refuses both forms.
		t.Run("hand_a_patient_id_to_another_user", func(t *testing.T) {
			m := clinictest.MaxID(t, c.Reviewer)
			const reinsert = `INSERT INTO users (id, username, email, password, user_type, first_name, last_name)
				OVERRIDING SYSTEM VALUE SELECT $1, 'rt-mallory', 'm@evil.example', 'pw', 'patient', 'Mallory', 'Evil' FROM u`
			try(t, app, "23503", `WITH u AS (UPDATE users SET id = DEFAULT WHERE id = $1 RETURNING *) `+reinsert, c.Patient1)
			try(t, app, "23503", `WITH u AS (DELETE FROM users WHERE id = $1 RETURNING *) `+reinsert, c.Patient1)
			if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 0 {
				t.Errorf("refused statements wrote audit rows %+v", rows)
			}
		})
		// A new id for an existing record: two UPDATE halves, each with its true side; both in the patient's trail.
		t.Run("rekey_identity", func(t *testing.T) {
			old := c.Appointment(t, c.Ctx, db.CreateAppointmentParams{Type: "throwaway"}).ID
			before := image(t, c, "appointments", old)
			m := clinictest.MaxID(t, c.Reviewer)
			var moved int64
			if err := app.QueryRow(ctx, "UPDATE appointments SET id = DEFAULT WHERE id = $1 RETURNING id", old).Scan(&moved); err != nil {
				t.Fatal(err)
			}
			rows := clinictest.Since(t, c.Reviewer, m)
			if len(rows) != 2 {
				t.Fatalf("%d audit rows for a re-keyed record, want 2: %+v", len(rows), rows)
			}
			for _, r := range rows {
				if r.TargetID == old {
					trueRow(t, r, want{table: "appointments", id: old, action: "UPDATE", before: before, role: migrations.Audit.App})
				} else {
					trueRow(t, r, want{table: "appointments", id: moved, action: "UPDATE", after: image(t, c, "appointments", moved), role: migrations.Audit.App})
				}
			}
			n := 0
			for _, r := range clinictest.Patient(t, c.Reviewer, c.Patient1) {
				if r.ID > m {
					n++
				}
			}
			if n != 2 {
				t.Errorf("the patient's trail has %d of the 2 re-key rows", n)
			}
		})
	})

	// 14. An excluded field carried into ddl_log: a GRANT the application has no grant option for grants nothing,
	// but fires the event trigger, whose row would keep the whole client message, the UPDATE before it included.
	t.Run("14_excluded_field_in_ddl_log", func(t *testing.T) {
		dm := ddlMark(t, c)
		must(t, app, fmt.Sprintf("UPDATE users SET password = 'hunter2-plaintext' WHERE id = %d; GRANT SELECT ON users TO auditrepo_app", c.Patient2))
		ddl := ddlSince(t, c, dm)
		if !slices.ContainsFunc(ddl, func(d ddlRow) bool { return d.CommandTag == "GRANT" && d.DBRole == migrations.Audit.App }) {
			t.Errorf("the application's GRANT is not in ddl_log: %+v", ddl)
		}
		for _, d := range ddl {
			if strings.Contains(fmt.Sprint(d), "hunter2") {
				t.Errorf("FINDING: ddl_log holds the excluded password the application sent with its GRANT: %+v", d)
			}
		}
	})
}

// ---------------------------------------------------------------------------------------------------------
// The owner's credentials: a login member of auditrepo_owner, which owns the clinic's tables.

// ddlRow is one row of auditrepo.ddl_log.
type ddlRow struct {
	CommandTag, ObjectType, ObjectIdentity, DBRole, ActingRole, Statement, Triggers string
}

func ddlSince(t *testing.T, c *clinictest.Clinic, after int64) []ddlRow {
	t.Helper()
	rows, err := c.Reviewer.Query(context.Background(), `SELECT command_tag, coalesce(object_type, ''), coalesce(object_identity, ''), db_role,
		acting_role, coalesce(statement, ''), coalesce(triggers, '')
		FROM auditrepo.ddl_log WHERE id > $1 ORDER BY id`, after)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ddlRow])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rolledBack begins a transaction on db that is rolled back when t ends: what an attack leaves is undone.
func rolledBack(t *testing.T, db *pgxpool.Pool) pgx.Tx {
	t.Helper()
	tx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	return tx
}

func ddlMark(t *testing.T, c *clinictest.Clinic) int64 {
	t.Helper()
	var m int64
	if err := c.Reviewer.QueryRow(context.Background(), "SELECT coalesce(max(id), 0) FROM auditrepo.ddl_log").Scan(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRedTeamOwner(t *testing.T) {
	c := clinictest.New(t)
	ctx := context.Background()
	owner := c.Owner

	t.Run("write_audit_tables", func(t *testing.T) {
		for _, tab := range auditTables {
			if tab != "auditrepo.schema_version" { // which revision is installed: auditrepo retention checks it
				try(t, owner, denied, "SELECT * FROM "+tab)
			}
		}
		writeAuditTables(t, owner)
		changeKeeping(t, owner, false)
	})

	t.Run("replace_trigger_function", func(t *testing.T) {
		try(t, owner, denied, "CREATE OR REPLACE FUNCTION auditrepo.audit_public_appointments() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$")
		try(t, owner, denied, "ALTER FUNCTION auditrepo.audit_public_appointments() OWNER TO auditrepo_owner")
		try(t, owner, denied, "CREATE OR REPLACE FUNCTION auditrepo.actor(target text) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'")
		try(t, owner, denied, "ALTER TABLE auditrepo.audit_log DISABLE TRIGGER refuse_update_delete")
		try(t, owner, denied, "ALTER TABLE auditrepo.audit_log DISABLE TRIGGER ALL")
		try(t, owner, denied, "DROP EVENT TRIGGER auditrepo_ddl_end")
		try(t, owner, denied, "ALTER EVENT TRIGGER auditrepo_ddl_end DISABLE")
		try(t, owner, denied, "SET session_replication_role = replica")
	})

	// The table owner may disable its audit triggers: PostgreSQL gives the owner that. What the design promises
	// is that it shows: each ALTER TABLE is a row of auditrepo.ddl_log, which the owner cannot remove. The rows
	// changed while the trigger was disabled are NOT in the trail; the gap between the DISABLE and the ENABLE
	// rows of ddl_log is where a reviewer must look.
	t.Run("disable_audit_trigger_is_recorded", func(t *testing.T) {
		dm, m := ddlMark(t, c), clinictest.MaxID(t, c.Reviewer)
		must(t, owner, "ALTER TABLE appointments DISABLE TRIGGER audit_update")
		must(t, owner, "UPDATE appointments SET type = 'rt-while-disabled' WHERE id = $1", c.Appt1)
		must(t, owner, "ALTER TABLE appointments ENABLE TRIGGER audit_update")
		if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 0 {
			t.Errorf("the change made while the trigger was disabled is in the trail: %+v", rows)
		}
		ddl := ddlSince(t, c, dm)
		if len(ddl) != 2 {
			t.Fatalf("ddl_log has %d rows for DISABLE and ENABLE, want 2: %+v", len(ddl), ddl)
		}
		for i, verb := range []string{"DISABLE TRIGGER", "ENABLE TRIGGER"} {
			d := ddl[i]
			if d.CommandTag != "ALTER TABLE" || d.ObjectIdentity != "public.appointments" || d.DBRole != testdb.OwnerLogin || d.ActingRole != testdb.OwnerLogin || !strings.Contains(d.Statement, verb) {
				t.Errorf("ddl_log row %d: %+v, want ALTER TABLE of public.appointments by %s, statement %s", i, d, testdb.OwnerLogin, verb)
			}
		}
		if !strings.Contains(ddl[0].Triggers, "audit_update disabled") || !strings.Contains(ddl[1].Triggers, "audit_update enabled") {
			t.Errorf("ddl_log's triggers after DISABLE and ENABLE: %q, %q", ddl[0].Triggers, ddl[1].Triggers)
		}
		// Run by EXECUTE in a DO block, the statement names no trigger: the row still says what it did to them.
		dm = ddlMark(t, c)
		must(t, owner, `DO $$ BEGIN EXECUTE 'ALTER TABLE appointments DISABLE TRIGGER ' || 'audit_delete'; END $$`)
		must(t, owner, "ALTER TABLE appointments ENABLE TRIGGER audit_delete")
		if ddl := ddlSince(t, c, dm); len(ddl) != 2 || !strings.Contains(ddl[0].Triggers, "audit_delete disabled") || strings.Contains(ddl[0].Statement, "DISABLE TRIGGER audit_delete") {
			t.Errorf("ddl_log for a DISABLE run in a DO block: %+v, want its triggers column to name audit_delete disabled", ddl)
		}
		// Enabled again: the owner's own raw writes are unattributed true rows.
		before, m := image(t, c, "appointments", c.Appt1), clinictest.MaxID(t, c.Reviewer)
		must(t, owner, "UPDATE appointments SET type = 'rt-owner' WHERE id = $1", c.Appt1)
		rows := clinictest.Since(t, c.Reviewer, m)
		if len(rows) != 1 {
			t.Fatalf("%d audit rows, want 1", len(rows))
		}
		trueRow(t, rows[0], want{table: "appointments", id: c.Appt1, action: "UPDATE", before: before, after: image(t, c, "appointments", c.Appt1), role: testdb.OwnerLogin})
	})

	// A rule is DDL on the audited table as a trigger is, and the owner may create one. With an ALSO action,
	// which for UPDATE runs before the UPDATE and in the same statement, it sets the claim for the
	// application's raw writes: their rows name an actor the owner chose (a claim cannot be made unforgeable
	// against the owner: a rule could as well call auditrepo_claim.claim, which runs with the application's
	// EXECUTE). Like DISABLE TRIGGER, it is an owner's power the design can only make visible: the rule must
	// be a row of ddl_log, created and dropped, and the images stay true.
	t.Run("rule_forging_claims_is_recorded", func(t *testing.T) {
		dm := ddlMark(t, c)
		must(t, owner, `CREATE RULE rt_forge AS ON UPDATE TO appointments DO ALSO
			SELECT set_config('auditrepo.claim', '("' || timezone('UTC', statement_timestamp())::text
				|| '","appointments",,user,424242,,,)', true)`)
		t.Cleanup(func() { c.Super.Exec(context.Background(), "DROP RULE IF EXISTS rt_forge ON appointments") })
		// The application's raw write: a true row, with the owner's false actor.
		attack(t, c, ptr(falseActor), func(write string) error { _, err := c.App.Exec(ctx, write); return err })
		must(t, owner, "DROP RULE rt_forge ON appointments")
		ddl := ddlSince(t, c, dm)
		for _, tag := range []string{"CREATE RULE", "DROP RULE"} {
			if !slices.ContainsFunc(ddl, func(d ddlRow) bool {
				return d.CommandTag == tag && d.ObjectType == "rule" && d.ObjectIdentity == "rt_forge on public.appointments"
			}) {
				t.Errorf("FINDING: %s rt_forge ON appointments is not in ddl_log: %+v", tag, ddl)
			}
		}
	})

	// The owner may create objects in public (migration 00005 grants it, for ALTER TABLE ... OWNER TO). Functions
	// and an operator there named as the claim's and the triggers' are never reached, even by an application
	// session that puts public before pg_catalog: the generated statements name auditrepo_claim.claim, the SQL-body
	// functions bound their names when installed, and the triggers pin their search_path. Raw writes stay
	// unattributed true rows, the repository's keep their actor.
	t.Run("shadow_claim_functions_in_public", func(t *testing.T) {
		forged := fmt.Sprintf(`("x","appointments","Forged",%s`, forgedActor)
		for _, sql := range []string{
			"CREATE FUNCTION public.claim(text, text, text) RETURNS boolean LANGUAGE sql RETURN true",
			"CREATE FUNCTION public.starts_with(text, text) RETURNS boolean LANGUAGE sql RETURN true",
			"CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE sql RETURN " + sqltext.Literal(forged),
			"CREATE FUNCTION public.set_config(text, text, boolean) RETURNS text LANGUAGE sql RETURN NULL",
			"CREATE FUNCTION public.timezone(text, timestamptz) RETURNS timestamp LANGUAGE sql RETURN NULL::timestamp",
			"CREATE FUNCTION public.rt_cat(text, text) RETURNS text LANGUAGE sql RETURN " + sqltext.Literal(forged),
			"CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = public.rt_cat)",
		} {
			must(t, owner, sql)
		}
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), `DROP OPERATOR IF EXISTS public.|| (text, text); DROP FUNCTION IF EXISTS
				public.claim(text, text, text), public.starts_with(text, text), public.current_setting(text, boolean), public.set_config(text, text, boolean),
				public.timezone(text, timestamptz), public.rt_cat(text, text)`)
		})
		app := dedicated(t, c.App, map[string]string{"search_path": "public, pg_catalog"})
		attack(t, c, nil, func(write string) error { _, err := app.Exec(ctx, write); return err })
		m := clinictest.MaxID(t, c.Reviewer)
		if _, err := repo.NewAppointmentRepo(app).UpdateStatus(c.Ctx, db.UpdateAppointmentStatusParams{ID: c.Appt1, Status: "confirmed"}); err != nil {
			t.Fatalf("a repository write: %v", err)
		}
		rows := clinictest.Since(t, c.Reviewer, m)
		if len(rows) != 1 || rows[0].ActorID == nil || *rows[0].ActorID != c.Actor.UserID || rows[0].Method == nil || *rows[0].Method != "AppointmentRepo.UpdateStatus" {
			t.Errorf("the repository's write under the owner's shadowing functions: %+v, want one row by user %d", rows, c.Actor.UserID)
		}
	})

	// Row-level security on appointments, which the owner may enable: the invoices trigger finds an invoice's
	// patient through its appointment, as the writer role, which RLS then filters. The ALTER TABLE shows in
	// ddl_log; the policy must too, and the invoice's row must still name its patient.
	t.Run("row_level_security_hides_patient", func(t *testing.T) {
		dm := ddlMark(t, c)
		must(t, owner, "ALTER TABLE appointments ENABLE ROW LEVEL SECURITY")
		must(t, owner, "CREATE POLICY rt_app ON appointments TO auditrepo_app USING (true) WITH CHECK (true)")
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP POLICY IF EXISTS rt_app ON appointments")
			c.Super.Exec(context.Background(), "ALTER TABLE appointments DISABLE ROW LEVEL SECURITY")
		})
		ddl := ddlSince(t, c, dm)
		var tags []string
		for _, d := range ddl {
			tags = append(tags, d.CommandTag+" "+d.ObjectType+" "+d.ObjectIdentity)
		}
		if !slices.ContainsFunc(ddl, func(d ddlRow) bool { return d.CommandTag == "ALTER TABLE" && d.ObjectIdentity == "public.appointments" }) {
			t.Errorf("ENABLE ROW LEVEL SECURITY is not in ddl_log: %v", tags)
		}
		if !slices.ContainsFunc(ddl, func(d ddlRow) bool { return d.CommandTag == "CREATE POLICY" }) {
			t.Errorf("FINDING: CREATE POLICY rt_app ON appointments is not in ddl_log: %v", tags)
		}
		m := clinictest.MaxID(t, c.Reviewer)
		inv, err := repo.NewInvoiceRepo(c.App).Create(c.Ctx, db.CreateInvoiceParams{
			AppointmentID: c.Appt1, Amount: pgtype.Numeric{Int: big.NewInt(1000), Exp: -2, Valid: true}, Status: "open",
			DueDate: pgtype.Date{Time: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Valid: true},
		})
		if err != nil {
			t.Fatalf("creating an invoice under RLS: %v", err)
		}
		rows := clinictest.Since(t, c.Reviewer, m)
		if len(rows) != 1 || rows[0].TargetID != inv.ID || rows[0].PatientID == nil || *rows[0].PatientID != c.Patient1 {
			var p any
			if len(rows) == 1 {
				p = deref(rows[0].PatientID)
			}
			t.Errorf("FINDING: under RLS on appointments the invoice's audit row names patient %v, want %d (%d rows): it is missing from the patient's trail", p, c.Patient1, len(rows))
		}
	})

	// Statement triggers fire for the table a statement names: made a partition of another table (or a parent or
	// child by inheritance), an audited table's rows would change through the other one with no audit row. The
	// event trigger refuses each form, and the data stays writable only through the audited table.
	t.Run("partition_or_inherit_refused", func(t *testing.T) {
		must(t, owner, "CREATE TABLE public.rt_parted (LIKE public.dental_records INCLUDING DEFAULTS) PARTITION BY RANGE (id)")
		must(t, owner, "CREATE TABLE public.rt_parent (LIKE public.dental_records)")
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP TABLE IF EXISTS public.rt_parted, public.rt_parent, public.rt_child")
		})
		for _, sql := range []string{
			"ALTER TABLE public.rt_parted ATTACH PARTITION public.dental_records FOR VALUES FROM (MINVALUE) TO (MAXVALUE)",
			"ALTER TABLE public.dental_records INHERIT public.rt_parent",
			"CREATE TABLE public.rt_child () INHERITS (public.dental_records)",
		} {
			try(t, owner, "0A000", sql)
		}
		var kin int
		if err := c.Super.QueryRow(ctx, "SELECT count(*) FROM pg_inherits WHERE 'public.dental_records'::regclass IN (inhrelid, inhparent)").Scan(&kin); err != nil || kin != 0 {
			t.Errorf("dental_records takes part in %d inheritance links (%v), want 0", kin, err)
		}
		// A link made with the event trigger off (or before it was installed) refuses only the commands on its
		// tables, not every other DDL of the database.
		must(t, c.Super, "ALTER EVENT TRIGGER auditrepo_ddl_end DISABLE")
		must(t, c.Super, "ALTER TABLE public.dental_records INHERIT public.rt_parent")
		must(t, c.Super, "ALTER EVENT TRIGGER auditrepo_ddl_end ENABLE")
		must(t, owner, "CREATE TABLE public.rt_unrelated (id bigint)")
		must(t, owner, "DROP TABLE public.rt_unrelated")
		try(t, owner, "0A000", "ALTER TABLE public.rt_parent ADD COLUMN rt_extra int")
		must(t, c.Super, "ALTER TABLE public.dental_records NO INHERIT public.rt_parent")
	})

	// A trigger of the owner's own on an audited table is recorded when created; replacing the function it runs
	// (which could then write other rows under the repository's claim) must be recorded too, and so must granting
	// another role the privilege to add triggers.
	t.Run("replace_own_trigger_function_is_recorded", func(t *testing.T) {
		must(t, owner, "CREATE FUNCTION public.rt_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$")
		must(t, owner, "CREATE TRIGGER rt_touch BEFORE UPDATE ON appointments FOR EACH ROW EXECUTE FUNCTION public.rt_touch()")
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP TRIGGER IF EXISTS rt_touch ON appointments; DROP FUNCTION IF EXISTS public.rt_touch()")
		})
		dm := ddlMark(t, c)
		must(t, owner, "CREATE OR REPLACE FUNCTION public.rt_touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN NEW.type := 'piggybacked'; RETURN NEW; END$$")
		must(t, owner, "ALTER FUNCTION public.rt_touch() SET search_path = public")
		must(t, owner, "GRANT TRIGGER ON appointments TO auditrepo_app")
		must(t, owner, "REVOKE TRIGGER ON appointments FROM auditrepo_app")
		ddl := ddlSince(t, c, dm)
		for _, verb := range []string{"GRANT TRIGGER", "REVOKE TRIGGER"} {
			if !slices.ContainsFunc(ddl, func(d ddlRow) bool { return strings.HasPrefix(d.Statement, verb) && d.DBRole == testdb.OwnerLogin }) {
				t.Errorf("%s ON appointments is not in ddl_log: %+v", verb, ddl)
			}
		}
		for _, tag := range []string{"CREATE FUNCTION", "ALTER FUNCTION"} {
			if !slices.ContainsFunc(ddl, func(d ddlRow) bool { return d.CommandTag == tag && d.ObjectIdentity == "public.rt_touch()" }) {
				t.Errorf("%s public.rt_touch() is not in ddl_log: %+v", tag, ddl)
			}
		}
	})

	// Every command of a role that is no superuser is recorded, as whom it runs: one a function of the owner's,
	// SECURITY DEFINER, runs when a superuser's write fires the owner's trigger on a table of its own is the owner's
	// (it replaces a function audited writes may call), and so is rebinding an operator such a function uses to
	// another function, which changes no function at all.
	t.Run("owner_commands_recorded_whoever_runs_them", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), `DROP TABLE IF EXISTS public.rt_settings; DROP FUNCTION IF EXISTS public.rt_hook(), public.rt_swapped(), public.rt_forge();
				DROP OPERATOR IF EXISTS public.### (integer, integer); DROP FUNCTION IF EXISTS public.rt_op(integer, integer)`)
		})
		must(t, owner, "CREATE TABLE public.rt_settings (k text)")
		must(t, owner, `CREATE FUNCTION public.rt_hook() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
			BEGIN CREATE OR REPLACE FUNCTION public.rt_swapped() RETURNS integer LANGUAGE sql AS 'SELECT 2'; RETURN NULL; END$$`)
		must(t, owner, "CREATE TRIGGER rt_hook AFTER INSERT ON public.rt_settings FOR EACH STATEMENT EXECUTE FUNCTION public.rt_hook()")
		must(t, owner, "CREATE FUNCTION public.rt_op(integer, integer) RETURNS integer LANGUAGE sql AS 'SELECT 0'")
		dm := ddlMark(t, c)
		must(t, c.Super, "INSERT INTO public.rt_settings VALUES ('x')")
		must(t, owner, "CREATE OPERATOR public.### (leftarg = integer, rightarg = integer, function = public.rt_op)")
		// Code of its own run inside its own command (a CHECK it adds) cannot pass the command off as a superuser's,
		// by a setting or by calling the recording function itself naming another role: the command's row names
		// its own.
		must(t, owner, `CREATE FUNCTION public.rt_forge() RETURNS integer LANGUAGE plpgsql AS $$
			BEGIN
				PERFORM set_config('auditrepo.ddl_role', 'auditrepo_migrator', true);
				PERFORM auditrepo_ddl.record_ddl_as('ddl_command_end', 'ALTER TABLE', 'auditrepo_migrator');
				RETURN 1;
			END$$`)
		must(t, owner, "ALTER TABLE public.rt_settings ADD CONSTRAINT rt_forged CHECK (public.rt_forge() = 1)")
		ddl := ddlSince(t, c, dm)
		for _, want := range []ddlRow{
			{CommandTag: "CREATE FUNCTION", ObjectIdentity: "public.rt_swapped()", DBRole: "auditrepo_migrator", ActingRole: testdb.OwnerLogin},
			{CommandTag: "CREATE OPERATOR", ObjectIdentity: "public.###(integer,integer)", DBRole: testdb.OwnerLogin, ActingRole: testdb.OwnerLogin},
			{CommandTag: "ALTER TABLE", ObjectIdentity: "public.rt_settings", DBRole: testdb.OwnerLogin, ActingRole: testdb.OwnerLogin},
		} {
			if !slices.ContainsFunc(ddl, func(d ddlRow) bool {
				return d.CommandTag == want.CommandTag && d.ObjectIdentity == want.ObjectIdentity && d.DBRole == want.DBRole && d.ActingRole == want.ActingRole
			}) {
				t.Errorf("ddl_log lacks %s %s by %s as %s: %+v", want.CommandTag, want.ObjectIdentity, want.DBRole, want.ActingRole, ddl)
			}
		}
	})

	// A role that is none of the audit schema's (another application's, say) still runs its DDL, recorded as its
	// own: the event trigger function runs as whoever runs the command.
	t.Run("other_roles_ddl_recorded", func(t *testing.T) {
		other := "rt_other_app_" + strings.ToLower(rand.Text()[:8]) // roles are the server's: one per run
		must(t, c.Super, "DO $$BEGIN CREATE ROLE "+other+" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$")
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP SCHEMA IF EXISTS rt_other CASCADE; DROP ROLE IF EXISTS "+other)
		})
		must(t, c.Super, "CREATE SCHEMA rt_other AUTHORIZATION "+other)
		dm := ddlMark(t, c)
		tx := rolledBack(t, c.Super)
		must(t, tx, "SET LOCAL ROLE "+other)
		must(t, tx, "CREATE TABLE rt_other.t (x int)")
		must(t, tx, "RESET ROLE")
		var rows int
		if err := tx.QueryRow(context.Background(), "SELECT count(*) FROM auditrepo.ddl_log WHERE id > $1 AND acting_role = $2 AND object_identity = 'rt_other.t'", dm, other).Scan(&rows); err != nil || rows != 1 {
			t.Errorf("%d ddl_log rows for %s's CREATE TABLE (%v), want 1", rows, other, err)
		}
	})

	// Code of the owner's that runs inside the application's writes without being an audit trigger's function: a
	// column default of an audited table, and a helper its own trigger function calls. It writes under the
	// statement's claim (a real user's, through a repository), so every change to any function or procedure of a
	// role that is no superuser must be in ddl_log, whatever PostgreSQL records it depends on.
	t.Run("swap_code_run_by_writes_is_recorded", func(t *testing.T) {
		must(t, c.Super, "CREATE SCHEMA rt_moved AUTHORIZATION auditrepo_owner")
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), `ALTER TABLE dental_records ALTER COLUMN created_at SET DEFAULT now();
				DROP TRIGGER IF EXISTS rt_calls ON dental_records; DROP SCHEMA rt_moved CASCADE;
				DROP FUNCTION IF EXISTS public.rt_now(), public.rt_calls(), public.rt_helper(); DROP PROCEDURE IF EXISTS public.rt_proc()`)
		})
		first, err := c.R.DentalRecord.Create(c.Ctx, db.CreateDentalRecordParams{PatientID: c.Patient1, DentistID: c.Dentist, Diagnosis: "caries"})
		if err != nil {
			t.Fatal(err)
		}
		must(t, owner, "CREATE FUNCTION public.rt_now() RETURNS timestamptz LANGUAGE plpgsql AS $$BEGIN RETURN now(); END$$")
		must(t, owner, "ALTER TABLE dental_records ALTER COLUMN created_at SET DEFAULT public.rt_now()")
		must(t, owner, "CREATE FUNCTION public.rt_helper() RETURNS void LANGUAGE plpgsql AS $$BEGIN END$$")
		must(t, owner, "CREATE FUNCTION public.rt_calls() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM public.rt_helper(); RETURN NULL; END$$")
		must(t, owner, "CREATE TRIGGER rt_calls AFTER INSERT ON dental_records FOR EACH STATEMENT EXECUTE FUNCTION public.rt_calls()")
		dm := ddlMark(t, c)
		frame := fmt.Sprintf("UPDATE public.dental_records SET diagnosis = 'framed' WHERE id = %d", first.ID)
		steps := []struct{ sql, tag, identity string }{
			{"CREATE OR REPLACE FUNCTION public.rt_now() RETURNS timestamptz LANGUAGE plpgsql AS $$BEGIN " + frame + "; RETURN now(); END$$",
				"CREATE FUNCTION", "public.rt_now()"},
			{"CREATE OR REPLACE FUNCTION public.rt_helper() RETURNS void LANGUAGE plpgsql AS $$BEGIN " + frame + "; END$$",
				"CREATE FUNCTION", "public.rt_helper()"},
			{"ALTER FUNCTION public.rt_helper() SECURITY DEFINER", "ALTER FUNCTION", "public.rt_helper()"},
			{"ALTER FUNCTION public.rt_helper() OWNER TO auditrepo_owner", "ALTER FUNCTION", "public.rt_helper()"},
			{"CREATE PROCEDURE public.rt_proc() LANGUAGE sql AS 'SELECT 1'", "CREATE PROCEDURE", "public.rt_proc()"},
			{"ALTER PROCEDURE public.rt_proc() RENAME TO rt_proc2", "ALTER PROCEDURE", "public.rt_proc2()"},
			{"ALTER PROCEDURE public.rt_proc2() SET SCHEMA rt_moved", "ALTER PROCEDURE", "rt_moved.rt_proc2()"},
			{"DROP PROCEDURE rt_moved.rt_proc2()", "DROP PROCEDURE", "rt_moved.rt_proc2()"},
		}
		for _, s := range steps {
			must(t, owner, s.sql)
		}
		ddl := ddlSince(t, c, dm)
		for i, s := range steps {
			if !slices.ContainsFunc(ddl, func(d ddlRow) bool {
				return d.CommandTag == s.tag && d.ObjectIdentity == s.identity && d.DBRole == testdb.OwnerLogin && d.Statement == s.sql
			}) {
				t.Errorf("FINDING: step %d, %s %s, is not in ddl_log with its statement: %+v", i, s.tag, s.identity, ddl)
			}
		}
		// What the swap does: a genuine repository write runs the default and the trigger, whose UPDATEs of
		// another record are recorded, true rows, under the write's claim.
		m := clinictest.MaxID(t, c.Reviewer)
		if _, err := c.R.DentalRecord.Create(c.Ctx, db.CreateDentalRecordParams{PatientID: c.Patient1, DentistID: c.Dentist, Diagnosis: "sealant"}); err != nil {
			t.Fatal(err)
		}
		rows := clinictest.Since(t, c.Reviewer, m)
		if !slices.ContainsFunc(rows, func(r clinictest.Row) bool {
			return r.Action == "UPDATE" && r.TargetID == first.ID && r.ActorID != nil && *r.ActorID == c.Actor.UserID
		}) {
			t.Errorf("the owner's framed UPDATE: %v, want a row of dental record %d under user %d's claim", rows, first.ID, c.Actor.UserID)
		}
	})

	// to_jsonb and ::text look casts up by type, whatever the search_path: a cast's function would run in the
	// audit triggers as the writer role (the next test shows what it could do).
	t.Run("cast_function_refused", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP TYPE IF EXISTS public.rt_mood CASCADE")
		})
		must(t, owner, "CREATE TYPE public.rt_mood AS ENUM ('calm', 'tense')")
		must(t, owner, "CREATE FUNCTION public.rt_mood_json(v public.rt_mood) RETURNS json LANGUAGE sql AS $$SELECT to_json(v::text)$$")
		try(t, owner, denied, "CREATE CAST (public.rt_mood AS json) WITH FUNCTION public.rt_mood_json(public.rt_mood)")
		// A cast that runs no function of the owner's is no way in.
		must(t, owner, "CREATE CAST (public.rt_mood AS int) WITH INOUT")
		// One made while the event trigger was off: installing the models refuses it.
		must(t, c.Super, "ALTER EVENT TRIGGER auditrepo_ddl_end DISABLE")
		must(t, owner, "CREATE CAST (public.rt_mood AS json) WITH FUNCTION public.rt_mood_json(public.rt_mood)")
		must(t, c.Super, "ALTER EVENT TRIGGER auditrepo_ddl_end ENABLE")
		var what string
		err := c.Super.QueryRow(ctx, "SELECT string_agg(what, '; ') FROM auditrepo.model_problems('[]', 'auditrepo_owner', 'auditrepo_app')").Scan(&what)
		if err != nil || !strings.Contains(what, "the cast from public.rt_mood to json runs function public.rt_mood_json(public.rt_mood), owned by "+testdb.OwnerLogin) {
			t.Errorf("model_problems with the owner's cast: %q (%v)", what, err)
		}
		// Nor may its function be replaced now.
		try(t, owner, denied, "CREATE OR REPLACE FUNCTION public.rt_mood_json(v public.rt_mood) RETURNS json LANGUAGE sql AS $$SELECT to_json('x'::text)$$")
	})

	// Were a way left for the owner's code to run in a trigger function, it would run as the writer role, which
	// may add audit rows and nothing more. Planted as only a superuser now can (the event trigger off, an audited
	// column retyped to the owner's enum, whose cast to json, which to_jsonb looks up, runs the owner's function),
	// that code tries to erase the trail and undo its guards, each attempt in a block of its own, and notes as whom
	// it ran and what the server said: every attempt is refused, and the write's own audit row is still written.
	t.Run("code_in_trigger_function_cannot_erase", func(t *testing.T) {
		tx := rolledBack(t, c.Super)
		attacks := []string{
			"DELETE FROM auditrepo.audit_log",
			"UPDATE auditrepo.audit_log SET changes = '{}'",
			"TRUNCATE auditrepo.audit_log",
			"ALTER TABLE auditrepo.audit_log DISABLE TRIGGER refuse_update_delete",
			"DELETE FROM auditrepo.ddl_log",
			"DELETE FROM auditrepo.audited_tables",
			"ALTER EVENT TRIGGER auditrepo_ddl_writer DISABLE",
			"DROP FUNCTION auditrepo.audit_public_appointments() CASCADE",
			"CREATE OR REPLACE FUNCTION auditrepo.audit_public_users() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'",
		}
		lits := make([]string, len(attacks))
		for i, a := range attacks {
			lits[i] = sqltext.Literal(a)
		}
		must(t, tx, "ALTER EVENT TRIGGER auditrepo_ddl_end DISABLE")
		must(t, tx, "ALTER EVENT TRIGGER auditrepo_ddl_rewrite DISABLE")
		must(t, tx, "SET ROLE auditrepo_owner")
		must(t, tx, "CREATE TYPE public.rt_kind AS ENUM ('checkup', 'cleaning')")
		must(t, tx, `CREATE FUNCTION public.rt_kind_json(v public.rt_kind) RETURNS json LANGUAGE plpgsql AS $$
			DECLARE
				attack text;
			BEGIN
				-- Once, though it runs for each image.
				FOREACH attack IN ARRAY CASE WHEN current_setting('rt.outcome') = '' THEN ARRAY[`+strings.Join(lits, ", ")+`] ELSE '{}' END LOOP
					BEGIN
						EXECUTE attack;
						PERFORM set_config('rt.outcome', current_setting('rt.outcome') || format(E'%s: %s: done\n', current_user, attack), false);
					EXCEPTION WHEN OTHERS THEN
						PERFORM set_config('rt.outcome', current_setting('rt.outcome') || format(E'%s: %s: %s\n', current_user, attack, SQLSTATE), false);
					END;
				END LOOP;
				RETURN to_json(v::text);
			END $$`)
		must(t, tx, "CREATE CAST (public.rt_kind AS json) WITH FUNCTION public.rt_kind_json(public.rt_kind)")
		must(t, tx, "RESET ROLE")
		must(t, tx, "ALTER TABLE appointments ALTER COLUMN type TYPE public.rt_kind USING 'checkup'")
		var before int
		if err := tx.QueryRow(ctx, "SELECT count(*), set_config('rt.outcome', '', false) FROM auditrepo.audit_log").Scan(&before, nil); err != nil {
			t.Fatal(err)
		}
		must(t, tx, "UPDATE appointments SET type = 'cleaning' WHERE id = $1", c.Appt1)
		var outcome string
		var after int
		if err := tx.QueryRow(ctx, "SELECT current_setting('rt.outcome'), count(*) FROM auditrepo.audit_log").Scan(&outcome, &after); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for _, a := range attacks {
			fmt.Fprintf(&want, "%s: %s: %s\n", migrations.Audit.Writer, a, denied)
		}
		if outcome != want.String() {
			t.Errorf("FINDING: the owner's code in the trigger function:\n%s\nwant each attempt refused, as %s:\n%s", outcome, migrations.Audit.Writer, want.String())
		}
		if after != before+1 {
			t.Errorf("the audit rows went from %d to %d with the UPDATE, want one more", before, after)
		}
	})

	// Renaming a value of an enum that an audited column is of would change every row holding it.
	t.Run("rename_enum_value_refused", func(t *testing.T) {
		tx := rolledBack(t, c.Super)
		// The owner's enum, made an audited column's type as only a superuser can now (a rewrite of the table).
		must(t, tx, "SET ROLE auditrepo_owner")
		must(t, tx, "CREATE TYPE public.rt_kind AS ENUM ('checkup', 'cleaning', 'filling', 'rt-owner', 'rt-while-disabled', 'x')")
		must(t, tx, "RESET ROLE")
		must(t, tx, "ALTER EVENT TRIGGER auditrepo_ddl_rewrite DISABLE")
		must(t, tx, "ALTER TABLE appointments ALTER COLUMN type TYPE public.rt_kind USING 'checkup'")
		must(t, tx, "ALTER EVENT TRIGGER auditrepo_ddl_rewrite ENABLE")
		must(t, tx, "SET ROLE auditrepo_owner")
		must(t, tx, "ALTER TYPE public.rt_kind ADD VALUE 'crown'")
		try(t, tx, "0A000", "ALTER TYPE public.rt_kind RENAME VALUE 'checkup' TO 'cleaning2'")
	})

	// A composite type's attributes dropped and added again, or renamed, change what an audited column of it holds:
	// a composite type's, a table's row type's (ALTER TABLE), and an audited table that would be a table of a type,
	// whose ALTER TYPE ... CASCADE changes its columns naming no table.
	t.Run("row_types_refused", func(t *testing.T) {
		for _, a := range []struct{ name, setup, attack string }{
			{"composite", `CREATE TYPE public.rt_vitals AS (diagnosis text, hiv_status text);
				ALTER TABLE dental_records ADD COLUMN rt_vitals public.rt_vitals`, "ALTER TYPE public.rt_vitals DROP ATTRIBUTE hiv_status"},
			{"row_type", `CREATE TABLE public.rt_addr (street text, hiv_status text);
				ALTER TABLE dental_records ADD COLUMN rt_addr public.rt_addr`, "ALTER TABLE public.rt_addr DROP COLUMN hiv_status"},
			{"typed_table", `CREATE TYPE public.rt_doc AS (id bigint, patient_id bigint, document_type text, filename text,
				storage_path text, uploaded_at timestamptz)`, "ALTER TABLE documents OF public.rt_doc"},
		} {
			t.Run(a.name, func(t *testing.T) {
				tx := rolledBack(t, c.Super)
				must(t, tx, "SET ROLE auditrepo_owner; "+a.setup)
				try(t, tx, "0A000", a.attack)
			})
		}
	})

	// A collation under which texts that differ are equal ('HIV+' and 'HIV-') would hide, from a column compared
	// by equality alone, a change between them: installing the models refuses it.
	t.Run("nondeterministic_collation_refused", func(t *testing.T) {
		tx := rolledBack(t, c.Super)
		must(t, tx, "CREATE COLLATION public.rt_loose (provider = icu, locale = 'und-u-ka-shifted-ks-level1', deterministic = false)")
		must(t, tx, "ALTER TABLE patient_intake_forms ALTER COLUMN medical_conditions TYPE text COLLATE public.rt_loose")
		err := repo.Install(ctx, tx, auditschema.Config{})
		if !errors.Is(err, auditschema.ErrNotReady) || !strings.Contains(err.Error(), "nondeterministic collation") || !strings.Contains(err.Error(), "medical_conditions (rt_loose)") {
			t.Errorf("installing over a nondeterministic collation: %v, want ErrNotReady naming medical_conditions", err)
		}
	})

	// Rewriting an audited table (ALTER COLUMN ... TYPE ... USING) changes its rows with no audit row.
	t.Run("rewrite_refused", func(t *testing.T) {
		try(t, owner, "0A000", "ALTER TABLE dental_records ALTER COLUMN diagnosis TYPE text USING 'healthy'")
		try(t, owner, "0A000", "ALTER TABLE appointments ALTER COLUMN time TYPE time(0)")
	})

	// An audit trigger running another function would write other rows, or none, under a name that looks the same.
	t.Run("swap_audit_trigger_refused", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP FUNCTION IF EXISTS public.rt_noop()")
		})
		must(t, owner, "CREATE FUNCTION public.rt_noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$")
		try(t, owner, denied, "CREATE OR REPLACE TRIGGER audit_update AFTER UPDATE ON dental_records FOR EACH STATEMENT EXECUTE FUNCTION public.rt_noop()")
		try(t, owner, denied, `DO $$ BEGIN EXECUTE 'CREATE OR REPLACE TRIGGER audit_update AFTER UPDATE ON dental_records FOR EACH STATEMENT EXECUTE FUNCTION public.rt_noop()'; END $$`)
		// A trigger of another name is the owner's own, recorded with the function each trigger runs.
		dm := ddlMark(t, c)
		must(t, owner, "CREATE TRIGGER rt_extra AFTER UPDATE ON dental_records FOR EACH STATEMENT EXECUTE FUNCTION public.rt_noop()")
		must(t, owner, "DROP TRIGGER rt_extra ON dental_records")
		if ddl := ddlSince(t, c, dm); len(ddl) == 0 || !strings.Contains(ddl[0].Triggers, "audit_update enabled (auditrepo.audit_public_dental_records)") ||
			!strings.Contains(ddl[0].Triggers, "rt_extra enabled (public.rt_noop)") {
			t.Errorf("ddl_log for CREATE TRIGGER rt_extra: %+v, want its triggers column to name each trigger's function", ddl)
		}
	})

	// A migration that changes an audited table's columns makes its audit function refuse every write until the
	// models are installed again: a new column would be in no audit row, a gone one fails with the function's SQL.
	t.Run("columns_changed_refuse_writes", func(t *testing.T) {
		m := clinictest.MaxID(t, c.Reviewer)
		must(t, owner, "ALTER TABLE billings ADD COLUMN rt_card text")
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "ALTER TABLE billings DROP COLUMN IF EXISTS rt_card")
		})
		try(t, c.App, "55000", "UPDATE billings SET rt_card = '4111' WHERE id = $1", c.Billing)
		_, err := c.R.Billing.Create(c.Ctx, db.CreateBillingParams{PatientID: c.Patient1, Amount: pgtype.Numeric{Int: big.NewInt(1), Valid: true}, Status: "pending"})
		if !errors.Is(err, audit.ErrAuditWrite) || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "(rt_card)") {
			t.Errorf("repository write to a table with a new column: %v, want ErrAuditWrite naming the stale triggers and rt_card", err)
		}
		if rows := clinictest.Since(t, c.Reviewer, m); len(rows) != 0 {
			t.Errorf("%d audit rows after refused writes", len(rows))
		}
		// Back to the model's columns, installing the models again restores the function.
		must(t, owner, "ALTER TABLE billings DROP COLUMN rt_card")
		if err := repo.Install(ctx, c.Super, auditschema.Config{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.R.Billing.Create(c.Ctx, db.CreateBillingParams{PatientID: c.Patient1, Amount: pgtype.Numeric{Int: big.NewInt(1), Valid: true}, Status: "pending"}); err != nil {
			t.Errorf("write after installing again: %v", err)
		}
	})

	// The trigger functions read other tables by name, as the writer role (invoices' finds its patient through
	// appointments; appointments' lists the invoices that move with it): planning those reads runs what the owner
	// attaches to them, such as an index expression's function, or the query of a view put in a table's place.
	t.Run("code_in_read_tables_refused", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP FUNCTION IF EXISTS public.rt_imm(bigint)")
		})
		must(t, owner, "CREATE FUNCTION public.rt_imm(v bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT v'")
		try(t, owner, denied, "CREATE INDEX rt_idx ON appointments ((public.rt_imm(id)))")
		try(t, owner, denied, "CREATE INDEX rt_idx ON appointments (id) WHERE public.rt_imm(id) > 0")
		try(t, owner, denied, "CREATE STATISTICS rt_stx ON (public.rt_imm(id)), status FROM appointments")
		// A constraint, which planning folds under constraint_exclusion = on, and a domain of the owner's, whose
		// checks planning runs where an expression casts to it.
		try(t, owner, denied, "ALTER TABLE appointments ADD CONSTRAINT rt_check CHECK (public.rt_imm(id) IS NOT NULL)")
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP DOMAIN IF EXISTS public.rt_ref")
		})
		must(t, owner, "CREATE DOMAIN public.rt_ref AS bigint")
		try(t, owner, denied, "CREATE INDEX rt_idx ON invoices ((appointment_id::public.rt_ref))")
		must(t, owner, "ALTER TABLE appointments ADD CONSTRAINT rt_check CHECK (id > 0)")
		must(t, owner, "ALTER TABLE appointments DROP CONSTRAINT rt_check")
		// An index of the superuser's functions is no way in.
		must(t, owner, "CREATE INDEX rt_idx ON appointments (lower(status))")
		must(t, owner, "DROP INDEX rt_idx")
		// One made while the event trigger was off: installing the models refuses it.
		must(t, c.Super, "ALTER EVENT TRIGGER auditrepo_ddl_end DISABLE")
		must(t, owner, "CREATE INDEX rt_idx ON appointments ((public.rt_imm(id)))")
		must(t, c.Super, "ALTER EVENT TRIGGER auditrepo_ddl_end ENABLE")
		var what string
		err := c.Super.QueryRow(ctx, `SELECT string_agg(what, '; ') FROM auditrepo.model_problems('[{"name": "public.appointments", "columns": []}]', 'auditrepo_owner', 'auditrepo_app')`).Scan(&what)
		if err != nil || !strings.Contains(what, "table public.appointments has an index, statistics or constraint using function public.rt_imm(bigint), of "+testdb.OwnerLogin) {
			t.Errorf("model_problems with the owner's index: %q (%v)", what, err)
		}
		must(t, owner, "DROP INDEX rt_idx")
		for _, table := range []string{"appointments", "invoices"} {
			tx := rolledBack(t, owner)
			must(t, tx, "DROP TABLE "+table+" CASCADE")
			try(t, tx, denied, "CREATE VIEW public."+table+" AS SELECT 1 AS id")
			tx.Rollback(ctx)
		}
		try(t, owner, "0A000", "ALTER TABLE appointments RENAME TO rt_appointments")
		// Renaming their schema renames them too (as the schema's owner, which the superuser is here).
		try(t, c.Super, "0A000", "ALTER SCHEMA public RENAME TO rt_clinic")
		try(t, owner, "0A000", "ALTER TABLE invoices RENAME TO rt_invoices")
	})

	// Whatever command changes an audited table's columns (ALTER VIEW and ALTER TYPE ... RENAME ATTRIBUTE rename
	// a table's columns too; a column dropped and added again keeps its name), its writes are refused until the
	// models are installed again: two columns swapped by renames would otherwise record one's value as the other.
	// CREATE INDEX CONCURRENTLY commits the index before ddl_command_end, where the event trigger refuses an index
	// of code of a role that is no superuser. A superuser's, over the owner's function (foreign code all the same), is
	// recorded, and the audited tables reading its table refuse writes (55000) until the index is dropped and the
	// models installed again (which refuses it while it is there).
	t.Run("concurrent_index_with_code_stops_writes", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP INDEX IF EXISTS public.rt_cic; DROP FUNCTION IF EXISTS public.rt_cic_f(bigint)")
			if err := repo.Install(context.Background(), c.Super, auditschema.Config{}); err != nil {
				t.Errorf("repo.Install after dropping the index: %v", err)
			}
		})
		must(t, owner, "CREATE FUNCTION public.rt_cic_f(v bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT v'")
		dm := ddlMark(t, c)
		must(t, c.Super, "CREATE INDEX CONCURRENTLY rt_cic ON invoices ((public.rt_cic_f(appointment_id)))")
		if ddl := ddlSince(t, c, dm); !slices.ContainsFunc(ddl, func(d ddlRow) bool { return d.CommandTag == "CREATE INDEX" && d.ObjectIdentity == "public.rt_cic" }) {
			t.Errorf("CREATE INDEX CONCURRENTLY public.rt_cic is not in ddl_log: %+v", ddl)
		}
		// appointments' trigger function reads invoices (the dependents a patient move lists), and invoices' its own.
		try(t, c.App, "55000", "UPDATE appointments SET notes = 'rt' WHERE id = $1", c.Appt1)
		try(t, c.App, "55000", "UPDATE invoices SET amount = amount + 1 WHERE id = $1", c.Invoice)
		if err := repo.Install(ctx, c.Super, auditschema.Config{}); err == nil || !strings.Contains(err.Error(), "public.rt_cic_f") {
			t.Errorf("repo.Install with the index: %v, want it refused naming public.rt_cic_f", err)
		}
	})

	// The owner's CREATE INDEX CONCURRENTLY is refused before it starts, whatever its index uses and however it
	// spells the keyword: a concurrent build that fails leaves its index, invalid, with no ddl_command_end to record
	// it, for a REINDEX (no event trigger) to make valid (TestRedTeamOwnerReads). Without CONCURRENTLY it is the
	// event trigger's as ever.
	t.Run("concurrent_index_refused_for_owner", func(t *testing.T) {
		t.Cleanup(func() { c.Super.Exec(context.Background(), "DROP INDEX IF EXISTS public.rt_cic_plain") })
		for _, sql := range []string{
			"CREATE INDEX CONCURRENTLY rt_cic_owner ON invoices (amount)",
			"create index concurrently rt_cic_owner on invoices (amount)",
			"Create Unique Index CoNcUrReNtLy IF NOT EXISTS rt_cic_owner ON users (id)",
		} {
			try(t, owner, denied+" CREATE INDEX CONCURRENTLY refused", sql)
		}
		var left bool
		if err := c.Super.QueryRow(ctx, "SELECT to_regclass('public.rt_cic_owner') IS NOT NULL").Scan(&left); err != nil || left {
			t.Errorf("an index rt_cic_owner is left behind: %v (%v)", left, err)
		}
		must(t, owner, "CREATE INDEX rt_cic_plain ON invoices (amount)")
	})

	t.Run("columns_changed_by_any_command", func(t *testing.T) {
		t.Cleanup(func() {
			if err := repo.Install(context.Background(), c.Super, auditschema.Config{}); err != nil {
				t.Error(err)
			}
		})
		for _, sql := range []string{
			"ALTER VIEW dental_records RENAME COLUMN diagnosis TO rt_x; ALTER VIEW dental_records RENAME COLUMN rt_x TO diagnosis",
			"ALTER TYPE dental_records RENAME ATTRIBUTE treatment TO rt_x; ALTER TYPE dental_records RENAME ATTRIBUTE rt_x TO treatment",
			"ALTER TABLE users DROP COLUMN first_name, ADD COLUMN first_name text",
		} {
			must(t, owner, sql)
		}
		try(t, c.App, "55000", "UPDATE dental_records SET diagnosis = 'rt' WHERE id = $1", c.DentalRecord)
		try(t, c.App, "55000", "UPDATE users SET first_name = 'rt' WHERE id = $1", c.Patient1)
		// An ALTER TYPE of an enum no audited column is of is no audited table's business.
		must(t, owner, "CREATE TYPE public.rt_other AS ENUM ('a')")
		must(t, owner, "ALTER TYPE public.rt_other ADD VALUE 'b'")
		must(t, owner, "DROP TYPE public.rt_other")
	})

	// The owner may create in public, which is in a default search_path: a function there matching its arguments
	// more exactly than the built-in the library means (pg_advisory_xact_lock of hashtext's int4, where the
	// built-in takes a bigint) would run as whoever calls the library: the superuser installing, the sealer, the
	// reviewer verifying. The library pins search_path to pg_catalog in each of its transactions.
	t.Run("shadow_builtins_in_public", func(t *testing.T) {
		t.Cleanup(func() {
			c.Super.Exec(context.Background(), "DROP FUNCTION IF EXISTS public.pg_advisory_xact_lock(integer)")
		})
		must(t, owner, `CREATE FUNCTION public.pg_advisory_xact_lock(integer) RETURNS void LANGUAGE plpgsql
			AS $$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$$`)
		if _, err := auditschema.Install(ctx, c.Super, auditschema.Config{}); err != nil {
			t.Errorf("Install: %v", err)
		}
		if err := repo.Install(ctx, c.Super, auditschema.Config{}); err != nil {
			t.Errorf("repo.Install: %v", err)
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, "redteam.example/audit")
		if err != nil {
			t.Fatal(err)
		}
		signer, _ := seal.NewSigner(skey)
		verifier, _ := note.NewVerifier(vkey)
		opts := seal.Options{Witnesses: []seal.Witness{seal.Dir(t.TempDir())}}
		if _, err := seal.Seal(ctx, c.Sealer, signer, opts); err != nil {
			t.Errorf("seal.Seal: %v", err)
		}
		if _, err := seal.Verify(ctx, c.Reviewer, []note.Verifier{verifier}, opts); err != nil {
			t.Errorf("seal.Verify: %v", err)
		}
	})

	// Last: the trigger is gone for the rest of this database's life.
	t.Run("drop_audit_trigger_is_recorded", func(t *testing.T) {
		dm := ddlMark(t, c)
		must(t, owner, "DROP TRIGGER audit_update ON appointments")
		ddl := ddlSince(t, c, dm)
		found := false
		for _, d := range ddl {
			if d.CommandTag == "DROP TRIGGER" && d.ObjectType == "trigger" && d.ObjectIdentity == "audit_update on public.appointments" && d.DBRole == testdb.OwnerLogin {
				found = true
			}
		}
		if !found {
			t.Errorf("DROP TRIGGER audit_update is not in ddl_log: %+v", ddl)
		}
		// The owner cannot put it back: the function is the writer role's.
		try(t, owner, denied, `CREATE TRIGGER audit_update AFTER UPDATE ON appointments REFERENCING OLD TABLE AS ar_old NEW TABLE AS ar_new
			FOR EACH STATEMENT EXECUTE FUNCTION auditrepo.audit_public_appointments()`)
	})
}

// ---------------------------------------------------------------------------------------------------------
// The sealer's credentials: reads the trail, appends seals through the seal functions only.

func TestRedTeamSealer(t *testing.T) {
	c := clinictest.New(t)
	sl := c.Sealer
	t.Run("write_audit_tables", func(t *testing.T) {
		writeAuditTables(t, sl)
		changeKeeping(t, sl, true)
	})
	t.Run("write_phi_tables", func(t *testing.T) {
		try(t, sl, denied, "SELECT * FROM appointments")
		try(t, sl, denied, "UPDATE appointments SET type = 'x' WHERE id = $1", c.Appt1)
		try(t, sl, denied, "SELECT auditrepo_claim.claim('user,1,,,)', 'appointments', 'x')")
		try(t, sl, denied, "SELECT auditrepo.maintain()")
		try(t, sl, denied, "SELECT auditrepo.audit_public_appointments()")
		try(t, sl, denied, "CREATE TEMP TABLE appointments (id bigint)")
	})
}

// ---------------------------------------------------------------------------------------------------------
// The reviewer's credentials: reads the trail, writes nothing.

func TestRedTeamReviewer(t *testing.T) {
	c := clinictest.New(t)
	rv := c.Reviewer
	t.Run("write_audit_tables", func(t *testing.T) {
		writeAuditTables(t, rv)
		changeKeeping(t, rv, false)
	})
	// The advisory locks that order moves and the writes of their dependents take no privilege, and their keys
	// are in the generated SQL: any session may hold them. Held by the reviewer, an invoice write waits, and
	// nothing is written while they are held. A write its client gives up has an unknown outcome, as any (the
	// cancel request may reach the server after the locks are released): either nothing, or the invoice with its
	// audit row. Once they are released, writes are recorded as ever.
	t.Run("hold_the_move_locks", func(t *testing.T) {
		ctx := context.Background()
		conn, err := rv.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		must(t, conn, "SELECT pg_advisory_lock(hashtext('public.appointments'), b) FROM generate_series(0, 63) b")
		invoices, m := clinictest.RowCount(t, c.Super, "invoices"), clinictest.MaxID(t, rv)
		wait, cancel := context.WithTimeout(c.Ctx, 500*time.Millisecond)
		defer cancel()
		inv := db.CreateInvoiceParams{AppointmentID: c.Appt1, Amount: pgtype.Numeric{Int: big.NewInt(100), Exp: -2, Valid: true},
			Status: "open", DueDate: pgtype.Date{Time: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Valid: true}}
		if _, err := repo.NewInvoiceRepo(c.App).Create(wait, inv); err == nil {
			t.Fatal("an invoice write went through while the reviewer held the move locks")
		}
		if n := clinictest.RowCount(t, c.Super, "invoices"); n != invoices || len(clinictest.Since(t, rv, m)) != 0 {
			t.Fatalf("while the locks are held: %d invoices (want %d) and audit rows %v", n, invoices, clinictest.Since(t, rv, m))
		}
		must(t, conn, "SELECT pg_advisory_unlock_all()")
		pgtest.Quiesce(t, c.Super)
		given := clinictest.RowCount(t, c.Super, "invoices") - invoices
		if rows := clinictest.Since(t, rv, m); given > 1 || len(rows) != int(given) {
			t.Fatalf("the write given up left %d invoices and audit rows %v: want none, or one with its row", given, rows)
		}
		m = clinictest.MaxID(t, rv)
		created, err := repo.NewInvoiceRepo(c.App).Create(c.Ctx, inv)
		if err != nil {
			t.Fatal(err)
		}
		if rows := clinictest.Since(t, rv, m); len(rows) != 1 || rows[0].TargetID != created.ID || rows[0].PatientID == nil || *rows[0].PatientID != c.Patient1 {
			t.Errorf("the invoice written after the locks were released: audit rows %v, want its CREATE under patient %d", rows, c.Patient1)
		}
	})
	t.Run("write_phi_tables", func(t *testing.T) {
		try(t, rv, denied, "INSERT INTO appointments (patient_id, dentist_id, date, time, type) VALUES ($1, $2, '2026-01-01', '09:00', 'x')", c.Patient1, c.Dentist)
		try(t, rv, denied, "SELECT auditrepo_claim.claim('user,1,,,)', 'appointments', 'x')")
		try(t, rv, denied, "CREATE TEMP TABLE appointments (id bigint)")
	})
	// Every table of public, as the catalog lists them (a table a migration adds included): the reviewer
	// reads the trail, not the application's data, and writes none of it. Each statement is well formed (a
	// real column, a row that exists), so only a privilege can refuse it.
	t.Run("every_clinic_table", func(t *testing.T) {
		rows, err := c.Super.Query(context.Background(), `SELECT format('%I', c.relname), format('%I', a.attname) FROM pg_class c
			JOIN LATERAL (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
				AND attidentity = '' AND attgenerated = '' ORDER BY attnum LIMIT 1) a ON true
			WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		cols := map[string]string{}
		for rows.Next() {
			var tab, col string
			if err := rows.Scan(&tab, &col); err != nil {
				t.Fatal(err)
			}
			cols[tab] = col
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		for _, tab := range append([]string{"clinic_locations"}, clinictest.Tables...) {
			if cols[tab] == "" {
				t.Fatalf("table %s not among public's tables: %v", tab, cols)
			}
		}
		for _, tab := range slices.Sorted(maps.Keys(cols)) {
			col := cols[tab]
			t.Run(tab, func(t *testing.T) {
				try(t, rv, denied, "SELECT * FROM "+tab)
				try(t, rv, denied, "SELECT count(*) FROM "+tab)
				try(t, rv, denied, "INSERT INTO "+tab+" DEFAULT VALUES")
				try(t, rv, denied, "UPDATE "+tab+" SET "+col+" = "+col)
				try(t, rv, denied, "DELETE FROM "+tab)
				try(t, rv, denied, "TRUNCATE "+tab)
			})
		}
	})
}

// ---------------------------------------------------------------------------------------------------------
// The roles nobody logs in as: the audit role (whose sessions could write the trail), the writer role (whose
// could add rows to it) and the owner role (whose could alter or disable the audit triggers). None may be logged
// into, nor become the role of the application's or the reviewer's session.

func TestRedTeamNoLogin(t *testing.T) {
	c := clinictest.New(t)
	ctx := context.Background()
	for _, role := range []string{migrations.Audit.Audit, migrations.Audit.Writer, migrations.Audit.Owner} {
		t.Run("login_as_"+role, func(t *testing.T) {
			cfg := c.App.Config().ConnConfig.Copy()
			cfg.User, cfg.Password = role, ""
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err == nil {
				defer conn.Close(ctx)
			}
			// invalid_authorization_specification: "role ... is not permitted to log in".
			refused(t, err, "28000 not permitted to log in", "logging in as "+role)
		})
		for _, as := range []struct {
			name string
			pool *pgxpool.Pool
		}{{"app", c.App}, {"reviewer", c.Reviewer}, {"owner_member", c.Owner}} {
			if as.name == "owner_member" && role == migrations.Audit.Owner {
				continue // the migrating user is the owner role's member, as deployments make it
			}
			t.Run(as.name+"_set_role_"+role, func(t *testing.T) {
				conn := dedicated(t, as.pool, nil)
				for _, sql := range []string{"SET ROLE " + role, "SET LOCAL ROLE " + role, "SET SESSION AUTHORIZATION " + role,
					"SELECT set_config('role', '" + role + "', false)"} {
					_, err := conn.Exec(ctx, sql)
					refused(t, err, denied, sql)
					var user string
					if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil || user == role {
						t.Fatalf("after %s the session is %q (%v)", sql, user, err)
					}
				}
			})
		}
	}
}
