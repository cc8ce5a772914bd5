package main

import (
	"bytes"
	"context"
	"net"
	neturl "net/url"
	"os"
	"regexp"
	"sync"
	"testing"
)

// The server is $DATABASE_URL, else the one the other tests use (internal/testdb): PGHOST, PGPORT, PGUSER and
// PGPASSWORD, default postgres@127.0.0.1:5432. The user must be able to create databases and, the first time on
// a server, the roles of the migrations. Nothing here asserts anything about time: a test run's numbers mean
// nothing.

func testConfig(t testing.TB) config {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		u := neturl.URL{Scheme: "postgres", Path: "/postgres", RawQuery: "sslmode=disable",
			Host: net.JoinHostPort(envOr("PGHOST", "127.0.0.1"), envOr("PGPORT", "5432"))}
		if pw := os.Getenv("PGPASSWORD"); pw != "" {
			u.User = neturl.UserPassword(envOr("PGUSER", "postgres"), pw)
		} else {
			u.User = neturl.User(envOr("PGUSER", "postgres"))
		}
		url = u.String()
	}
	return config{
		URL: url, Seed: 1, Rows: 100, Warmup: 3, Rounds: 2, Ops: 6, Block: 4, Clients: 2, ClientOps: 3,
		BulkRows: 50, BulkReps: 1, WALOps: 5, WALReps: 1, GenRuns: 0, Breakdown: 5, BreakdownRuns: 1, Quiet: true,
		TrailRows: 1000, TrailRuns: 3, TrailPatients: 1000, TrailEvents: 1000, TrailMonths: 72,
	}
}

// TestRun runs every phase at a tiny size and checks that each arm did what it stands for: every trigger arm
// wrote as many audit rows as the audited arm, the raw arm none, the audited arm and both peers recorded the
// actor on every row, the floor and the reference on none, the floor and the peers wrote the audited arm's rows
// byte for byte (run fails otherwise), every audited call was one statement and every best-peer call one
// round trip, and the report ends with the RATIO lines.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("creates and migrates a database")
	}
	c := testConfig(t)
	var out bytes.Buffer
	res, err := run(t.Context(), c, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	rows := res.auditRows
	if rows[armRaw][0] != 0 {
		t.Errorf("raw arm wrote %d audit rows", rows[armRaw][0])
	}
	n := rows[armAudited][0]
	if n == 0 {
		t.Errorf("the audited arm wrote no audit rows")
	}
	for _, k := range []armKind{armAudited, armBest, armNaive} {
		if rows[k] != [2]int64{n, n} {
			t.Errorf("%s arm audit rows (count, with actor) %v; want %d, all with actor", k, rows[k], n)
		}
	}
	for _, k := range []armKind{armFloor, armRef} {
		if rows[k] != [2]int64{n, 0} {
			t.Errorf("%s arm audit rows (count, with actor) %v; want %d, none with actor", k, rows[k], n)
		}
	}
	if len(res.bdStmt) == 0 || len(res.bdCall) == 0 {
		t.Errorf("no breakdown")
	}
	if len(res.verify) != len(verifyArms) || res.verify[0].rows == 0 {
		t.Errorf("verification: %+v", res.verify)
	}
	for _, k := range []armKind{armAudited, armBest} {
		for _, s := range res.stmts[k] {
			if want := int64(c.Rounds * c.Ops); s != want {
				t.Errorf("%s arm made %d round trips for %d calls; want one each", k, s, want)
			}
		}
	}
	for _, id := range []string{"P1", "P1F", "P2c", "P2cF", "P2d", "P2dF", "P3", "P3F", "P4B", "P4", "P5", "P5T", "P6", "P6F", "P10"} {
		if !regexp.MustCompile(`(?m)^RATIO ` + id + ` [0-9.]+$`).Match(out.Bytes()) {
			t.Errorf("no RATIO %s line in the report:\n%s", id, out.String())
		}
	}
	if !regexp.MustCompile(`(?m)^RATIO P8 skipped$`).Match(out.Bytes()) {
		t.Errorf("no RATIO P8 skipped line in the report")
	}
	if res.trailSmall == nil || res.trailSmall.events != 100 || len(res.trailSmall.lat) != c.TrailRuns {
		t.Errorf("small trail: %+v", res.trailSmall)
	}
	if res.seal.err != "" || res.seal.rows == 0 || res.seal.verifiedRows != int64(res.seal.rows) {
		t.Errorf("seal: %+v", res.seal)
	}
	if t.Failed() {
		t.Logf("report:\n%s", out.String())
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var (
	benchOnce  sync.Once
	sharedB    *bench
	sharedErr  error
	benchClean func()
)

// sharedBench is one seeded database for all the Benchmark functions, dropped by TestMain.
func sharedBench(tb testing.TB) *bench {
	c := testConfig(tb)
	c.Rows, c.Clients = 5000, 1
	benchOnce.Do(func() {
		sharedB, sharedErr = newBench(context.Background(), c, os.Stdout)
		if sharedErr == nil {
			benchClean = sharedB.cleanup
			sharedErr = sharedB.warmup(context.Background())
		}
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return sharedB
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchClean != nil {
		benchClean()
	}
	os.Exit(code)
}

// BenchmarkSingle times one call of each arm and operation on one connection:
//
//	DATABASE_URL=... go test ./cmd/auditbench -run '^$' -bench . -benchtime 2000x
//
// cmd/auditbench itself is the measurement of record (interleaved arms, percentiles, goals).
func BenchmarkSingle(b *testing.B) {
	env := sharedBench(b)
	ctx := context.Background()
	for _, op := range []opKind{opCreate, opUpdate, opDelete} {
		for _, k := range allArms {
			b.Run(opNames[op]+"/"+k.String(), func(b *testing.B) {
				a := env.arms[k]
				cl := a.clients[0]
				rng := rngFor(env.c, 9, int(op))
				switch op {
				case opCreate:
					ps := env.s.newAppointments(rng, 256)
					i := 0
					for b.Loop() {
						if _, err := cl.create(ctx, ps[i%len(ps)]); err != nil {
							b.Fatal(err)
						}
						i++
					}
				case opUpdate:
					for b.Loop() {
						if err := cl.update(ctx, a.updateParams(env.s, rng.IntN(len(env.s.appts)))); err != nil {
							b.Fatal(err)
						}
					}
				case opDelete:
					// Each deletion needs a row: create it with the raw arm's statement, untimed.
					ps := env.s.newAppointments(rng, 256)
					i := 0
					for b.Loop() {
						b.StopTimer()
						id, err := (&client{arm: &arm{kind: armRaw}, q: cl.q}).create(ctx, ps[i%len(ps)])
						if err != nil {
							b.Fatal(err)
						}
						i++
						b.StartTimer()
						if err := cl.delete(ctx, id); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
