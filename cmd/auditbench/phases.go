package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/auditrepo/auditrepo/gen/db"
)

type opKind int

const (
	opCreate opKind = iota
	opUpdate
	opDelete
	nOps
)

var opNames = [...]string{"Create", "Update", "Delete"}

// results holds every measurement of a run.
type results struct {
	env       []string // lines describing server and machine
	rtt       []time.Duration
	single    [nArms][nOps][]time.Duration
	singleRnd [nArms][nOps][]time.Duration // p50 of each round
	stmts     [nArms][nOps]int64           // statements sent by the timed single-row calls
	serverCPU [nArms][nOps]time.Duration   // CPU time of the arm's server process in those calls; 0 if unknown

	conc      [nArms][]time.Duration // per-op latencies at Clients clients
	concOps   [nArms]int
	concWall  [nArms]time.Duration
	concRound [nArms][]float64 // ops/s of each round

	bulk     [nArms][]time.Duration // one per repetition
	bulkCopy []time.Duration

	walCold, walSteady [nArms][]float64 // bytes per update, one per repetition
	walNote            string
	bulkNote           string
	walMethod          string

	bdStmt, bdCall []bdResult // the breakdown (-breakdown)
	bdClock        string

	genCmd     string
	gen        []time.Duration // subprocess runs; [0] warms the build cache
	genMatches string
	genErr     string
	sqlcCmd    string
	sqlc       []time.Duration // the sqlc go:generate step on a copy of its inputs; [0] warms up
	sqlcNote   string
	auditRows  [nArms][2]int64 // audit rows of benchmarked appointments, and how many of them name an actor
	verify     []verifyResult  // the same sample of changes in verifyArms' tables, in one transaction
	verifyErr  string          // non-empty: the arms' audit rows differ (the run fails)

	trailSmall, trailBig *trailResult // P8; nil when not run
	seal                 sealResult   // P10
}

const nArms = 6

var allArms = []armKind{armRaw, armAudited, armFloor, armBest, armNaive, armRef}

// rotated returns the arms in the order of round r: each arm takes each position equally often.
func rotated(r int) []armKind {
	out := make([]armKind, nArms)
	for i := range out {
		out[i] = allArms[(i+r)%nArms]
	}
	return out
}

// rngFor returns the generator of one phase and round, the same for every arm.
func rngFor(c config, phase, round int) *rand.Rand {
	return rand.New(rand.NewPCG(c.Seed, uint64(phase)<<32|uint64(round)))
}

type bench struct {
	c    config
	out  io.Writer
	d    *benchDB
	s    *seed
	arms [nArms]*arm
	adm  *pgx.Conn // public schema, for LSNs, CHECKPOINT, maintenance; never timed
	res  results
	// seeded is the largest id of each arm's audit table once set up: the rows up to it are the seed's.
	seeded [nArms]int64
}

func (b *bench) progress(format string, args ...any) {
	if !b.c.Quiet {
		fmt.Fprintf(os.Stderr, "auditbench: "+format+"\n", args...)
	}
}

