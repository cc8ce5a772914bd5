package main

// The trail at scale (P8) and sealing (P10).
//
// P8: a synthetic audit log is generated on the server straight into auditrepo.audit_log (as the superuser):
// TrailMonths monthly partitions ending with last month, TrailPatients patients chosen with a power law (patient
// floor(P * u^2) + 1 for uniform u: the busiest patient has ~0.3% of the rows, the median one about 0.7 times
// the mean), and one chosen patient with about TrailEvents events spread evenly over the months. The chosen
// patient's trail is then read the way `auditrepo trail --patient` reads it, audit.Trail.EachPatient over a
// connection of the reviewer role, consuming every event: p50/p99 over TrailRuns runs after a warm-up. This runs
// at TrailRows rows, and again at TrailBig rows (the synthetic partitions truncated and regenerated) when
// TrailBig > 0 (BENCH_TRAIL=10m sets it to 10M).
//
// P10: after the small trail is generated, seal.Seal seals the whole audit table (the bench's own rows and the
// small trail log) with a throwaway key, timed, and seal.Verify verifies it, timed.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/migrations"
	"github.com/auditrepo/auditrepo/seal"
)

// trailPatient is the chosen patient: inside the skewed range, whose own draws are moved to the next id.
const trailPatient = 4242

// trailResult is one size of the synthetic trail.
type trailResult struct {
	rows, events          int64 // rows in the synthetic partitions; events of the chosen patient
	total                 int64 // rows in the whole audit table (the bench's own rows too)
	insert, index, vacuum time.Duration
	first                 time.Duration // the first read after the load: shared buffers cold, the OS cache not
	lat                   []time.Duration
	plan                  planSummary
	alts                  []altResult // alternatives tried when P8 misses its goal
}

// altResult is the chosen patient's trail read after a change of the physical design.
type altResult struct {
	name  string
	setup time.Duration
	lat   []time.Duration
	plan  planSummary
}

type sealResult struct {
	rows         uint64
	seal, verify time.Duration
	verifiedRows int64
	checkpoints  int
	err          string
	updRate      float64 // the audited arm's 1-client Update ops/s
}

