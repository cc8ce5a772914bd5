package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
	"github.com/auditrepo/auditrepo/internal/sqltext"
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

// counter counts the statements a connection sends (Exec, Query, QueryRow, and so BEGIN and COMMIT) and its
// batches: after the statement cache is warm, each is one round trip.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A batch is one round trip, whatever it holds.
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// connect opens a connection to the benchmark database whose unqualified names resolve in schema first.
// pgx's default exec mode (QueryExecModeCacheStatement) prepares each statement once per connection. With a
// counter (an arm's connection) it acts as the application role, as an application would: every arm's
// statements and plain triggers then pass the privilege checks a superuser skips, as the audited arm's
// SECURITY DEFINER triggers, run by their non-superuser owner, always do.
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
		cfg.RuntimeParams["role"] = migrations.Audit.App
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

// The reference arm's audit function: the bare row trigger, one row per changed row into the schema's own copy
// of the audit table, with the full OLD and NEW rows as jsonb (no masking, no changed fields, no actor).
// %[1]s is the schema.
const refTrigger = `
CREATE FUNCTION %[1]s.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	INSERT INTO %[1]s.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
	VALUES ('unknown', CASE TG_OP WHEN 'INSERT' THEN 'CREATE' ELSE TG_OP END, TG_TABLE_NAME, r.id, r.patient_id,
		jsonb_build_object(
			'before', CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
			'after', CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END));
	RETURN NULL;
END
$$;
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON %[1]s.appointments
	FOR EACH ROW EXECUTE FUNCTION %[1]s.audit_row();`

// The generated trigger of public.appointments, as the database holds it: the floor and the peers run a copy
// of it rewritten by derivedTrigger, so they write the same rows (the same masking, changed fields, nonphi
// skip, patient and prior patient) and only the parts under test differ.
const (
	realFunc  = "auditrepo.audit_public_appointments()"
	realTable = "auditrepo.audit_log"
	// realWrites is what the generated function inserts into: the audit table's view for the writer role.
	realWrites = "auditrepo.audit_log_writes"
	// The actor: the generated function reads the claim once (a forged kind fails to parse), then every INSERT
	// takes its columns from it.
	realActorDecl = "c auditrepo.claimed := auditrepo.actor('appointments');"
	realActorCols = "CASE WHEN c.made_at IS NULL THEN 'unattributed' ELSE c.kind::text END, c.actor_id, c.ip, c.user_agent, c.request_id, c.method"
	// The floor: no actor at all; the columns the generated function writes when there is no claim.
	floorActorCols = "'unattributed', NULL::bigint, NULL::inet, NULL::text, NULL::text, NULL::text"
	// The peers: the actor as setActor left it in the transaction (missing or reset: no actor), one JSON
	// object as pghistory's context is, read as it reads it.
	peerActorCols = "coalesce(a->>'k', 'unattributed'), (a->>'a')::bigint, (a->>'i')::inet, a->>'u', a->>'r', a->>'m'"
	peerActorDecl = "a jsonb := NULLIF(pg_catalog.current_setting('auditbench.actor', true), '')::jsonb;"
)

// claimActor is the claim's actor the runtime sends for a, as an SQL literal: asked of audit.Writer itself (one
// round trip, before a phase), so the bench's hand-written claims are the repositories'.
func claimActor(ctx context.Context, conn audit.DBTX, a audit.Actor) (string, error) {
	var text string
	c := audit.NewWriter(conn).Claim(audit.WithActor(ctx, a), audit.ActionUpdate, "appointments", "SELECT $1::text")
	if err := c.Err(c.QueryRow(ctx, "").Scan(&text)); err != nil {
		return "", fmt.Errorf("the runtime's claim for %+v: %w", a, err)
	}
	return sqltext.Literal(text), nil
}

