package reliability_test

// Contention: many goroutines writing one record through one pool. The audit trail must be a gapless chain
// in commit order (audit_log.id order for one record, since ids are assigned under the row lock), with
// exactly one row per committed change and none for changes that did not happen.

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrepo/auditrepo/audit"
	"github.com/auditrepo/auditrepo/gen/db"
	"github.com/auditrepo/auditrepo/internal/clinictest"
)

var apptRedact = []string{"notes"}

// TestContentionUpdatesOneAppointment: 32 goroutines x 200 Updates of one appointment through a 16-connection
// pool. Each Update sets a unique type, so each writes an audit row.
func TestContentionUpdatesOneAppointment(t *testing.T) {
	const workers, perWorker = 32, 200
	g := clinictest.New(t, clinictest.PoolSize(16, asyncCommit))
	a := g.Appointment(t, g.Sys, db.CreateAppointmentParams{Type: "initial", Notes: "secret note"})

	start := time.Now()
	var wg sync.WaitGroup
	errs := make([][]error, workers)
	for w := range workers {
		errs[w] = make([]error, perWorker)
		wg.Go(func() {
			for i := range perWorker {
				_, errs[w][i] = g.R.Appointment.Update(g.Ctx, apptUpdate(a, fmt.Sprintf("w%02d-%03d", w, i)))
			}
		})
	}
	wg.Wait()
	t.Logf("%d updates in %v", workers*perWorker, time.Since(start).Round(time.Millisecond))
	failed := 0
	for w := range errs {
		for i, err := range errs[w] {
			if err != nil {
				if failed++; failed <= 5 {
					t.Errorf("update w%02d-%03d: %v", w, i, err)
				}
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d updates failed", failed, workers*perWorker)
	}

	start = time.Now()
	trail := g.CheckChain(t, "appointments", a.ID, apptRedact, true)
	t.Logf("trail of %d rows read and checked in %v", len(trail), time.Since(start).Round(time.Millisecond))
	counts := map[string]int{}
	for _, r := range trail {
		counts[r.Action]++
	}
	if counts["CREATE"] != 1 || counts["UPDATE"] != workers*perWorker || len(trail) != 1+workers*perWorker {
		t.Errorf("audit rows by action = %v (total %d), want 1 CREATE and exactly %d UPDATE", counts, len(trail), workers*perWorker)
	}
	// Each worker's updates are sequential, so its values must appear in its own order, each exactly once.
	next := make([]int, workers)
	for _, r := range trail[1:] {
		var w, i int
		typ := str(r.Image()["type"])
		if _, err := fmt.Sscanf(typ, "w%02d-%03d", &w, &i); err != nil || w >= workers {
			t.Errorf("audit row %d: type %q was never written", r.ID, typ)
			continue
		}
		if i != next[w] {
			t.Errorf("audit row %d: worker %d's update %d, expected its update %d next", r.ID, w, i, next[w])
		}
		next[w] = i + 1
	}
}

// TestContentionDeleteRacingUpdates: updaters hammer one appointment while a Delete lands midway (at a
// different point in each round). Every Update either commits with its audit row before the DELETE row or
// fails with ErrNotFound and leaves no trace; the DELETE records the last committed version; once Delete has
// returned, every Update gets ErrNotFound.
func TestContentionDeleteRacingUpdates(t *testing.T) {
	const workers, perWorker = 16, 60
	g := clinictest.New(t, clinictest.PoolSize(16, asyncCommit))
	for round, deleteAfter := range []int{1, workers * perWorker / 4, workers * perWorker / 2, workers * perWorker * 3 / 4} {
		t.Run(fmt.Sprintf("delete-after-%d", deleteAfter), func(t *testing.T) {
			a := g.Appointment(t, g.Sys, db.CreateAppointmentParams{Type: fmt.Sprintf("round%d", round), Notes: "secret note"})
			type result struct {
				typ          string
				err          error
				afterDeleted bool // started after Delete had returned
			}
			results := make([][]result, workers)
			var done atomic.Int64
			var deleted atomic.Bool
			var deleteErr error
			var wg sync.WaitGroup
			wg.Go(func() {
				for done.Load() < int64(deleteAfter) {
					time.Sleep(50 * time.Microsecond)
				}
				deleteErr = g.R.Appointment.Delete(g.Ctx, a.ID)
				deleted.Store(true)
			})
			for w := range workers {
				results[w] = make([]result, perWorker)
				wg.Go(func() {
					for i := range perWorker {
						res := &results[w][i]
						res.typ = fmt.Sprintf("r%d-w%02d-%03d", round, w, i)
						res.afterDeleted = deleted.Load()
						_, res.err = g.R.Appointment.Update(g.Ctx, apptUpdate(a, res.typ))
						done.Add(1)
					}
				})
			}
			wg.Wait()
			if deleteErr != nil {
				t.Fatalf("Delete: %v", deleteErr)
			}

			committed := map[string]bool{}
			var ok, notFound int
			for w := range results {
				gone := false
				for _, res := range results[w] {
					switch {
					case res.err == nil:
						ok++
						committed[res.typ] = true
						if gone {
							t.Errorf("update %s succeeded after an earlier update of the same worker found the row deleted", res.typ)
						}
						if res.afterDeleted {
							t.Errorf("update %s started after Delete returned but succeeded", res.typ)
						}
					case errors.Is(res.err, audit.ErrNotFound):
						notFound++
						gone = true
					default:
						t.Errorf("update %s: %v, want success or ErrNotFound", res.typ, res.err)
					}
				}
			}
			t.Logf("%d updates committed, %d found the row deleted", ok, notFound)

			trail := g.CheckChain(t, "appointments", a.ID, apptRedact, false)
			if len(trail) == 0 || trail[len(trail)-1].Action != "DELETE" {
				t.Fatalf("trail does not end with DELETE")
			}
			seen := map[string]bool{}
			for _, r := range trail[1 : len(trail)-1] {
				typ := str(r.Image()["type"])
				if !committed[typ] {
					t.Errorf("audit row %d describes version %q, which no successful Update wrote", r.ID, typ)
				}
				seen[typ] = true
			}
			if len(trail)-2 != ok {
				t.Errorf("%d UPDATE rows, %d successful updates", len(trail)-2, ok)
			}
			for typ := range committed {
				if !seen[typ] {
					t.Errorf("successful update %s has no audit row", typ)
				}
			}
		})
	}
}

// TestContentionConcurrentDeletes: concurrent Deletes of one record: exactly one succeeds and writes one
// DELETE row; the others get ErrNotFound and write nothing.
func TestContentionConcurrentDeletes(t *testing.T) {
	g := clinictest.New(t, clinictest.PoolSize(16, asyncCommit))
	for round := range 10 {
		a := g.Appointment(t, g.Sys, db.CreateAppointmentParams{Type: fmt.Sprintf("del%d", round), Notes: "secret note"})
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		var gate sync.WaitGroup
		gate.Add(1)
		for i := range n {
			wg.Go(func() {
				gate.Wait()
				errs[i] = g.R.Appointment.Delete(g.Ctx, a.ID)
			})
		}
		gate.Done()
		wg.Wait()
		var ok int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, audit.ErrNotFound):
				t.Errorf("round %d: Delete: %v, want success or ErrNotFound", round, err)
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d Deletes succeeded, want 1", round, ok)
		}
		trail := g.CheckChain(t, "appointments", a.ID, apptRedact, false)
		if len(trail) != 2 {
			t.Errorf("round %d: %d audit rows, want CREATE and one DELETE", round, len(trail))
		}
	}
}