// run is the whole benchmark: setup, every phase, the report.
func run(ctx context.Context, c config, out io.Writer) (*results, error) {
	b, err := newBench(ctx, c, out)
	if err != nil {
		return nil, err
	}
	defer b.cleanup()
	phases := []struct {
		name string
		f    func(context.Context) error
	}{
		{"warm-up", b.warmup},
		{"single-row rounds", b.single},
		{fmt.Sprintf("%d clients", c.Clients), b.concurrent},
		{"WAL", b.wal},
		{"bulk insert", b.bulk},
		{"generator", b.generator},
		{"checks", b.checks},
		{"breakdown", b.breakdown},
		{"trail", b.trail},
		{"seal", b.sealAll},
		{"trail (big)", b.trailBig},
	}
	for _, p := range phases {
		if ctx.Err() != nil {
			return nil, errCanceled
		}
		b.progress("%s", p.name)
		if err := p.f(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	b.report()
	if b.res.verifyErr != "" {
		return &b.res, fmt.Errorf("VERIFY FAILED: %s", b.res.verifyErr)
	}
	return &b.res, nil
}

// newBench creates, migrates and seeds the database and connects every arm.
func newBench(ctx context.Context, c config, out io.Writer) (*bench, error) {
	b := &bench{c: c, out: out}
	b.progress("creating and migrating a fresh database")
	d, err := createDB(ctx, c.URL)
	if err != nil {
		return nil, err
	}
	b.d = d
	if err := b.setup(ctx); err != nil {
		b.cleanup()
		return nil, err
	}
	return b, nil
}

// cleanup closes every connection and drops the database (unless c.Keep).
func (b *bench) cleanup() {
	b.close()
	if b.c.Keep {
		fmt.Fprintf(os.Stderr, "auditbench: kept database %s\n", b.d.name)
		return
	}
	if err := b.d.drop(); err != nil {
		fmt.Fprintf(os.Stderr, "auditbench: drop database %s: %v\n", b.d.name, err)
	}
}

func (b *bench) setup(ctx context.Context) error {
	var err error
	b.adm, err = b.d.connect(ctx, "public", nil)
	if err != nil {
		return err
	}
	b.progress("seeding %d appointments per arm (seed %d)", b.c.Rows, b.c.Seed)
	if b.s, err = seedPublic(ctx, b.adm, b.c); err != nil {
		return err
	}
	for _, k := range []armKind{armRaw, armFloor, armBest, armNaive, armRef} {
		schema := armSchemas[k]
		var triggers string
		switch k {
		case armFloor:
			triggers, err = derivedTrigger(ctx, b.adm, schema, false)
		case armBest, armNaive:
			triggers, err = derivedTrigger(ctx, b.adm, schema, true)
		case armRef:
			triggers = fmt.Sprintf(refTrigger, schema)
		}
		if err != nil {
			return err
		}
		if err := cloneSchema(ctx, b.adm, schema, triggers); err != nil {
			return err
		}
	}
	if _, err := b.adm.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	for _, k := range allArms {
		if err := b.adm.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM "+auditTable(k)).Scan(&b.seeded[k]); err != nil {
			return err
		}
	}
	actor := benchActor(b.s)
	for _, k := range allArms {
		a := &arm{kind: k, stmts: &counter{}, actor: actor, flipped: make([]bool, len(b.s.appts))}
		for range max(1, b.c.Clients) {
			conn, err := b.d.connect(ctx, armSchemas[k], a.stmts)
			if err != nil {
				return err
			}
			a.conns = append(a.conns, conn)
			a.clients = append(a.clients, newClient(ctx, a, conn))
		}
		a.findSchedstat(b.d.cfg.Host)
		b.arms[k] = a
	}
	return b.describe(ctx)
}

func (b *bench) close() {
	for _, a := range b.arms {
		if a == nil {
			continue
		}
		for _, c := range a.conns {
			c.Close(context.Background())
		}
	}
	if b.adm != nil {
		b.adm.Close(context.Background())
	}
}

// warmup runs every operation on every connection of every arm, untimed: statements get prepared, caches
// and the server's plan caches fill.
func (b *bench) warmup(ctx context.Context) error {
	rng := rngFor(b.c, 0, 0)
	creates := b.s.newAppointments(rng, b.c.Warmup)
	rows := make([]int, b.c.Warmup)
	for i := range rows {
		rows[i] = rng.IntN(len(b.s.appts))
	}
	for _, k := range allArms {
		a := b.arms[k]
		for ci, cl := range a.clients {
			n := b.c.Warmup
			if ci > 0 {
				n = min(n, 20)
			}
			var ids []int64
			for i := range n {
				id, err := cl.create(ctx, creates[i])
				if err != nil {
					return fmt.Errorf("%s create: %w", k, err)
				}
				ids = append(ids, id)
			}
			for i := range n {
				if err := cl.update(ctx, a.updateParams(b.s, rows[i])); err != nil {
					return fmt.Errorf("%s update: %w", k, err)
				}
			}
			for _, id := range ids {
				if err := cl.delete(ctx, id); err != nil {
					return fmt.Errorf("%s delete: %w", k, err)
				}
			}
		}
	}
	// One round trip with nothing else: the floor of every arm.
	conn := b.arms[armRaw].conns[0]
	for i := range 1000 + 200 {
		t := time.Now()
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			return err
		}
		if i >= 200 {
			b.res.rtt = append(b.res.rtt, time.Since(t))
		}
	}
	return nil
}

