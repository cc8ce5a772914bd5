package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// describe records what the numbers depend on: server, settings, machine.
func (b *bench) describe(ctx context.Context) error {
	var ver string
	if err := b.adm.QueryRow(ctx, "SELECT split_part(version(), ' on ', 1)").Scan(&ver); err != nil {
		return err
	}
	settings := []string{"synchronous_commit", "fsync", "full_page_writes", "wal_level", "wal_compression",
		"shared_buffers", "max_wal_size", "plan_cache_mode", "jit"}
	var vals []string
	for _, s := range settings {
		var v string
		if err := b.adm.QueryRow(ctx, "SELECT current_setting($1)", s).Scan(&v); err != nil {
			return err
		}
		vals = append(vals, s+"="+v)
	}
	host := b.d.cfg.Host
	if strings.HasPrefix(host, "/") {
		host = "unix socket " + host
	}
	b.res.env = []string{
		fmt.Sprintf("server   %s at %s:%d, database %s", ver, host, b.d.cfg.Port, b.d.name),
		"settings " + strings.Join(vals, " "),
		fmt.Sprintf("machine  %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s; load average at start %s", cpuModel(), runtime.NumCPU(),
			runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAvg()),
		fmt.Sprintf("run      seed %d, %d appointments per arm, warm-up %d ops, %d rounds x %d ops per arm and op kind, arms interleaved in rotating order",
			b.c.Seed, b.c.Rows, b.c.Warmup, b.c.Rounds, b.c.Ops),
	}
	return nil
}

// loadAvg is the 1-minute load average, or "unknown": how busy the machine was besides the benchmark.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// pct returns the p-th percentile (nearest rank) of d.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianDur(d []time.Duration) time.Duration {
	f := make([]float64, len(d))
	for i, x := range d {
		f[i] = float64(x)
	}
	return time.Duration(median(f))
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func sum(d []time.Duration) time.Duration {
	var t time.Duration
	for _, x := range d {
		t += x
	}
	return t
}