// parseTrailSize reads BENCH_TRAIL: a count with an optional k or m suffix (10m = 10,000,000); empty is 0.
func parseTrailSize(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	mult := 1
	switch {
	case strings.HasSuffix(s, "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	case strings.HasSuffix(s, "k"):
		mult, s = 1_000, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("BENCH_TRAIL=%q: want a row count such as 10m", s)
	}
	return n * mult, nil
}

// trailMonths returns the first day of each synthetic month, oldest first, ending with last month (the bench's
// own rows are in the current month's partition).
func (b *bench) trailMonths(ctx context.Context) ([]time.Time, error) {
	var cur time.Time
	if err := b.adm.QueryRow(ctx, "SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date").Scan(&cur); err != nil {
		return nil, err
	}
	cur = time.Date(cur.Year(), cur.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, b.c.TrailMonths)
	for i := range out {
		out[i] = cur.AddDate(0, i-b.c.TrailMonths, 0)
	}
	return out, nil
}

// partNames are the names the audit schema gives the months' partitions (partition_name).
func partNames(ctx context.Context, conn *pgx.Conn, months []time.Time) ([]string, error) {
	days := make([]string, len(months))
	for i, m := range months {
		days[i] = m.Format(time.DateOnly)
	}
	rows, _ := conn.Query(ctx, "SELECT auditrepo.partition_name(m) FROM unnest($1::date[]) m", days)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// trailInsert is one month of the synthetic log. $1 the month's start, $2 the next month's, $3 the rows of
// the month, $4 how many of them are the chosen patient's (every ($3/$4)th row), $5 the patients, $6 the chosen
// patient, $7 a per-month offset for request ids.
const trailInsert = `
INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, actor_id, ip, user_agent, request_id, method, action,
	target_table, target_id, patient_id, prior_patient_id, changes)
SELECT at, 'user', 1 + i % 40, ('203.0.113.' || (1 + i % 250))::inet, 'Mozilla/5.0 (X11; Linux x86_64) clinic/4.2',
	'req-' || to_hex($7::bigint + i), 'AppointmentRepo.' || action, action, 'appointments', tid, pat,
	CASE WHEN action = 'MOVE' THEN prior END,
	CASE action
	WHEN 'CREATE' THEN jsonb_build_object('after', jsonb_build_object('id', tid, 'patient_id', pat, 'dentist_id', 1 + i % 50,
		'clinic_id', 1 + i % 5, 'date', (at + interval '14 days')::date, 'time', '09:30:00', 'type', 'checkup',
		'status', 'scheduled', 'notes', '[REDACTED]'))
	WHEN 'UPDATE' THEN jsonb_build_object('before', jsonb_build_object('status', 'scheduled', 'notes', '[REDACTED]'),
		'after', jsonb_build_object('status', 'confirmed', 'notes', '[REDACTED]'), 'changed_fields', '["notes", "status"]'::jsonb)
	WHEN 'DELETE' THEN jsonb_build_object('deleted_record', jsonb_build_object('id', tid, 'patient_id', pat,
		'dentist_id', 1 + i % 50, 'clinic_id', 1 + i % 5, 'date', (at + interval '14 days')::date, 'time', '09:30:00',
		'type', 'checkup', 'status', 'cancelled', 'notes', '[REDACTED]'))
	ELSE jsonb_build_object('before', jsonb_build_object('patient_id', prior), 'after', jsonb_build_object('patient_id', pat),
		'changed_fields', '["patient_id"]'::jsonb)
	END
FROM (
	SELECT i, at, tid, pat, CASE WHEN p2 = $6 THEN p2 + 1 ELSE p2 END AS prior,
		CASE WHEN chosen THEN (ARRAY['CREATE', 'UPDATE', 'UPDATE', 'UPDATE', 'DELETE'])[1 + i % 5]
			WHEN r < 0.25 THEN 'CREATE' WHEN r < 0.95 THEN 'UPDATE' WHEN r < 0.998 THEN 'DELETE' ELSE 'MOVE' END AS action
	FROM (
		SELECT i, $1::timestamptz + ((i - 1)::float8 / $3) * ($2::timestamptz - $1::timestamptz) AS at,
			1 + (random() * 2000000)::bigint AS tid, random() AS r,
			chosen, CASE WHEN chosen THEN $6 WHEN p = $6 THEN p + 1 ELSE p END AS pat,
			(floor($5 * random() ^ 2) + 1)::bigint AS p2
		FROM (
			SELECT i, $4 > 0 AND i % ($3 / greatest($4, 1)) = 0 AND i / ($3 / greatest($4, 1)) <= $4 AS chosen,
				(floor($5 * random() ^ 2) + 1)::bigint AS p
			FROM generate_series(1, $3::bigint) i
		) g
	) h
) s`

// genTrail fills the synthetic partitions with rows rows (after truncating them), the chosen patient's events
// included, and returns what it did.
func (b *bench) genTrail(ctx context.Context, rows int) (*trailResult, error) {
	months, err := b.trailMonths(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := b.d.connect(ctx, "public", nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	// A throwaway database: nothing here needs to survive a crash.
	for _, s := range []string{"SET synchronous_commit = off", "SET maintenance_work_mem = '512MB'",
		"SELECT setseed(" + strconv.FormatFloat(float64(b.c.Seed%1000)/1000, 'f', 3, 64) + ")"} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return nil, err
		}
	}
	names, err := partNames(ctx, conn, months)
	if err != nil {
		return nil, err
	}
	var parts []string
	for i, m := range months {
		name := pgx.Identifier{"auditrepo", names[i]}.Sanitize()
		parts = append(parts, name)
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			_, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s PARTITION OF auditrepo.audit_log FOR VALUES FROM ('%s') TO ('%s')",
				name, m.Format(time.DateOnly), m.AddDate(0, 1, 0).Format(time.DateOnly)))
			if err != nil {
				return nil, err
			}
		}
	}
	// The synthetic partitions hold only the synthetic log (the bench's rows are all in the current month).
	if _, err := conn.Exec(ctx, "TRUNCATE "+strings.Join(parts, ", ")); err != nil {
		return nil, err
	}
	res := &trailResult{}
	// A big load drops the secondary indexes and builds them afterwards (the primary key stays).
	var indexes []string
	if rows > 200_000 {
		r, _ := conn.Query(ctx, `SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
			WHERE indrelid = 'auditrepo.audit_log'::regclass AND NOT indisprimary ORDER BY 1`)
		type idx struct{ name, def string }
		idxs, err := pgx.CollectRows(r, func(r pgx.CollectableRow) (idx, error) {
			var x idx
			return x, r.Scan(&x.name, &x.def)
		})
		if err != nil {
			return nil, err
		}
		for _, x := range idxs {
			if _, err := conn.Exec(ctx, "DROP INDEX "+x.name); err != nil {
				return nil, err
			}
			// The parent's definition says ON ONLY, which would build no partition's index.
			indexes = append(indexes, strings.Replace(x.def, " ON ONLY ", " ON ", 1))
		}
	}
	events := min(b.c.TrailEvents, rows/10)
	t := time.Now()
	for i, m := range months {
		n := rows*(i+1)/len(months) - rows*i/len(months)
		k := events*(i+1)/len(months) - events*i/len(months)
		b.progress("trail %d rows: month %s, %d rows", rows, m.Format("2006-01"), n)
		_, err := conn.Exec(ctx, trailInsert, m, m.AddDate(0, 1, 0), n, k, b.c.TrailPatients, trailPatient, int64(i)<<32)
		if err != nil {
			return nil, fmt.Errorf("month %s: %w", m.Format("2006-01"), err)
		}
		if ctx.Err() != nil {
			return nil, errCanceled
		}
	}
	res.insert = time.Since(t)
	t = time.Now()
	for _, def := range indexes {
		b.progress("trail %d rows: %s", rows, def)
		if _, err := conn.Exec(ctx, def); err != nil {
			return nil, err
		}
	}
	res.index = time.Since(t)
	t = time.Now()
	b.progress("trail %d rows: VACUUM ANALYZE, CHECKPOINT", rows)
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE auditrepo.audit_log"); err != nil {
		return nil, err
	}
	// The load leaves GBs of dirty pages: flush them now, not while the trail is being timed (not permitted to a
	// non-superuser: then the timing may include the background writes).
	conn.Exec(ctx, "CHECKPOINT")
	res.vacuum = time.Since(t)
	err = conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM ("+unionAll(parts)+") u), (SELECT count(*) FROM auditrepo.audit_log), "+
		"(SELECT count(*) FROM auditrepo.audit_log WHERE patient_id = $1 OR prior_patient_id = $1)", trailPatient).
		Scan(&res.rows, &res.total, &res.events)
	return res, err
}