// derivedTrigger returns the SQL creating schema's copy of the generated trigger function of appointments and
// its triggers, from the definitions in the database (pg_get_functiondef, pg_get_triggerdef): the function made
// plain (see plainTrigger), writing into schema's audit table and reading schema's tables. Any part of the
// definition it expected to rewrite and did not find is an error: a changed generator must not silently make the
// arms differ.
func derivedTrigger(ctx context.Context, conn *pgx.Conn, schema string, withActor bool) (string, error) {
	r, err := plainTrigger(ctx, conn, withActor)
	if err != nil {
		return "", err
	}
	fn := schema + ".audit_appointments()"
	r.replace(realFunc, fn, 1)
	r.replace(realWrites+" ", schema+".audit_log ", -1)
	// The tables the trigger reads (a derived patient's move joins the dependents') are the arm's copies.
	r.replace("public.", schema+".", -1)
	if strings.Contains(r.def, "auditrepo.") {
		r.errs = append(r.errs, "it still names schema auditrepo")
	}
	rows, _ := conn.Query(ctx, `SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
		WHERE tgrelid = 'public.appointments'::regclass AND tgfoid = $1::regprocedure ORDER BY tgname`, realFunc)
	type trig struct{ name, def string }
	trigs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (trig, error) {
		var t trig
		return t, r.Scan(&t.name, &t.def)
	})
	if err != nil {
		return "", err
	}
	if len(trigs) != 3 {
		r.errs = append(r.errs, fmt.Sprintf("%d triggers of public.appointments run %s, want 3", len(trigs), realFunc))
	}
	stmts := []string{r.def}
	for _, t := range trigs {
		d := strings.Replace(t.def, " ON public.appointments ", " ON "+schema+".appointments ", 1)
		d = strings.Replace(d, "EXECUTE FUNCTION "+realFunc, "EXECUTE FUNCTION "+fn, 1)
		if strings.Contains(d, "auditrepo.") || strings.Contains(d, "public.") {
			r.errs = append(r.errs, "trigger "+t.name+": "+d)
		}
		stmts = append(stmts, d)
	}
	if err := r.err("deriving " + schema + "'s trigger"); err != nil {
		return "", err
	}
	return strings.Join(stmts, ";\n"), nil
}

// plainTrigger reads the generated trigger function of appointments (pg_get_functiondef) and makes it plain:
// not SECURITY DEFINER, no pinned search_path; withActor false (the floor) writes no actor, true (the peers)
// reads it from the setting auditbench.actor. Its name and the tables it names are left as they are: in place of
// the generated one, it is scripts/callgrind.sh's arm same.
func plainTrigger(ctx context.Context, conn *pgx.Conn, withActor bool) (*rewrite, error) {
	r := &rewrite{}
	if err := conn.QueryRow(ctx, "SELECT pg_get_functiondef($1::regprocedure)", realFunc).Scan(&r.def); err != nil {
		return nil, fmt.Errorf("the generated trigger function %s: %w", realFunc, err)
	}
	r.replace("\n SECURITY DEFINER\n", "\n", 1)
	if m := searchPathRE.FindAllString(r.def, -1); len(m) != 1 {
		r.errs = append(r.errs, fmt.Sprintf("%d SET search_path clauses, want 1", len(m)))
	}
	r.def = searchPathRE.ReplaceAllString(r.def, "\n")
	if withActor {
		r.replace(realActorDecl, peerActorDecl, 1)
		r.replace(realActorCols, peerActorCols, -1)
	} else {
		r.replace("\t"+realActorDecl+"\n", "", 1)
		r.replace(realActorCols, floorActorCols, -1) // one INSERT per action, and one per derived-patient MOVE
	}
	return r, nil
}

// printSameSQL prints to w the generated trigger function of appointments in url's database, made plain in place
// (plainTrigger without an actor), and the grant it needs to run as the application role.
func printSameSQL(ctx context.Context, url string, w io.Writer) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	r, err := plainTrigger(ctx, conn, false)
	if err != nil {
		return err
	}
	// Into the audit table, as the floor writes its own.
	r.replace(realWrites+" ", realTable+" ", -1)
	if err := r.err("making the trigger plain"); err != nil {
		return err
	}
	// The plain function runs as the application role, which may not even look the audit schema up otherwise.
	app := pgx.Identifier{migrations.Audit.App}.Sanitize()
	_, err = fmt.Fprintf(w, "%s;\n\nGRANT USAGE ON SCHEMA %s TO %s;\nGRANT INSERT ON %s TO %s;\n", r.def,
		pgx.Identifier{migrations.Audit.Schema}.Sanitize(), app, realTable, app)
	return err
}