// spread is the range of the per-round ratios a[i]/b[i], to show how much one round differs from the next.
func spread(a, b []time.Duration) string {
	if len(a) == 0 || len(a) != len(b) {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range a {
		r := float64(a[i]) / float64(b[i])
		lo, hi = min(lo, r), max(hi, r)
	}
	return fmt.Sprintf("%.2f-%.2f", lo, hi)
}

func spreadF(a, b []float64) string {
	if len(a) == 0 || len(a) != len(b) {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range a {
		r := a[i] / b[i]
		lo, hi = min(lo, r), max(hi, r)
	}
	return fmt.Sprintf("%.2f-%.2f", lo, hi)
}

type goal struct {
	id, measure string
	value       float64
	op          string // "<=", ">=", "<"
	limit       float64
	rounds      string // per-round (or per-repetition) range, when there is one
	unit        string
}

func (g goal) pass() bool {
	// Judged on the value as printed (three decimals, in the table and the RATIO line), so that the two agree.
	v := math.Round(g.value*1000) / 1000
	switch {
	case math.IsNaN(g.value):
		return false
	case g.op == "<=":
		return v <= g.limit
	case g.op == ">=":
		return v >= g.limit
	default:
		return v < g.limit
	}
}

func (b *bench) report() {
	r := &b.res
	w := b.out
	fmt.Fprintln(w, "auditbench: cost of the generated audited repositories (github.com/auditrepo/auditrepo)")
	for _, l := range r.env {
		fmt.Fprintln(w, "  "+l)
	}
	fmt.Fprintf(w, "  load average at the end %s (1-minute averages, this run's own work included; well above the\n"+
		"    CPU count means other processes competed with it and the ratios are inflated)\n", loadAvg())
	fmt.Fprintf(w, "  one round trip (SELECT 1): p50 %.0f us, p99 %.0f us\n", us(pct(r.rtt, 50)), us(pct(r.rtt, 99)))
	fmt.Fprintln(w, "  trips/op: round trips per call (statements sent; a batch counts once); server CPU: CPU time of the arm's server\n    process per call (from /proc; it includes the kernel's work for the commit flush)")
	fmt.Fprintln(w, `  arms (each on its own copy of the tables, same constraints and indexes, its own copy of the audit table;
    each connects as the application role, as an application would, so every arm passes privilege checks):
    raw        sqlc's query, no triggers (schema raw)
    audited    the generated repository (repo.AppointmentRepo) on the public tables: sqlc's statement with
               auditrepo_claim.claim as a condition, the SECURITY DEFINER statement triggers writing auditrepo.audit_log
    floor      sqlc's query + a plain AFTER statement trigger (not SECURITY DEFINER, no pinned search_path, no
               claim, actor columns NULL) derived from pg_get_functiondef of the generated function: the same
               audit row (schema floor)
    best peer  trigger + context as pghistory does it: set_config('auditbench.actor', ...) and sqlc's query in
               one pgx.Batch (one round trip, one implicit transaction); the derived trigger reads the actor
               from the setting (schema bestpeer)
    naive peer BEGIN; set_config; sqlc's query; COMMIT (four round trips), the same trigger (schema naivepeer)
    reference  sqlc's query + the bare AFTER ROW trigger writing to_jsonb(OLD)/to_jsonb(NEW) (schema trg)`)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\nSingle row, 1 client, %d ops per arm and op (latency per call)\n", len(r.single[armRaw][opUpdate]))
	fmt.Fprintln(tw, "op\tarm\tp50 us\tp99 us\tops/s\tp50/raw\tp50/floor\ttrips/op\tserver CPU us/op\t")
	for op := range nOps {
		raw := pct(r.single[armRaw][op], 50)
		floor := pct(r.single[armFloor][op], 50)
		for _, k := range allArms {
			lat := r.single[k][op]
			p50 := pct(lat, 50)
			cpu := "-"
			if c := r.serverCPU[k][op]; c > 0 {
				cpu = fmt.Sprintf("%.0f", us(c)/float64(len(lat)))
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%s\t%s\t\n", opNames[op], k, us(p50), us(pct(lat, 99)),
				float64(len(lat))/sum(lat).Seconds(), float64(p50)/float64(raw), float64(p50)/float64(floor), stmtsCol(r, k, op), cpu)
		}
	}
	tw.Flush()

	if len(r.conc[armRaw]) > 0 {
		fmt.Fprintf(w, "\n%d clients, Update, each client on its own connection and its own rows (%d ops per arm)\n", b.c.Clients, r.concOps[armRaw])
		fmt.Fprintln(tw, "arm\tp50 us\tp99 us\tops/s\tops/s / raw\tops/s / floor\t")
		rawRate := float64(r.concOps[armRaw]) / r.concWall[armRaw].Seconds()
		floorRate := float64(r.concOps[armFloor]) / r.concWall[armFloor].Seconds()
		for _, k := range allArms {
			rate := float64(r.concOps[k]) / r.concWall[k].Seconds()
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t\n", k, us(pct(r.conc[k], 50)), us(pct(r.conc[k], 99)), rate, rate/rawRate, rate/floorRate)
		}
		tw.Flush()
	}

	walRatio, walFloor := math.NaN(), math.NaN()
	if len(r.walSteady[armRaw]) > 0 {
		fmt.Fprintf(w, "\nWAL per Update, bytes (over %d sequential updates, median of %d; autovacuum off)\n  %s\n", b.c.WALOps, b.c.WALReps, r.walMethod)
		fmt.Fprintln(tw, "arm\tsteady\t/raw\t/floor\tafter CHECKPOINT\t/raw\t")
		rawS, rawC := median(r.walSteady[armRaw]), median(r.walCold[armRaw])
		floorS := median(r.walSteady[armFloor])
		for _, k := range allArms {
			s, c := median(r.walSteady[k]), median(r.walCold[k])
			fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.0f\t%.2f\t\n", k, s, s/rawS, s/floorS, c, c/rawC)
		}
		tw.Flush()
		walRatio = median(r.walSteady[armAudited]) / rawS
		walFloor = median(r.walSteady[armAudited]) / floorS
		fmt.Fprintln(w, "  steady: the same rows updated a second time, no full-page images; after CHECKPOINT: first pass, each page's first change logs the page")
		if r.walNote != "" {
			fmt.Fprintln(w, "  note: "+r.walNote)
		}
	}

	bulkRatio, bulkTrig := math.NaN(), math.NaN()
	if len(r.bulk[armRaw]) > 0 {
		n := float64(b.c.BulkRows)
		fmt.Fprintf(w, "\nBulk insert, %d rows in one call (median of %d)\n", b.c.BulkRows, b.c.BulkReps)
		fmt.Fprintln(tw, "arm\tms\tus/row\t/raw\t")
		raw := medianDur(r.bulk[armRaw])
		line := func(name string, d time.Duration) {
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f\t\n", name, float64(d)/1e6, us(d)/n, float64(d)/float64(raw))
		}
		line("raw: INSERT ... SELECT FROM unnest(...) RETURNING", raw)
		line("raw: COPY (pgx CopyFrom), reference", medianDur(r.bulkCopy))
		line("audited: CreateMany", medianDur(r.bulk[armAudited]))
		line("floor: the raw INSERT + statement trigger", medianDur(r.bulk[armFloor]))
		line("best peer: batch of set_config + the raw INSERT", medianDur(r.bulk[armBest]))
		line("naive peer: BEGIN; set_config; the raw INSERT; COMMIT", medianDur(r.bulk[armNaive]))
		line("reference: the raw INSERT + row trigger", medianDur(r.bulk[armRef]))
		tw.Flush()
		if r.bulkNote != "" {
			fmt.Fprintln(w, "  note: "+r.bulkNote)
		}
		bulkRatio = float64(medianDur(r.bulk[armAudited])) / float64(raw)
		bulkTrig = float64(medianDur(r.bulk[armRef])) / float64(medianDur(r.bulk[armAudited]))
	}

	genSec := math.NaN()
	if r.genErr != "" {
		fmt.Fprintf(w, "\nRegenerate all models: %s\n  FAILED: %s\n", r.genCmd, strings.ReplaceAll(r.genErr, "\n", "\n  "))
		genSec = math.Inf(1)
	}
	if len(r.gen) > 0 {
		warm := r.gen[1:]
		if len(warm) == 0 {
			warm = r.gen
		}
		genSec = medianDur(warm).Seconds()
		fmt.Fprintf(w, "\nRegenerate all models: %s\n", r.genCmd)
		var runs []string
		for i, d := range r.gen {
			tag := ""
			if i == 0 && len(r.gen) > 1 {
				tag = " (fills the build cache, not counted)"
			}
			runs = append(runs, fmt.Sprintf("%.2fs%s", d.Seconds(), tag))
		}
		fmt.Fprintf(w, "  runs: %s; warm median %.2fs\n", strings.Join(runs, ", "), genSec)
		fmt.Fprintf(w, "  output: %s\n", r.genMatches)
		switch {
		case len(r.sqlc) > 1:
			fmt.Fprintf(w, "  for reference, the other go:generate step, %s (on a copy of its inputs): %.2fs warm, so go generate ~ %.1fs\n",
				r.sqlcCmd, r.sqlc[len(r.sqlc)-1].Seconds(), r.sqlc[len(r.sqlc)-1].Seconds()+genSec)
		case r.sqlcNote != "":
			fmt.Fprintf(w, "  the sqlc go:generate step: %s\n", r.sqlcNote)
		}
	}

	var counts []string
	for _, k := range allArms {
		counts = append(counts, fmt.Sprintf("%s %d (%d with actor)", k, r.auditRows[k][0], r.auditRows[k][1]))
	}
	fmt.Fprintf(w, "\nChecks: audit rows of the benchmarked appointments: %s\n", strings.Join(counts, ", "))
	if len(r.verify) > 0 {
		fmt.Fprintln(w, "  the same sample of changes in one transaction (inserts, multi-row PHI updates, a patient move,\n"+
			"  a nonphi-only and a no-op update, deletes), digests (md5) of the audit rows; must be equal:")
		fmt.Fprintln(tw, "  arm\trows\tchanges\trow w/o id+actor\tserver facts\tactor columns (distinct)\t")
		for _, v := range r.verify {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t\n", v.arm, v.rows, v.changes, v.row, v.facts, v.actor)
		}
		tw.Flush()
		if r.verifyErr != "" {
			fmt.Fprintf(w, "  VERIFY FAILED: %s\n", r.verifyErr)
		} else {
			fmt.Fprintln(w, "  identical: floor, best peer and naive peer write the audited arm's rows byte for byte (actor columns aside)")
		}
	}

	b.reportBreakdown(tw)
	b.reportTrail(tw)

	p50 := func(k armKind, op opKind) float64 { return float64(pct(r.single[k][op], 50)) }
	rate := func(k armKind) float64 { return float64(r.concOps[k]) / r.concWall[k].Seconds() }
	goals := []goal{
		{"P1", "audited Update p50 / raw Update p50", p50(armAudited, opUpdate) / p50(armRaw, opUpdate), "<=", 1.25,
			spread(r.singleRnd[armAudited][opUpdate], r.singleRnd[armRaw][opUpdate]), ""},
		{"P1F", "audited Update p50 / floor Update p50", p50(armAudited, opUpdate) / p50(armFloor, opUpdate), "<=", 1.05,
			spread(r.singleRnd[armAudited][opUpdate], r.singleRnd[armFloor][opUpdate]), ""},
		{"P2c", "audited Create p50 / raw Create p50", p50(armAudited, opCreate) / p50(armRaw, opCreate), "<=", 1.25,
			spread(r.singleRnd[armAudited][opCreate], r.singleRnd[armRaw][opCreate]), ""},
		{"P2cF", "audited Create p50 / floor Create p50", p50(armAudited, opCreate) / p50(armFloor, opCreate), "<=", 1.05,
			spread(r.singleRnd[armAudited][opCreate], r.singleRnd[armFloor][opCreate]), ""},
		{"P2d", "audited Delete p50 / raw Delete p50", p50(armAudited, opDelete) / p50(armRaw, opDelete), "<=", 1.25,
			spread(r.singleRnd[armAudited][opDelete], r.singleRnd[armRaw][opDelete]), ""},
		{"P2dF", "audited Delete p50 / floor Delete p50", p50(armAudited, opDelete) / p50(armFloor, opDelete), "<=", 1.05,
			spread(r.singleRnd[armAudited][opDelete], r.singleRnd[armFloor][opDelete]), ""},
		{"P3", fmt.Sprintf("audited ops/s / raw ops/s, %d clients", b.c.Clients), rate(armAudited) / rate(armRaw), ">=", 0.80,
			spreadF(r.concRound[armAudited], r.concRound[armRaw]), ""},
		{"P3F", fmt.Sprintf("audited ops/s / floor ops/s, %d clients", b.c.Clients), rate(armAudited) / rate(armFloor), ">=", 0.95,
			spreadF(r.concRound[armAudited], r.concRound[armFloor]), ""},
		{"P4B", "best peer Update p50 / audited Update p50", p50(armBest, opUpdate) / p50(armAudited, opUpdate), ">=", 1.0,
			spread(r.singleRnd[armBest][opUpdate], r.singleRnd[armAudited][opUpdate]), ""},
		{"P4", "naive peer Update p50 / audited Update p50", p50(armNaive, opUpdate) / p50(armAudited, opUpdate), ">=", 1.6,
			spread(r.singleRnd[armNaive][opUpdate], r.singleRnd[armAudited][opUpdate]), ""},
		{"P5", fmt.Sprintf("CreateMany %d: audited us/row / raw unnest us/row", b.c.BulkRows), bulkRatio, "<=", 1.5,
			spread(r.bulk[armAudited], r.bulk[armRaw]), ""},
		{"P5T", fmt.Sprintf("bulk %d: row-trigger reference us/row / audited us/row", b.c.BulkRows), bulkTrig, ">=", 1.8,
			spread(r.bulk[armRef], r.bulk[armAudited]), ""},
		{"P6", "WAL bytes per audited Update / raw Update (steady)", walRatio, "<=", 3.0,
			spreadF(r.walSteady[armAudited], r.walSteady[armRaw]), ""},
		{"P6F", "WAL bytes per audited Update / floor Update (steady)", walFloor, "<=", 1.05,
			spreadF(r.walSteady[armAudited], r.walSteady[armFloor]), ""},
		{"P7", "seconds to regenerate all models, warm", genSec, "<", 3, "", "s"},
		{"P8", "trail p50 at the big size / p50 at the small size", ratioP8(r), "<=", 1.5, trailSizes(r), ""},
		{"P10", "rows sealed per second / audited Update ops/s (1 client)", ratioP10(r), ">=", 10, "", ""},
	}
	fmt.Fprintln(w, "\nGoals")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tmeasure\tvalue\tgoal\trange over rounds\tresult\t")
	for _, g := range goals {
		res := "PASS"
		if !g.pass() {
			res = "FAIL"
		}
		if math.IsNaN(g.value) {
			res = "not run"
		}
		// Three decimals, as judged (pass): 0.948 is not >= 0.95.
		fmt.Fprintf(tw, "%s\t%s\t%.3f%s\t%s %g%s\t%s\t%s\t\n", g.id, g.measure, g.value, g.unit, g.op, g.limit, g.unit, g.rounds, res)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, g := range goals {
		if !math.IsNaN(g.value) {
			fmt.Fprintf(w, "RATIO %s %.3f\n", g.id, g.value)
		} else if g.id == "P8" && r.trailSmall != nil {
			fmt.Fprintln(w, "RATIO P8 skipped")
		}
	}
}

// stmtsCol is the statements (so round trips) per call.
func stmtsCol(r *results, k armKind, op opKind) string {
	return fmt.Sprintf("%.1f", float64(r.stmts[k][op])/float64(len(r.single[k][op])))
}