func unionAll(parts []string) string {
	var s []string
	for _, p := range parts {
		s = append(s, "SELECT 1 FROM "+p)
	}
	return strings.Join(s, " UNION ALL ")
}

// connectAs connects as role: the reviewer role, as `auditrepo trail` does, or the sealer role, as `auditrepo seal`.
func (b *bench) connectAs(ctx context.Context, role string) (*pgx.Conn, error) {
	cfg := b.d.cfg.Copy()
	cfg.User = role
	cfg.RuntimeParams = map[string]string{"application_name": "auditbench-" + strings.TrimPrefix(role, "auditrepo_")}
	return pgx.ConnectConfig(ctx, cfg)
}

// timeTrail reads the chosen patient's trail 3 (warm-up) + TrailRuns times as EachPatient does, every event
// consumed, and returns the timed runs and the first warm-up run.
func (b *bench) timeTrail(ctx context.Context, conn *pgx.Conn, want int64) ([]time.Duration, time.Duration, error) {
	var first time.Duration
	tr := audit.Trail{Table: migrations.Audit.QualifiedTable()}
	var out []time.Duration
	for r := range 3 + b.c.TrailRuns {
		var n int64
		var last int64
		t := time.Now()
		err := tr.EachPatient(ctx, conn, trailPatient, time.Time{}, time.Time{}, func(e audit.Event) error {
			n++
			last += e.ID + int64(len(e.ChangedFields)) + int64(len(e.After))
			return nil
		})
		d := time.Since(t)
		if err != nil {
			return nil, 0, err
		}
		if n != want {
			return nil, 0, fmt.Errorf("the trail of patient %d has %d events, want %d", trailPatient, n, want)
		}
		if r == 0 {
			first = d
		}
		if r >= 3 {
			out = append(out, d)
		}
	}
	return out, first, nil
}