// single runs the single-client rounds: in each round every arm creates, updates and deletes c.Ops rows on
// its first connection. All arms do one kind of operation before the next kind starts, taking turns in blocks
// of c.Block operations (in an order that rotates from block to block), so that a disturbance from outside
// (another process taking the CPU or the disk for a while) hits every arm alike.
func (b *bench) single(ctx context.Context) error {
	block := max(1, b.c.Block)
	for r := range b.c.Rounds {
		rng := rngFor(b.c, 1, r)
		creates := b.s.newAppointments(rng, b.c.Ops)
		rows := make([]int, b.c.Ops)
		for i := range rows {
			rows[i] = rng.IntN(len(b.s.appts))
		}
		for k := range nArms {
			b.arms[k].created = b.arms[k].created[:0]
		}
		for op := range nOps {
			var lat [nArms][]time.Duration
			for start, blk := 0, r; start < b.c.Ops; start, blk = start+block, blk+1 {
				end := min(start+block, b.c.Ops)
				for _, k := range rotated(blk) {
					a := b.arms[k]
					cl := a.clients[0]
					n0 := a.stmts.n.Load()
					cpu0 := a.cpu()
					for i := start; i < end; i++ {
						var err error
						var t time.Time
						switch op {
						case opCreate:
							t = time.Now()
							var id int64
							id, err = cl.create(ctx, creates[i])
							a.created = append(a.created, id)
						case opUpdate:
							p := a.updateParams(b.s, rows[i])
							t = time.Now()
							err = cl.update(ctx, p)
						case opDelete:
							t = time.Now()
							err = cl.delete(ctx, a.created[i])
						}
						lat[k] = append(lat[k], time.Since(t))
						if err != nil {
							return fmt.Errorf("%s %s: %w", k, opNames[op], err)
						}
					}
					b.res.stmts[k][op] += a.stmts.n.Load() - n0
					b.res.serverCPU[k][op] += a.cpu() - cpu0
				}
				if ctx.Err() != nil {
					return errCanceled
				}
			}
			for k := range nArms {
				b.res.single[k][op] = append(b.res.single[k][op], lat[k]...)
				b.res.singleRnd[k][op] = append(b.res.singleRnd[k][op], pct(lat[k], 50))
			}
		}
	}
	return nil
}

// concurrent runs c.Clients clients per arm, each on its own connection and its own rows (so they never wait
// for each other's row locks), c.ClientOps updates each per round. Within a round the arms take turns in
// chunks of at most 50 updates per client, in rotating order.
func (b *bench) concurrent(ctx context.Context) error {
	nc := b.c.Clients
	if nc < 1 {
		return nil
	}
	const chunk = 50
	turn := 0
	for r := range b.c.Rounds {
		// Each client's rows: the seed rows i with i % nc == g, drawn from its own generator.
		rows := make([][]int, nc)
		for g := range nc {
			rng := rngFor(b.c, 2, r*64+g)
			per := (len(b.s.appts) - g + nc - 1) / nc
			for range b.c.ClientOps {
				rows[g] = append(rows[g], g+nc*rng.IntN(per))
			}
		}
		var roundOps [nArms]int
		var roundWall [nArms]time.Duration
		for from := 0; from < b.c.ClientOps; from += chunk {
			to := min(from+chunk, b.c.ClientOps)
			for _, k := range rotated(turn) {
				n, wall, err := b.clients(ctx, b.arms[k], rows, from, to)
				if err != nil {
					return err
				}
				roundOps[k] += n
				roundWall[k] += wall
			}
			turn++
			if ctx.Err() != nil {
				return errCanceled
			}
		}
		for k := range nArms {
			b.res.concOps[k] += roundOps[k]
			b.res.concWall[k] += roundWall[k]
			b.res.concRound[k] = append(b.res.concRound[k], float64(roundOps[k])/roundWall[k].Seconds())
		}
	}
	return nil
}

