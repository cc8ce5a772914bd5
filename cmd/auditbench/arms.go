package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/gen/repo"
)

type armKind int

const (
	armRaw     armKind = iota // sqlc, no audit
	armAudited                // generated repository: claim + SECURITY DEFINER statement triggers
	armFloor                  // sqlc + the same statement trigger, plain (no claim, no SECURITY DEFINER, no actor)
	armBest                   // pghistory-style: set_config of the actor + sqlc in one round trip (a batch)
	armNaive                  // BEGIN; set_config; sqlc; COMMIT, four round trips
	armRef                    // sqlc + AFTER ROW trigger writing to_jsonb(OLD)/to_jsonb(NEW), no actor
)

var armNames = [...]string{"raw", "audited", "floor", "best peer", "naive peer", "reference"}
var armSchemas = [...]string{"raw", "public", "floor", "bestpeer", "naivepeer", "trg"}

// auditTable is where an arm's audit rows go (the raw arm has an empty copy, written by nothing).
func auditTable(k armKind) string {
	if k == armAudited {
		return "auditrepo.audit_log"
	}
	return armSchemas[k] + ".audit_log"
}

func (k armKind) String() string { return armNames[k] }

// arm is one way of writing, with its own connections (conns[0] is the single client's) and its own copy of
// the per-row state (the updates flip each row's status, so every update changes a PHI field).
type arm struct {
	kind    armKind
	conns   []*pgx.Conn
	clients []*client
	stmts   *counter
	actor   audit.Actor
	// flipped[i] is whether seed.appts[i] currently has the "confirmed" status instead of "scheduled".
	flipped []bool
	created []int64 // ids created in this round by the single client, deleted again by its deletes
	// schedstat is /proc/<pid>/schedstat of the server process of conns[0] when the server runs on this
	// machine and that file is readable, else "".
	schedstat string
}

// cpu returns the CPU time the server process of conns[0] has used so far (0 if unknown): a measure of the
// server's work per call that waiting for the network or the disk does not blur (the kernel's CPU time for the
// commit flush is included).
func (a *arm) cpu() time.Duration {
	if a.schedstat == "" {
		return 0
	}
	b, err := os.ReadFile(a.schedstat)
	if err != nil {
		return 0
	}
	var ns int64
	fmt.Sscan(string(b), &ns)
	return time.Duration(ns)
}

// findSchedstat sets a.schedstat if conns[0]'s server process is a postgres process on this machine.
func (a *arm) findSchedstat(host string) {
	if host != "localhost" && !strings.HasPrefix(host, "/") {
		if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
			return
		}
	}
	pid := a.conns[0].PgConn().PID()
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmd), "postgres") {
		return // a server in a container or another PID namespace
	}
	path := fmt.Sprintf("/proc/%d/schedstat", pid)
	if _, err := os.ReadFile(path); err == nil {
		a.schedstat = path
	}
}

// client is what one connection of an arm writes with.
type client struct {
	arm  *arm
	conn *pgx.Conn
	q    *db.Queries
	r    *repo.AppointmentRepo
	actx context.Context // carries the actor (used by the audited repository only)
	// ctxActor is the actor as the peers' triggers read it from the setting auditbench.actor, one JSON
	// object in the form auditrepo_claim.claim stores (k, a, i, u, r, m), per method.
	ctxActor [nOps + 1]string
}

func newClient(ctx context.Context, a *arm, conn *pgx.Conn) *client {
	c := &client{arm: a, conn: conn, q: db.New(conn), r: repo.NewAppointmentRepo(conn), actx: audit.WithActor(ctx, a.actor)}
	for op, m := range []string{"AppointmentRepo.Create", "AppointmentRepo.Update", "AppointmentRepo.Delete", "AppointmentRepo.CreateMany"} {
		c.ctxActor[op] = actorJSON(a.actor, m)
	}
	return c
}

// opBulk indexes client.ctxActor for CreateMany.
const opBulk = nOps