// trailSQL is the query EachPatient sends for a patient without bounds (audit/trail.go), the patient inlined.
func trailSQL() string {
	return fmt.Sprintf(`SELECT id, occurred_at, transaction_id::text, db_role, host(client_addr), application, actor_kind, actor_id,
	host(ip), user_agent, request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes
	FROM %s WHERE (patient_id = %d OR prior_patient_id = %d) ORDER BY id`, migrations.Audit.QualifiedTable(), trailPatient, trailPatient)
}

// planSummary is what matters of EXPLAIN (ANALYZE, BUFFERS) of the trail query.
type planSummary struct {
	planning, execution float64 // ms
	hit, read           int64   // shared blocks of the whole plan
	planHit             int64   // shared blocks hit while planning
	heapBlocks          int64   // exact heap blocks of the bitmap heap scans
	scans               map[string]int
	top                 string
	err                 string
}

func (p planSummary) String() string {
	if p.err != "" {
		return "EXPLAIN failed: " + p.err
	}
	var scans []string
	for k, v := range p.scans {
		scans = append(scans, fmt.Sprintf("%d %s", v, k))
	}
	return fmt.Sprintf("planning %.2f ms (%d buffers hit), execution %.2f ms, shared hit %d read %d, heap blocks %d, top %s; scans: %s",
		p.planning, p.planHit, p.execution, p.hit, p.read, p.heapBlocks, p.top, strings.Join(sortedStrings(scans), ", "))
}

func sortedStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) of the trail query on conn (twice: the second, warm, counts).
func explain(ctx context.Context, conn *pgx.Conn) planSummary {
	var raw []byte
	var err error
	for range 2 {
		err = conn.QueryRow(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+trailSQL()).Scan(&raw)
		if err != nil {
			return planSummary{err: err.Error()}
		}
	}
	var doc []struct {
		Plan     map[string]any `json:"Plan"`
		Planning map[string]any `json:"Planning"`
		PT       float64        `json:"Planning Time"`
		ET       float64        `json:"Execution Time"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc) == 0 {
		return planSummary{err: fmt.Sprintf("parsing the plan: %v", err)}
	}
	d := doc[0]
	p := planSummary{planning: d.PT, execution: d.ET, scans: map[string]int{}}
	num := func(m map[string]any, k string) int64 {
		f, _ := m[k].(float64)
		return int64(f)
	}
	p.hit, p.read, p.planHit = num(d.Plan, "Shared Hit Blocks"), num(d.Plan, "Shared Read Blocks"), num(d.Planning, "Shared Hit Blocks")
	p.top, _ = d.Plan["Node Type"].(string)
	if sm, ok := d.Plan["Sort Method"].(string); ok {
		p.top += " (" + sm + ")"
	}
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		nt, _ := m["Node Type"].(string)
		if _, ok := m["Relation Name"]; ok || strings.Contains(nt, "Index") {
			if name, ok := m["Index Name"].(string); ok && strings.Contains(nt, "Index") {
				nt += " on " + indexKind(name)
			}
			p.scans[nt]++
		}
		p.heapBlocks += num(m, "Exact Heap Blocks") + num(m, "Lossy Heap Blocks")
		if kids, ok := m["Plans"].([]any); ok {
			for _, k := range kids {
				if km, ok := k.(map[string]any); ok {
					walk(km)
				}
			}
		}
	}
	walk(d.Plan)
	return p
}

// indexKind names a partition's index by what it indexes, not by the partition: audit_log_202101_patient_id_occurred_at_idx
// becomes patient_id_occurred_at.
func indexKind(name string) string {
	name = strings.TrimSuffix(strings.TrimSuffix(name, "_idx"), "_pkey")
	parts := strings.Split(name, "_")
	for i, s := range parts {
		if len(s) == 6 && strings.Trim(s, "0123456789") == "" || s == "default" {
			return strings.Join(parts[i+1:], "_")
		}
	}
	return name
}

// measureTrail reads the chosen patient's trail at the current size.
func (b *bench) measureTrail(ctx context.Context, res *trailResult) error {
	conn, err := b.connectAs(ctx, migrations.Audit.Reviewer)
	if err != nil {
		return fmt.Errorf("connect as the reviewer role: %w", err)
	}
	defer conn.Close(context.Background())
	if res.lat, res.first, err = b.timeTrail(ctx, conn, res.events); err != nil {
		return err
	}
	res.plan = explain(ctx, conn)
	return nil
}

// trail is the small trail (TrailRows), then the seal of the whole log (P10).
func (b *bench) trail(ctx context.Context) error {
	if b.c.TrailRows <= 0 {
		return nil
	}
	res, err := b.genTrail(ctx, b.c.TrailRows)
	if err != nil {
		return err
	}
	b.res.trailSmall = res
	if err := b.measureTrail(ctx, res); err != nil {
		return err
	}
	return nil
}

// trailBig is the big trail (TrailBig), after the seal.
func (b *bench) trailBig(ctx context.Context) error {
	if b.c.TrailBig <= 0 {
		return nil
	}
	res, err := b.genTrail(ctx, b.c.TrailBig)
	if err != nil {
		return err
	}
	b.res.trailBig = res
	if err := b.measureTrail(ctx, res); err != nil {
		return err
	}
	if p8 := ratioP8(&b.res); b.c.TrailAlts == "always" || b.c.TrailAlts == "auto" && !(p8 <= 1.5) {
		return b.trailAlternatives(ctx, res)
	}
	return nil
}

func ratioP8(r *results) float64 {
	if r.trailSmall == nil || r.trailBig == nil {
		return math.NaN()
	}
	return float64(pct(r.trailBig.lat, 50)) / float64(pct(r.trailSmall.lat, 50))
}

// trailAlternatives measures the big trail after changes of the physical design that leave the write path
// (nearly) alone: the bench database is throwaway, auditschema is not changed.
func (b *bench) trailAlternatives(ctx context.Context, res *trailResult) error {
	conn, err := b.d.connect(ctx, "public", nil)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET maintenance_work_mem = '512MB'"); err != nil {
		return err
	}
	months, err := b.trailMonths(ctx)
	if err != nil {
		return err
	}
	alts := []struct {
		name string
		sql  []string
	}{
		{"then: index (patient_id, occurred_at) INCLUDE (id) in place of (patient_id, occurred_at)", []string{
			"CREATE INDEX audit_log_patient_cover ON auditrepo.audit_log (patient_id, occurred_at) INCLUDE (id)",
			"DROP INDEX auditrepo.audit_log_patient_id_occurred_at_idx",
		}},
	}
	names, err := partNames(ctx, conn, months)
	if err != nil {
		return err
	}
	// CLUSTER names each partition's own index on (patient_id, occurred_at).
	rows, _ := conn.Query(ctx, `SELECT format('CLUSTER %s USING %I', i.indrelid::regclass, c.relname)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_inherits h ON h.inhrelid = i.indrelid
		JOIN pg_class p ON p.oid = i.indrelid
		WHERE h.inhparent = 'auditrepo.audit_log'::regclass AND p.relname = ANY ($1)
		AND pg_get_indexdef(i.indexrelid) LIKE '%(patient_id, occurred_at)' ORDER BY 1`, names)
	cluster, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(cluster) != len(months) {
		return fmt.Errorf("found the patient index of %d of %d synthetic partitions", len(cluster), len(months))
	}
	alts = append(alts, struct {
		name string
		sql  []string
	}{"CLUSTER of every closed (synthetic) partition by (patient_id, occurred_at), then ANALYZE", append(cluster, "ANALYZE auditrepo.audit_log")})
	// CLUSTER needs the partitions' own patient index: run it before the covering index replaces it.
	alts[0], alts[1] = alts[1], alts[0]
	for _, a := range alts {
		b.progress("trail alternative: %s", a.name)
		t := time.Now()
		for _, s := range a.sql {
			if _, err := conn.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %s: %w", a.name, firstLine(s), err)
			}
		}
		alt := altResult{name: a.name, setup: time.Since(t)}
		conn.Exec(ctx, "CHECKPOINT") // as after the load: CLUSTER rewrote GBs
		rc, err := b.connectAs(ctx, migrations.Audit.Reviewer)
		if err != nil {
			return err
		}
		alt.lat, _, err = b.timeTrail(ctx, rc, res.events)
		if err == nil {
			alt.plan = explain(ctx, rc)
		}
		rc.Close(context.Background())
		if err != nil {
			return err
		}
		res.alts = append(res.alts, alt)
	}
	return nil
}

// sealAll seals the whole audit table with a throwaway key and verifies it (P10).
func (b *bench) sealAll(ctx context.Context) error {
	lat := b.res.single[armAudited][opUpdate]
	if len(lat) > 0 {
		b.res.seal.updRate = float64(len(lat)) / sum(lat).Seconds()
	}
	key, err := seal.NewKey("auditbench-throwaway")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "auditbench-witness-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := seal.Options{Config: migrations.Audit, Witnesses: []seal.Witness{seal.Dir(dir)}}
	conn, err := b.connectAs(ctx, migrations.Audit.Sealer)
	if err != nil {
		return fmt.Errorf("connect as the sealer role: %w", err)
	}
	defer conn.Close(context.Background())
	t := time.Now()
	cp, err := seal.Seal(ctx, conn, key.Signer, opts)
	b.res.seal.seal = time.Since(t)
	if err != nil {
		b.res.seal.err = "seal: " + err.Error()
		return nil
	}
	if cp != nil {
		b.res.seal.rows = cp.Size - cp.PrevSize
	}
	t = time.Now()
	rep, err := seal.Verify(ctx, conn, []note.Verifier{key.Verifier}, opts)
	b.res.seal.verify = time.Since(t)
	if err != nil {
		b.res.seal.err = "verify: " + err.Error()
		return nil
	}
	b.res.seal.verifiedRows, b.res.seal.checkpoints = rep.Rows, rep.Checkpoints
	return nil
}

func ratioP10(r *results) float64 {
	s := r.seal
	if s.rows == 0 || s.seal <= 0 || s.updRate <= 0 || s.err != "" {
		return math.NaN()
	}
	return float64(s.rows) / s.seal.Seconds() / s.updRate
}

// reportTrail prints the trail and seal sections.
func (b *bench) reportTrail(tw *tabwriter.Writer) {
	r := &b.res
	w := b.out
	if r.trailSmall != nil {
		fmt.Fprintf(w, "\nTrail at scale (P8): synthetic log over %d monthly partitions, %d patients (power law), patient %d's trail\n"+
			"  read as `auditrepo trail --patient` does (audit.Trail.EachPatient, reviewer role, every event decoded), %d runs after 3 warm-up\n",
			b.c.TrailMonths, b.c.TrailPatients, trailPatient, b.c.TrailRuns)
		fmt.Fprintln(tw, "rows\taudit table rows\tevents\tp50 ms\tp99 ms\tfirst read ms\tgenerate s\tindexes s\tVACUUM ANALYZE + CHECKPOINT s\t")
		line := func(t *trailResult) {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t\n", t.rows, t.total, t.events, ms(pct(t.lat, 50)), ms(pct(t.lat, 99)),
				ms(t.first), t.insert.Seconds(), t.index.Seconds(), t.vacuum.Seconds())
		}
		line(r.trailSmall)
		if r.trailBig != nil {
			line(r.trailBig)
		}
		tw.Flush()
		fmt.Fprintln(w, "  rows: the synthetic partitions (the bench's own rows are in the current month's); first read: the first\n"+
			"    warm-up read after the load (shared buffers cold for the trail's pages, the OS cache not)")
		fmt.Fprintf(w, "  generation: one INSERT ... SELECT FROM generate_series per month (synchronous_commit off); %d rows in %.1fs",
			r.trailSmall.rows, (r.trailSmall.insert + r.trailSmall.index + r.trailSmall.vacuum).Seconds())
		if r.trailBig != nil {
			fmt.Fprintf(w, ", %d rows in %.1fs (secondary indexes dropped and rebuilt around the load)",
				r.trailBig.rows, (r.trailBig.insert + r.trailBig.index + r.trailBig.vacuum).Seconds())
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  EXPLAIN (ANALYZE, BUFFERS), warm, at %d rows: %s\n", r.trailSmall.rows, r.trailSmall.plan)
		if r.trailBig != nil {
			fmt.Fprintf(w, "  EXPLAIN (ANALYZE, BUFFERS), warm, at %d rows: %s\n", r.trailBig.rows, r.trailBig.plan)
			for _, a := range r.trailBig.alts {
				fmt.Fprintf(w, "  alternative: %s (took %.1fs): p50 %.2f ms, p99 %.2f ms, p50 / p50 at %d rows %.2f\n    %s\n",
					a.name, a.setup.Seconds(), ms(pct(a.lat, 50)), ms(pct(a.lat, 99)), r.trailSmall.rows,
					float64(pct(a.lat, 50))/float64(pct(r.trailSmall.lat, 50)), a.plan)
			}
		} else {
			fmt.Fprintln(w, "  10M rows: skipped (set BENCH_TRAIL=10m to run it; it takes several minutes)")
		}
	}
	s := r.seal
	if s.rows > 0 || s.err != "" {
		fmt.Fprintf(w, "\nSeal (P10): seal.Seal of the whole audit table (the bench's rows and the %d-row trail), throwaway key, sealer role\n", rowsOf(r.trailSmall))
		if s.err != "" {
			fmt.Fprintf(w, "  FAILED: %s\n", s.err)
			return
		}
		fmt.Fprintf(w, "  sealed %d rows in %.2fs: %.0f rows/s; audited Update, 1 client: %.0f ops/s\n", s.rows, s.seal.Seconds(),
			float64(s.rows)/s.seal.Seconds(), s.updRate)
		fmt.Fprintf(w, "  seal.Verify of the whole log: %.2fs (%d rows intact, %d checkpoint(s)): %.0f rows/s\n", s.verify.Seconds(),
			s.verifiedRows, s.checkpoints, float64(s.verifiedRows)/s.verify.Seconds())
	}
}

func rowsOf(t *trailResult) int64 {
	if t == nil {
		return 0
	}
	return t.rows
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// trailSizes is the P8 goal's range column: the two sizes compared.
func trailSizes(r *results) string {
	if r.trailSmall == nil || r.trailBig == nil {
		return ""
	}
	return fmt.Sprintf("%d vs %d rows", r.trailBig.rows, r.trailSmall.rows)
}