// clients runs the updates rows[g][from:to] on client g of arm a, all clients at once, and returns how many
// ran and the wall time from the start until the last client finished.
func (b *bench) clients(ctx context.Context, a *arm, rows [][]int, from, to int) (int, time.Duration, error) {
	nc := len(rows)
	lats := make([][]time.Duration, nc)
	errs := make([]error, nc)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for g := range nc {
		ready.Add(1)
		done.Add(1)
		params := make([]db.UpdateAppointmentParams, 0, to-from)
		for _, i := range rows[g][from:to] {
			params = append(params, a.updateParams(b.s, i))
		}
		go func() {
			defer done.Done()
			cl := a.clients[g]
			lat := make([]time.Duration, 0, len(params))
			ready.Done()
			<-start
			for _, p := range params {
				t := time.Now()
				if err := cl.update(ctx, p); err != nil {
					errs[g] = err
					return
				}
				lat = append(lat, time.Since(t))
			}
			lats[g] = lat
		}()
	}
	ready.Wait()
	t := time.Now()
	close(start)
	done.Wait()
	wall := time.Since(t)
	n := 0
	for g := range nc {
		if errs[g] != nil {
			return 0, 0, fmt.Errorf("%s client %d: %w", a.kind, g, errs[g])
		}
		n += len(lats[g])
		b.res.conc[a.kind] = append(b.res.conc[a.kind], lats[g]...)
	}
	return n, wall, nil
}

// wal measures the WAL each arm writes per update: pg_current_wal_lsn() before and after c.WALOps sequential
// updates. Autovacuum is off for the measured tables meanwhile (it would write WAL of its own). Right after a
// CHECKPOINT the first change of each page logs the whole page (full-page image): the first pass over the rows
// ("after checkpoint") pays that, the second pass over the same rows ("steady") does not.
func (b *bench) wal(ctx context.Context) error {
	if b.c.WALOps < 1 || b.c.WALReps < 1 {
		return nil
	}
	var tables []string
	for _, k := range allArms {
		// The audit table is partitioned: storage parameters are set on its partitions.
		rows, _ := b.adm.Query(ctx, `SELECT relid::regclass::text FROM pg_partition_tree($1::regclass) WHERE isleaf`, auditTable(k))
		parts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		tables = append(tables, pgx.Identifier{armSchemas[k], "appointments"}.Sanitize())
		tables = append(tables, parts...)
	}
	for _, t := range tables {
		if _, err := b.adm.Exec(ctx, "VACUUM "+t); err != nil {
			return err
		}
		if _, err := b.adm.Exec(ctx, "ALTER TABLE "+t+" SET (autovacuum_enabled = off)"); err != nil {
			return err
		}
	}
	defer func() {
		for _, t := range tables {
			b.adm.Exec(context.Background(), "ALTER TABLE "+t+" RESET (autovacuum_enabled)")
		}
	}()
	canCheckpoint := true
	// With pg_walinspect (contrib, superuser), only the WAL records of this database count: those that touch
	// its relations and the commit records of their transactions. Without it, the server-wide LSN difference,
	// which includes whatever else the server writes meanwhile.
	var dbOID uint32
	inspect := false
	if _, err := b.adm.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_walinspect"); err == nil {
		inspect = b.adm.QueryRow(ctx, "SELECT oid FROM pg_database WHERE datname = current_database()").Scan(&dbOID) == nil
	}
	if inspect {
		b.res.walMethod = "WAL records of this database only (pg_walinspect: records touching its relations, and their transactions' commit records)"
	} else {
		b.res.walMethod = "pg_current_wal_lsn() difference (server-wide: other databases' writes meanwhile count too; pg_walinspect not available)"
	}
	lsn := func() (string, error) {
		var v string
		err := b.adm.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&v)
		return v, err
	}
	walFallbacks := 0
	bytes := func(from, to string) (float64, error) {
		var v float64
		var err error
		if inspect {
			err = b.adm.QueryRow(ctx, `WITH r AS (
					SELECT xid::text AS x, record_length, block_ref
					FROM pg_get_wal_records_info($1::pg_lsn, least($2::pg_lsn, pg_current_wal_flush_lsn()))),
				ours AS (SELECT DISTINCT x FROM r WHERE block_ref LIKE $3 AND x <> '0')
				SELECT coalesce(sum(record_length), 0) FROM r WHERE block_ref LIKE $3 OR x IN (SELECT x FROM ours)`,
				from, to, fmt.Sprintf("%%/%d/%%", dbOID)).Scan(&v)
			// On a busy shared server a checkpoint forced by other databases' WAL may recycle the segments
			// before they are read: that measurement falls back to the server-wide difference.
			if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "58P01" {
				walFallbacks++
				b.res.walNote = fmt.Sprintf("%d measurement(s) used the server-wide LSN difference: their WAL segments were recycled "+
					"(other databases' WAL forced a checkpoint) before pg_walinspect read them", walFallbacks)
				err = b.adm.QueryRow(ctx, "SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::float8", from, to).Scan(&v)
			}
		} else {
			err = b.adm.QueryRow(ctx, "SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::float8", from, to).Scan(&v)
		}
		return v, err
	}
	for rep := range b.c.WALReps {
		if canCheckpoint {
			if _, err := b.adm.Exec(ctx, "CHECKPOINT"); err != nil {
				canCheckpoint = false
				b.res.walNote = "CHECKPOINT not permitted for this role: the after-checkpoint column is not meaningful"
			}
		}
		rng := rngFor(b.c, 3, rep)
		rows := make([]int, b.c.WALOps)
		for i := range rows {
			rows[i] = rng.IntN(len(b.s.appts))
		}
		for _, k := range rotated(rep) {
			a := b.arms[k]
			cl := a.clients[0]
			var marks [3]string
			for pass := range 2 {
				var err error
				if marks[pass], err = lsn(); err != nil {
					return err
				}
				for _, i := range rows {
					if err := cl.update(ctx, a.updateParams(b.s, i)); err != nil {
						return fmt.Errorf("%s update: %w", k, err)
					}
				}
			}
			var err error
			if marks[2], err = lsn(); err != nil {
				return err
			}
			n := float64(len(rows))
			cold, err := bytes(marks[0], marks[1])
			if err != nil {
				return err
			}
			steady, err := bytes(marks[1], marks[2])
			if err != nil {
				return err
			}
			b.res.walCold[k] = append(b.res.walCold[k], cold/n)
			b.res.walSteady[k] = append(b.res.walSteady[k], steady/n)
		}
	}
	return nil
}