// actorJSON is what the peers set before each write: the actor's fields as one JSON object, the same keys and
// values auditrepo_claim.claim stores, so the peers' triggers write the same actor columns as the audited arm's.
func actorJSON(a audit.Actor, method string) string {
	m := map[string]any{"k": string(a.Kind), "a": a.UserID, "u": a.UserAgent, "r": a.RequestID, "m": method}
	if a.IP.IsValid() {
		m["i"] = a.IP.String()
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// setActor is what a peer sends for its trigger to read (is_local = true: the setting ends with the
// transaction, implicit or not).
const setActor = `SELECT set_config('auditbench.actor', $1, true)`

// inTx is the naive peer: a transaction that starts by setting the actor for the trigger to read: BEGIN, the
// set_config statement, f's statement, COMMIT, each one round trip.
func (c *client) inTx(ctx context.Context, op opKind, f func(tx pgx.Tx) error) error {
	tx, err := c.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, setActor, c.ctxActor[op]); err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// batchTX is the best peer, as pghistory sets its context: a DBTX for sqlc's methods that sends the set_config
// statement and sqlc's statement together, as one pgx.Batch: one round trip, one implicit transaction (a
// single Sync), so the setting holds for the write's trigger and ends with it.
type batchTX struct {
	conn  *pgx.Conn
	actor string
}

func (b batchTX) send(ctx context.Context, sql string, args []any) pgx.BatchResults {
	var batch pgx.Batch
	batch.Queue(setActor, b.actor)
	batch.Queue(sql, args...)
	br := b.conn.SendBatch(ctx, &batch)
	return br
}

func (b batchTX) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	br := b.send(ctx, sql, args)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (b batchTX) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	br := b.send(ctx, sql, args)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return errRow{err}
	}
	return batchRow{br}
}

// Query returns the write's rows; closing them closes the batch.
func (b batchTX) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	br := b.send(ctx, sql, args)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return batchRows{rows, br}, nil
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

func (c *client) batch(op opKind) *db.Queries {
	return db.New(batchTX{conn: c.conn, actor: c.ctxActor[op]})
}

func (c *client) create(ctx context.Context, p db.CreateAppointmentParams) (int64, error) {
	var out db.Appointment
	var err error
	switch c.arm.kind {
	case armAudited:
		out, err = c.r.Create(c.actx, p)
	case armBest:
		out, err = c.batch(opCreate).CreateAppointment(ctx, p)
	case armNaive:
		err = c.inTx(ctx, opCreate, func(tx pgx.Tx) error {
			out, err = db.New(tx).CreateAppointment(ctx, p)
			return err
		})
	default:
		out, err = c.q.CreateAppointment(ctx, p)
	}
	return out.ID, err
}

func (c *client) update(ctx context.Context, p db.UpdateAppointmentParams) error {
	var err error
	switch c.arm.kind {
	case armAudited:
		_, err = c.r.Update(c.actx, p)
	case armBest:
		_, err = c.batch(opUpdate).UpdateAppointment(ctx, p)
	case armNaive:
		err = c.inTx(ctx, opUpdate, func(tx pgx.Tx) error {
			_, err := db.New(tx).UpdateAppointment(ctx, p)
			return err
		})
	default:
		_, err = c.q.UpdateAppointment(ctx, p)
	}
	return err
}

func (c *client) delete(ctx context.Context, id int64) error {
	switch c.arm.kind {
	case armAudited:
		return c.r.Delete(c.actx, id)
	case armBest:
		return c.batch(opDelete).DeleteAppointment(ctx, id)
	case armNaive:
		return c.inTx(ctx, opDelete, func(tx pgx.Tx) error { return db.New(tx).DeleteAppointment(ctx, id) })
	default:
		return c.q.DeleteAppointment(ctx, id)
	}
}

// updateParams returns the parameters of an update of seed row i that flips its status (a PHI field): the
// whole row is sent, as sqlc's UpdateAppointment does.
func (a *arm) updateParams(s *seed, i int) db.UpdateAppointmentParams {
	r := s.appts[i]
	a.flipped[i] = !a.flipped[i]
	status := "scheduled"
	if a.flipped[i] {
		status = "confirmed"
	}
	return db.UpdateAppointmentParams{
		ID: r.ID, PatientID: r.PatientID, DentistID: r.DentistID, ClinicID: r.ClinicID, Date: r.Date,
		Time: r.Time, Type: r.Type, Status: status, Notes: r.Notes,
	}
}