// rewrite is a definition being edited, and what the edits expected to find in it and did not.
type rewrite struct {
	def  string
	errs []string
}

// replace replaces old by new, which must occur n times (n < 0: at least once).
func (r *rewrite) replace(old, new string, n int) {
	if c := strings.Count(r.def, old); c != n && !(n < 0 && c > 0) {
		r.errs = append(r.errs, fmt.Sprintf("%q occurs %d times, want %d", old, c, n))
	}
	r.def = strings.ReplaceAll(r.def, old, new)
}

// err is what the edits missed, as an error about doing what.
func (r *rewrite) err(what string) error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s from %s: %s", what, realFunc, strings.Join(r.errs, "; "))
}

var searchPathRE = regexp.MustCompile(`\n SET search_path TO [^\n]*\n`)

// seededTables are copied with their rows into every arm's schema; the other tables are copied empty.
var seededTables = []string{"users", "clinic_locations", "appointments"}

// cloneSchema creates schema with a copy of every public table (columns, defaults, identity, CHECK constraints,
// indexes; then the foreign keys, pointing at the copies), a copy of the audit table (same columns, defaults,
// constraints, indexes and partitions), triggers, the SQL that creates the arm's audit triggers (none for the raw
// arm), and then the seeded rows. No trigger of public is copied.
func cloneSchema(ctx context.Context, conn *pgx.Conn, schema, triggers string) error {
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
	// The audit table's partitions, as the migrations (and maintain()) left them.
	rows, _ = tx.Query(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'auditrepo.audit_log'::regclass ORDER BY 1`)
	type part struct{ name, bound string }
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (part, error) {
		var p part
		return p, r.Scan(&p.name, &p.bound)
	})
	if err != nil {
		return err
	}
	sch := pgx.Identifier{schema}.Sanitize()
	stmts := []string{"CREATE SCHEMA " + sch}
	// The copies belong to the owner role, as the real tables do: foreign-key checks run as a table's owner, and a
	// superuser's would skip the privilege checks the audited arm's pay.
	owner := pgx.Identifier{migrations.Audit.Owner}.Sanitize()
	stmts = append(stmts, fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", sch, owner))
	for _, t := range tables {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s.%s (LIKE public.%[2]s INCLUDING ALL)", sch, pgx.Identifier{t}.Sanitize()),
			fmt.Sprintf("ALTER TABLE %s.%s OWNER TO %s", sch, pgx.Identifier{t}.Sanitize(), owner))
	}
	stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s.audit_log (LIKE auditrepo.audit_log INCLUDING ALL) PARTITION BY RANGE (occurred_at)", sch))
	for _, p := range parts {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %[1]s.%[2]s PARTITION OF %[1]s.audit_log %[3]s", sch, pgx.Identifier{p.name}.Sanitize(), p.bound))
	}
	// The arm's triggers go in before the seeded rows, so its audit table starts with their rows, as the audited
	// arm's does: the audit tables' indexes grow alike. The arms audit appointments only; the audited table's rows
	// of the seed's other tables (its users) are copied first, with their ids, so every audit table starts as the
	// audited one does.
	if triggers != "" {
		stmts = append(stmts,
			fmt.Sprintf("INSERT INTO %s.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM auditrepo.audit_log WHERE target_table <> 'appointments' ORDER BY id", sch),
			fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s.audit_log', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM auditrepo.audit_log WHERE target_table <> 'appointments'), false)", sch),
			triggers)
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
	// The arms run as the application role (connect): the copies get the grants the migrations give it on the
	// public tables, and the floor's and peers' plain triggers, run by it, may write their audit table.
	app := pgx.Identifier{migrations.Audit.App}.Sanitize()
	stmts = append(stmts, fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", sch, app),
		fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %s", sch, app),
		fmt.Sprintf("GRANT USAGE ON ALL SEQUENCES IN SCHEMA %s TO %s", sch, app))
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
