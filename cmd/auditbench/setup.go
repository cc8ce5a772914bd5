package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/migrations"
)

// benchDB is the dedicated database of one run.
type benchDB struct {
	name  string
	admin *pgx.ConnConfig // the server's DATABASE_URL database, to create and drop ours
	cfg   *pgx.ConnConfig // our database
}

// createDB creates and migrates a fresh database auditbench_<random> on the server of url.
func createDB(ctx context.Context, url string) (*benchDB, error) {
	admin, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	var b [4]byte
	if _, err := crand.Read(b[:]); err != nil {
		return nil, err
	}
	d := &benchDB{name: "auditbench_" + hex.EncodeToString(b[:]), admin: admin}
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{d.name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	d.cfg = admin.Copy()
	d.cfg.Database = d.name
	sqldb := stdlib.OpenDB(*d.cfg)
	defer sqldb.Close()
	if _, err := migrations.Up(ctx, sqldb); err != nil {
		d.drop()
		return nil, err
	}
	return d, nil
}

// drop removes the database, terminating any connection left to it.
func (d *benchDB) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, d.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)")
	return err
}

// counter counts the statements a connection sends (Exec, Query, QueryRow, and so BEGIN and COMMIT): after the
// statement cache is warm, one statement is one round trip.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// connect opens a connection to the benchmark database whose unqualified names resolve in schema first.
// pgx's default exec mode (QueryExecModeCacheStatement) prepares each statement once per connection.
func (d *benchDB) connect(ctx context.Context, schema string, tr *counter) (*pgx.Conn, error) {
	cfg := d.cfg.Copy()
	cfg.RuntimeParams = map[string]string{}
	for k, v := range d.cfg.RuntimeParams {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["application_name"] = "auditbench"
	if schema != "public" {
		cfg.RuntimeParams["search_path"] = schema + ", public"
	}
	if tr != nil {
		cfg.Tracer = tr
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// seed is the data every arm starts from: the same users, clinics and appointments, with the same ids.
type seed struct {
	patients, dentists []int64
	clinics            []int64
	appts              []db.Appointment // the seeded appointments, in id order
}

// seedPublic writes the seed through the audited repositories (as a system actor), so the public tables hold
// exactly what the application would have written.
func seedPublic(ctx context.Context, conn *pgx.Conn, c config) (*seed, error) {
	rng := rand.New(rand.NewPCG(c.Seed, 0x5eed))
	sys := audit.WithSystem(ctx, "auditbench-seed")
	r := repo.New(conn)
	q := db.New(conn)
	s := &seed{}
	var users []db.CreateUserParams
	const patients, dentists = 500, 50
	for i := range patients + dentists {
		p := db.CreateUserParams{
			Username: fmt.Sprintf("user%04d", i), Email: fmt.Sprintf("user%04d@clinic.test", i),
			Password: "x", UserType: "patient", FirstName: pick(rng, firstNames), LastName: pick(rng, lastNames),
		}
		if i >= patients {
			p.UserType, p.Role = "staff", "dentist"
		}
		users = append(users, p)
	}
	created, err := r.User.CreateMany(sys, users)
	if err != nil {
		return nil, fmt.Errorf("seed users: %w", err)
	}
	for _, u := range created {
		if u.UserType == "patient" {
			s.patients = append(s.patients, u.ID)
		} else {
			s.dentists = append(s.dentists, u.ID)
		}
	}
	for i := range 5 {
		cl, err := q.CreateClinicLocation(ctx, db.CreateClinicLocationParams{
			Name: fmt.Sprintf("Clinic %d", i+1), Address: fmt.Sprintf("%d Main Street", 10+i),
		})
		if err != nil {
			return nil, fmt.Errorf("seed clinics: %w", err)
		}
		s.clinics = append(s.clinics, cl.ID)
	}
	s.appts, err = r.Appointment.CreateMany(sys, s.newAppointments(rng, c.Rows))
	if err != nil {
		return nil, fmt.Errorf("seed appointments: %w", err)
	}
	return s, nil
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton"}
	apptTypes  = []string{"checkup", "cleaning", "filling", "extraction", "crown", "root canal", "whitening"}
	noteWords  = []string{"patient", "reports", "mild", "sensitivity", "lower", "left", "molar", "follow-up", "in",
		"two", "weeks", "x-ray", "taken", "no", "caries", "observed", "gum", "inflammation", "advised", "flossing"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// newAppointments returns n creation parameters drawn from rng.
func (s *seed) newAppointments(rng *rand.Rand, n int) []db.CreateAppointmentParams {
	out := make([]db.CreateAppointmentParams, n)
	for i := range out {
		var notes strings.Builder
		for w := range 6 + rng.IntN(8) {
			if w > 0 {
				notes.WriteByte(' ')
			}
			notes.WriteString(pick(rng, noteWords))
		}
		day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365))
		out[i] = db.CreateAppointmentParams{
			PatientID: pick(rng, s.patients),
			DentistID: pick(rng, s.dentists),
			ClinicID:  pgtype.Int8{Int64: pick(rng, s.clinics), Valid: true},
			Date:      pgtype.Date{Time: day, Valid: true},
			Time:      pgtype.Time{Microseconds: int64(8*60+15*rng.IntN(40)) * 60e6, Valid: true},
			Type:      pick(rng, apptTypes),
			Status:    "scheduled",
			Notes:     notes.String(),
		}
	}
	return out
}

// The trigger arms' audit function: one row per changed row into the schema's own copy of audit_log, with
// the full OLD and NEW rows as jsonb. %[1]s is the schema; %[2]s the actor columns' values.
const triggerFunc = `
CREATE FUNCTION %[1]s.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	INSERT INTO %[1]s.audit_log (actor_id, actor_kind, ip, user_agent, request_id, action, target_table, target_id,
		patient_id, changes)
	VALUES (%[2]s, CASE TG_OP WHEN 'INSERT' THEN 'CREATE' ELSE TG_OP END, TG_TABLE_NAME, r.id, r.patient_id,
		jsonb_build_object(
			'before', CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
			'after', CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END));
	RETURN NULL;
END
$$;
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON %[1]s.appointments
	FOR EACH ROW EXECUTE FUNCTION %[1]s.audit_row();`

const (
	noActor = `NULL, 'unknown', NULL, NULL, NULL`
	// ctxActor reads what setActor stored in the transaction (missing_ok, so an unset actor is NULL/unknown).
	ctxActor = `nullif(current_setting('app.actor_id', true), '')::bigint,
		coalesce(nullif(current_setting('app.actor_kind', true), ''), 'unknown'),
		nullif(current_setting('app.ip', true), '')::inet,
		nullif(current_setting('app.user_agent', true), ''),
		nullif(current_setting('app.request_id', true), '')`
	// setActor is what an application sends at the start of each transaction for a trigger to read, in one
	// statement (is_local = true: the settings end with the transaction).
	setActor = `SELECT set_config('app.actor_id', $1, true), set_config('app.actor_kind', $2, true),
	set_config('app.ip', $3, true), set_config('app.user_agent', $4, true), set_config('app.request_id', $5, true)`
)

// seededTables are copied with their rows into every arm's schema; the other tables are copied empty.
var seededTables = []string{"users", "clinic_locations", "appointments", "audit_log"}

// cloneSchema creates schema with a copy of every public table (columns, defaults, identity, CHECK constraints,
// indexes; then the foreign keys, pointing at the copies), the seeded rows, and for the trigger arms the audit
// trigger on appointments. No trigger of public is copied.
func cloneSchema(ctx context.Context, conn *pgx.Conn, schema, actorCols string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var tables []string
	rows, _ := tx.Query(ctx, `SELECT relname FROM pg_class
		WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND relname NOT LIKE 'goose%'
		ORDER BY relname`)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	type fk struct{ table, name, def string }
	rows, _ = tx.Query(ctx, `SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace AND c.relname NOT LIKE 'goose%'
		ORDER BY 1, 2`)
	fks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (fk, error) {
		var f fk
		return f, r.Scan(&f.table, &f.name, &f.def)
	})
	if err != nil {
		return err
	}
	sch := pgx.Identifier{schema}.Sanitize()
	stmts := []string{"CREATE SCHEMA " + sch}
	for _, t := range tables {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s.%s (LIKE public.%[2]s INCLUDING ALL)", sch, pgx.Identifier{t}.Sanitize()))
	}
	for _, t := range seededTables {
		id := pgx.Identifier{t}.Sanitize()
		stmts = append(stmts,
			fmt.Sprintf("INSERT INTO %s.%s OVERRIDING SYSTEM VALUE SELECT * FROM public.%[2]s ORDER BY id", sch, id),
			fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s.%s', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM %[1]s.%[2]s), false)", sch, id))
	}
	// The constraint definitions name the referenced tables unqualified (they were printed with public on the
	// search path); resolved with only the copy's schema on the path, they reference the copies.
	stmts = append(stmts, "SET LOCAL search_path = "+sch)
	for _, f := range fks {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s",
			pgx.Identifier{f.table}.Sanitize(), pgx.Identifier{f.name}.Sanitize(), f.def))
	}
	stmts = append(stmts, "RESET search_path")
	if actorCols != "" {
		stmts = append(stmts, fmt.Sprintf(triggerFunc, sch, actorCols))
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("schema %s: %s: %w", schema, firstLine(s), err)
		}
	}
	return tx.Commit(ctx)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// benchActor is the actor of every audited call: a dentist acting from a browser.
func benchActor(s *seed) audit.Actor {
	return audit.Actor{
		UserID: s.dentists[0], Kind: audit.KindUser, IP: netip.MustParseAddr("203.0.113.7"),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) auditbench/1.0", RequestID: "req-7f3a9c2e5b1d4e08",
	}
}

var errCanceled = errors.New("interrupted")