// Bulk insert: the raw arm runs the generated CreateMany's INSERT without its claim (same unnest, same
// RETURNING, rows scanned the same way); the trigger arms run the same statement on their schema.
const rawBulkInsert = `INSERT INTO appointments (patient_id, dentist_id, clinic_id, date, time, type, status, notes)
	SELECT ar_in.p1, ar_in.p2, ar_in.p3, ar_in.p4, ar_in.p5, ar_in.p6, ar_in.p7, ar_in.p8
	FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::date[], $5::time[], $6::text[], $7::text[], $8::text[]) AS ar_in(p1, p2, p3, p4, p5, p6, p7, p8)
	RETURNING id, patient_id, dentist_id, clinic_id, date, time, type, status, notes, updated_at`

// bulkArgs builds the column arrays exactly as the generated CreateMany does (same Go types).
func bulkArgs(ps []db.CreateAppointmentParams) []any {
	n := len(ps)
	patient, dentist := make([]int64, n), make([]int64, n)
	clinic := make([]pgtype.Int8, n)
	date := make([]pgtype.Date, n)
	tm := make([]pgtype.Time, n)
	typ, st, notes := make([]string, n), make([]string, n), make([]string, n)
	for i, p := range ps {
		patient[i], dentist[i], clinic[i], date[i], tm[i] = p.PatientID, p.DentistID, p.ClinicID, p.Date, p.Time
		typ[i], st[i], notes[i] = p.Type, p.Status, p.Notes
	}
	return []any{patient, dentist, clinic, date, tm, typ, st, notes}
}

// bulkRaw inserts ps with one statement and scans the returned rows, as CreateMany does.
func bulkRaw(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, ps []db.CreateAppointmentParams) (int, error) {
	rows, err := q.Query(ctx, rawBulkInsert, bulkArgs(ps)...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	out := make([]db.Appointment, 0, len(ps))
	for rows.Next() {
		var i db.Appointment
		if err := rows.Scan(&i.ID, &i.PatientID, &i.DentistID, &i.ClinicID, &i.Date, &i.Time, &i.Type, &i.Status, &i.Notes, &i.UpdatedAt); err != nil {
			return 0, err
		}
		out = append(out, i)
	}
	rows.Close()
	return len(out), rows.Err()
}

func (c *client) bulk(ctx context.Context, ps []db.CreateAppointmentParams) error {
	var n int
	var err error
	switch c.arm.kind {
	case armAudited:
		var out []db.Appointment
		out, err = c.r.CreateMany(c.actx, ps)
		n = len(out)
	case armBest:
		n, err = bulkRaw(ctx, batchTX{conn: c.conn, actor: c.ctxActor[opBulk]}, ps)
	case armNaive:
		err = c.inTx(ctx, opBulk, func(tx pgx.Tx) error {
			n, err = bulkRaw(ctx, tx, ps)
			return err
		})
	default:
		n, err = bulkRaw(ctx, c.conn, ps)
	}
	if err == nil && n != len(ps) {
		err = fmt.Errorf("bulk insert returned %d rows, want %d", n, len(ps))
	}
	return err
}

// copyFrom inserts ps with COPY (pgx CopyFrom), the fastest unaudited bulk path; informational.
func copyFrom(ctx context.Context, conn *pgx.Conn, ps []db.CreateAppointmentParams) error {
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"raw", "appointments"},
		[]string{"patient_id", "dentist_id", "clinic_id", "date", "time", "type", "status", "notes"},
		pgx.CopyFromSlice(len(ps), func(i int) ([]any, error) {
			p := ps[i]
			return []any{p.PatientID, p.DentistID, p.ClinicID, p.Date, p.Time, p.Type, p.Status, p.Notes}, nil
		}))
	if err == nil && int(n) != len(ps) {
		err = fmt.Errorf("copy inserted %d rows, want %d", n, len(ps))
	}
	return err
}
