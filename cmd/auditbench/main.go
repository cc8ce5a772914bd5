// Command auditbench measures what auditing costs: the generated audited repositories (sqlc's statement with
// auditrepo_claim.claim as one more condition, SECURITY DEFINER statement triggers writing the audit rows) against the raw sqlc queries they
// wrap, against the floor (the same trigger without the claim and the security machinery), and against the
// usual alternatives, a trigger reading its actor from a setting (the way pghistory does it) and a row trigger.
//
// It needs a PostgreSQL server in DATABASE_URL (a role that may create databases and is a member of the application
// role, which every arm's connection acts as; a superuser also lets it CHECKPOINT before the WAL measurement and
// each bulk repetition, and read WAL with pg_walinspect). It creates a fresh database auditbench_<random>, migrates it with
// migrations.Up, seeds it from a fixed random seed, runs every phase with the arms interleaved, checks that the
// floor and the peers write the audited arm's audit rows byte for byte, prints a table followed by one
// "RATIO <id> <value>" line per goal, and drops the database. Run it as
//
//	make bench
//	scripts/with-postgres.sh go run ./cmd/auditbench   # the same, by hand
//
// from the module root (the generator timing P7 runs the go:generate command line of models.go there).
//
// The arms live in schemas of the same database, so one arm's triggers never fire for another:
//
//	raw         the sqlc queries on copies of the tables in schema raw: no audit at all
//	audited     the generated repositories on the real public tables (claim + the generated triggers,
//	            writing auditrepo.audit_log)
//	floor       the sqlc queries on copies in schema floor, with a plain AFTER statement trigger derived from
//	            the generated one (pg_get_functiondef, rewritten: not SECURITY DEFINER, no pinned search_path,
//	            no claim, actor columns NULL) writing the same rows into floor.audit_log
//	best peer   schema bestpeer: set_config of the actor and the sqlc query in one pgx.Batch (one round trip,
//	            one implicit transaction); the derived trigger reads the actor from the setting
//	naive peer  schema naivepeer: BEGIN; set_config; the sqlc query; COMMIT, the same trigger
//	reference   schema trg: the sqlc query + an AFTER ROW trigger writing to_jsonb(OLD)/to_jsonb(NEW)
//
// The copies are CREATE TABLE ... (LIKE public.t INCLUDING ALL) with the foreign keys re-created between the
// copies, so each arm checks the same constraints and maintains the same indexes; each copy of the audit table
// is LIKE auditrepo.audit_log INCLUDING ALL with the same partitions.
//
// With -breakdown N it also times, on the server, where the audited path's time goes beyond the floor's and
// what cheaper variants of auditrepo_claim.claim, auditrepo.actor, auditrepo_claim.claim_prefix would save (breakdown.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is one run's parameters; the defaults are the full `make bench` run.
type config struct {
	URL           string
	Seed          uint64
	Rows          int // appointments seeded per arm (the rows the updates pick from)
	Warmup        int // untimed operations per arm, op kind and connection before the first round
	Rounds        int // rounds of the single-row and concurrent phases
	Ops           int // single-row operations per arm, op kind and round
	Block         int // single-row operations an arm runs before the next arm's turn
	Clients       int // concurrent clients, each on its own connection
	ClientOps     int // operations per client, arm and round in the concurrent phase
	BulkRows      int // rows per CreateMany
	BulkReps      int // timed CreateMany calls per arm
	WALOps        int // updates per arm and repetition in the WAL measurement
	WALReps       int
	GenRuns       int    // runs of the generator; the first warms the build cache, the rest are timed. 0 skips P7
	ModuleDir     string // module root, for P7; empty: the output of go env GOMOD
	Breakdown     int    // statements per variant and run of the server-side breakdown; 0 skips it
	BreakdownRuns int
	TrailRows     int    // rows of the small synthetic trail (P8) and of the seal (P10); 0 skips both
	TrailBig      int    // rows of the big synthetic trail (P8); 0 skips it (BENCH_TRAIL=10m: 10M)
	TrailRuns     int    // timed reads of the chosen patient's trail per size
	TrailPatients int    // patients of the synthetic trail
	TrailEvents   int    // events of the chosen patient (at most a tenth of the rows)
	TrailMonths   int    // monthly partitions of the synthetic trail
	TrailAlts     string // auto: when P8 misses its goal, measure the alternatives (CLUSTER, covering index); always; never
	Keep          bool   // keep the database instead of dropping it
	Quiet         bool   // no progress lines on stderr
}