// bulk times one CreateMany of c.BulkRows rows per arm and repetition (after an untimed smaller one), plus a
// COPY into the raw schema for reference.
func (b *bench) bulk(ctx context.Context) error {
	if b.c.BulkRows < 1 || b.c.BulkReps < 1 {
		return nil
	}
	warm := b.s.newAppointments(rngFor(b.c, 4, 1<<20), min(1000, b.c.BulkRows))
	for _, k := range allArms {
		if err := b.arms[k].clients[0].bulk(ctx, warm); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	copyConn := b.arms[armRaw].conns[0]
	if err := copyFrom(ctx, copyConn, warm); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	canCheckpoint := true
	for rep := range b.c.BulkReps {
		// Each repetition writes tens of MB of WAL: a checkpoint falling inside one would slow whichever arm it
		// hit. One before each keeps the arms' times comparable.
		if canCheckpoint {
			if _, err := b.adm.Exec(ctx, "CHECKPOINT"); err != nil {
				canCheckpoint = false
				b.res.bulkNote = "CHECKPOINT not permitted for this role: a checkpoint may fall inside a repetition"
			}
		}
		ps := b.s.newAppointments(rngFor(b.c, 4, rep), b.c.BulkRows)
		// The arms and COPY (entry nArms), in an order rotating with rep.
		for i := range nArms + 1 {
			e := (i + rep) % (nArms + 1)
			t := time.Now()
			if e == nArms {
				if err := copyFrom(ctx, copyConn, ps); err != nil {
					return fmt.Errorf("copy: %w", err)
				}
				b.res.bulkCopy = append(b.res.bulkCopy, time.Since(t))
				continue
			}
			k := allArms[e]
			if err := b.arms[k].clients[0].bulk(ctx, ps); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			b.res.bulk[k] = append(b.res.bulk[k], time.Since(t))
		}
		if ctx.Err() != nil {
			return errCanceled
		}
	}
	return nil
}

// checks counts what the arms wrote to their audit tables, so a broken arm shows in the report (the seed's
// rows are not counted).
func (b *bench) checks(ctx context.Context) error {
	for _, k := range allArms {
		var n, withActor int64
		err := b.adm.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), count(actor_id) FROM %s
			WHERE target_table = 'appointments' AND id > $1`, auditTable(k)), b.seeded[k]).Scan(&n, &withActor)
		if err != nil {
			return err
		}
		b.res.auditRows[k] = [2]int64{n, withActor}
	}
	return b.verify(ctx)
}

// verifyArms are the arms that must write the same audit rows as the audited arm.
var verifyArms = []armKind{armAudited, armFloor, armBest, armNaive}

// verify checks that the floor, the peers and the audited arm write byte-identical audit rows for the same
// changes, apart from the actor columns: in ONE transaction (so now(), and with it updated_at and the server
// facts, are the same for all) each arm runs the same sample of changes on its own table, each as its arm
// writes (the audited arm's statements with auditrepo_claim.claim as a condition, the peers' after setting
// auditbench.actor):
// inserts (every 50th row of raw.appointments, seeded or created by the run), multi-row updates of PHI
// fields, a patient move, a change of nonphi fields only and a change of nothing (both: no rows), deletes. It compares digests of the audit rows, then
// rolls everything back. A difference fails the run.
func (b *bench) verify(ctx context.Context) error {
	tx, err := b.adm.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	a := b.arms[armAudited].actor
	other := b.s.patients[len(b.s.patients)-1]
	// %[1]s is the arm's table, %[2]s the audited arm's claim, as the generator adds it to a statement that
	// changes many rows: one more condition, evaluated once.
	script := []string{
		`INSERT INTO %[1]s (id, patient_id, dentist_id, clinic_id, date, time, type, status, notes) OVERRIDING SYSTEM VALUE
			SELECT 900000000 + id, patient_id, dentist_id, clinic_id, date, time, type, status, notes FROM raw.appointments
			WHERE id %% 50 = 7%[2]s ORDER BY id`,
		`UPDATE %[1]s SET status = CASE status WHEN 'scheduled' THEN 'confirmed' ELSE 'scheduled' END,
			notes = notes || ' (verified)', updated_at = now() WHERE id >= 900000000 AND id %% 3 = 0%[2]s`,
		fmt.Sprintf(`UPDATE %%[1]s SET patient_id = %d, updated_at = now() WHERE id >= 900000000 AND id %%%% 4 = 1%%[2]s`, other),
		`UPDATE %[1]s SET updated_at = updated_at + interval '1 minute' WHERE id >= 900000000%[2]s`,
		`UPDATE %[1]s SET type = type WHERE id >= 900000000 AND id %% 5 = 2%[2]s`,
		`DELETE FROM %[1]s WHERE id >= 900000000 AND id %% 2 = 0%[2]s`,
	}
	actor, err := claimActor(ctx, tx, a)
	if err != nil {
		return err
	}
	claim := " AND (SELECT auditrepo_claim.claim(" + actor + ", 'appointments', 'auditbench.verify'))"
	for _, k := range verifyArms {
		table := armSchemas[k] + ".appointments"
		if k == armBest || k == armNaive {
			if _, err := tx.Exec(ctx, setActor, actorJSON(a, "auditbench.verify")); err != nil {
				return err
			}
		}
		for _, st := range script {
			cond := ""
			if k == armAudited {
				cond = claim
			}
			st = fmt.Sprintf(st, table, cond)
			if _, err := tx.Exec(ctx, st); err != nil {
				return fmt.Errorf("verify, %s: %s: %w", k, firstLine(st), err)
			}
		}
		var v verifyResult
		v.arm = k
		err := tx.QueryRow(ctx, `SELECT count(*),
				coalesce(md5(string_agg(changes::text, E'\n' ORDER BY target_id, id)), ''),
				coalesce(md5(string_agg((action, target_table, target_id, patient_id, prior_patient_id, changes)::text, E'\n' ORDER BY target_id, id)), ''),
				coalesce(md5(string_agg((occurred_at, transaction_id, db_role, client_addr, application)::text, E'\n' ORDER BY target_id, id)), ''),
				coalesce(string_agg(DISTINCT (actor_kind, actor_id, ip, user_agent, request_id, method)::text, ' '), '')
			FROM `+auditTable(k)+` WHERE transaction_id = pg_current_xact_id() AND target_id >= 900000000`).
			Scan(&v.rows, &v.changes, &v.row, &v.facts, &v.actor)
		if err != nil {
			return err
		}
		b.res.verify = append(b.res.verify, v)
	}
	ref := b.res.verify[0]
	var bad []string
	for _, v := range b.res.verify[1:] {
		if v.rows != ref.rows || v.changes != ref.changes || v.row != ref.row || v.facts != ref.facts {
			bad = append(bad, v.arm.String())
		}
	}
	if ref.rows == 0 {
		bad = append(bad, "no rows at all")
	}
	if len(bad) > 0 {
		b.res.verifyErr = "audit rows differ from the audited arm's: " + strings.Join(bad, ", ")
	}
	return nil
}

type verifyResult struct {
	arm                 armKind
	rows                int64
	changes, row, facts string // md5 digests
	actor               string // the distinct actor columns
}