func main() {
	var c config
	flag.Uint64Var(&c.Seed, "seed", 1, "seed of the generated data")
	flag.IntVar(&c.Rows, "rows", 5000, "appointments seeded per arm")
	flag.IntVar(&c.Warmup, "warmup", 200, "untimed operations per arm, op kind and connection before timing")
	flag.IntVar(&c.Rounds, "rounds", 8, "rounds per phase, arms interleaved in rotating order")
	flag.IntVar(&c.Ops, "ops", 300, "single-row operations per arm, op kind and round")
	flag.IntVar(&c.Block, "block", 10, "single-row operations per turn of an arm (arms take turns within a round)")
	flag.IntVar(&c.Clients, "clients", 4, "concurrent clients")
	flag.IntVar(&c.ClientOps, "client-ops", 250, "operations per client, arm and round in the concurrent phase")
	flag.IntVar(&c.BulkRows, "bulk", 10000, "rows per bulk insert")
	flag.IntVar(&c.BulkReps, "bulk-reps", 7, "timed bulk inserts per arm")
	flag.IntVar(&c.WALOps, "wal-ops", 300, "updates per arm and repetition in the WAL measurement")
	flag.IntVar(&c.WALReps, "wal-reps", 3, "repetitions of the WAL measurement")
	flag.IntVar(&c.GenRuns, "gen-runs", 4, "generator runs for P7 (the first is not timed); 0 skips P7")
	flag.StringVar(&c.ModuleDir, "dir", "", "module root for P7 (default: from go env GOMOD)")
	flag.IntVar(&c.Breakdown, "breakdown", 0, "server-side breakdown of the audited path's cost over the floor's: single-row updates per variant and run (0 skips it)")
	flag.IntVar(&c.BreakdownRuns, "breakdown-runs", 5, "runs of the breakdown (the minimum counts)")
	flag.IntVar(&c.TrailRows, "trail-rows", 10000, "rows of the small synthetic trail (P8) that is sealed with the bench's rows (P10); 0 skips P8 and P10")
	flag.IntVar(&c.TrailBig, "trail-big", 0, "rows of the big synthetic trail (P8); default from BENCH_TRAIL (10m: 10,000,000), else 0: skipped")
	flag.IntVar(&c.TrailRuns, "trail-runs", 30, "timed reads of the chosen patient's trail per size")
	flag.IntVar(&c.TrailPatients, "trail-patients", 100000, "patients of the synthetic trail")
	flag.IntVar(&c.TrailEvents, "trail-events", 1000, "events of the chosen patient in the synthetic trail")
	flag.IntVar(&c.TrailMonths, "trail-months", 72, "monthly partitions of the synthetic trail")
	flag.StringVar(&c.TrailAlts, "trail-alts", "auto", "measure the big trail after CLUSTER and with a covering index: auto (when P8 misses its goal), always or never")
	flag.BoolVar(&c.Keep, "keep", false, "keep the benchmark database")
	flag.BoolVar(&c.Quiet, "q", false, "no progress on stderr")
	sameSQL := flag.Bool("same-sql", false, "print the SQL that makes the generated trigger function of appointments in DATABASE_URL's own database plain, as the floor's is (scripts/callgrind.sh's arm same), and exit")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: DATABASE_URL=postgres://... auditbench [flags]\n")
		flag.PrintDefaults()
	}
	big, err := parseTrailSize(os.Getenv("BENCH_TRAIL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "auditbench:", err)
		os.Exit(2)
	}
	flag.Parse()
	switch c.TrailAlts {
	case "auto", "always", "never":
	default:
		fmt.Fprintf(os.Stderr, "auditbench: -trail-alts %q: want auto, always or never\n", c.TrailAlts)
		os.Exit(2)
	}
	if !isFlagSet("trail-big") {
		c.TrailBig = big
	}
	c.URL = os.Getenv("DATABASE_URL")
	if c.URL == "" || flag.NArg() > 0 {
		flag.Usage()
		fmt.Fprintln(os.Stderr, "auditbench: DATABASE_URL is not set (make bench starts a throwaway cluster)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *sameSQL {
		if err := printSameSQL(ctx, c.URL, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "auditbench:", err)
			os.Exit(1)
		}
		return
	}
	start := time.Now()
	if _, err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auditbench:", err)
		os.Exit(1)
	}
	if !c.Quiet {
		fmt.Fprintf(os.Stderr, "auditbench: done in %s\n", time.Since(start).Round(time.Second))
	}
}

func isFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
