package seal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// TestTamper: every way of changing a sealed trail as a superuser is detected, naming the first bad row or the
// checkpoint. Each case gets three transactions of five rows, sealed in two checkpoints (10 and 15 rows).
func TestTamper(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(s setup)
		id     func(s setup) int64 // the first bad row; nil: a bad checkpoint
		kind   string
	}{
		{"edit changes", func(s setup) {
			s.exec(`UPDATE auditrepo.audit_log SET changes = jsonb_set(changes, '{name,1}', '"Eve"') WHERE id = $1`, s.ids[6])
		}, nth(6), "edited"},
		{"edit changes key order only", func(s setup) {
			// jsonb reorders keys itself, so this is a no-op write: the canonical encoding must not see a change.
			s.exec(`UPDATE auditrepo.audit_log SET changes = (changes::text)::jsonb WHERE id = $1`, s.ids[6])
		}, nil, ""},
		{"edit actor", func(s setup) { s.exec(`UPDATE auditrepo.audit_log SET actor_id = 8 WHERE id = $1`, s.ids[2]) }, nth(2), "edited"},
		{"edit NULL to empty", func(s setup) {
			s.exec(`UPDATE auditrepo.audit_log SET user_agent = '' WHERE id = $1`, s.ids[3])
		}, nth(3), "edited"},
		{"edit time", func(s setup) {
			s.exec(`UPDATE auditrepo.audit_log SET occurred_at = occurred_at - interval '1 microsecond' WHERE id = $1`, s.ids[8])
		}, nth(8), "edited"},
		{"move the time to BC", func(s setup) {
			// The same year, month, day and time, BC: the era must be part of the leaf.
			s.exec(`UPDATE auditrepo.audit_log SET occurred_at = (occurred_at::text || ' BC')::timestamptz WHERE id = $1`, s.ids[8])
		}, nth(8), "edited"},
		{"edit patient", func(s setup) { s.exec(`UPDATE auditrepo.audit_log SET patient_id = 2 WHERE id = $1`, s.ids[11]) }, nth(11), "edited"},
		{"delete a row", func(s setup) { s.exec(`DELETE FROM auditrepo.audit_log WHERE id = $1`, s.ids[5]) }, nth(5), "missing"},
		{"delete the last rows", func(s setup) { s.exec(`DELETE FROM auditrepo.audit_log WHERE id >= $1`, s.ids[12]) }, nth(12), "missing"},
		{"insert a row in the middle", func(s setup) {
			s.exec(`INSERT INTO auditrepo.audit_log (id, transaction_id, actor_kind, action, target_table, target_id, patient_id, changes)
				OVERRIDING SYSTEM VALUE VALUES (1000, $1, 'user', 'DELETE', 'patients', 3, 1, '{}')`, s.xids[4])
		}, func(setup) int64 { return 1000 }, "inserted"},
		{"insert a row at the end", func(s setup) {
			s.exec(`INSERT INTO auditrepo.audit_log (id, transaction_id, actor_kind, action, target_table, target_id, patient_id, changes)
				OVERRIDING SYSTEM VALUE VALUES (2000, $1, 'user', 'DELETE', 'patients', 3, 1, '{}')`, s.xids[14])
		}, func(setup) int64 { return 2000 }, "inserted"},
		{"insert a row of a transaction not started", func(s setup) {
			// Above every watermark, so never sealed: it must not pass as not sealed yet, forever.
			s.exec(`INSERT INTO auditrepo.audit_log (id, transaction_id, actor_kind, action, target_table, target_id, patient_id, changes)
				OVERRIDING SYSTEM VALUE VALUES (3000, '900000000000', 'user', 'DELETE', 'patients', 3, 1, '{}')`)
		}, func(setup) int64 { return 3000 }, "inserted"},
		{"insert a copy of a row", func(s setup) {
			s.exec(`CREATE TABLE copy AS SELECT * FROM auditrepo.audit_log WHERE id = $1`, s.ids[7])
			s.exec(`UPDATE copy SET occurred_at = occurred_at + interval '1 microsecond'`)
			s.exec(`INSERT INTO auditrepo.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM copy`)
		}, nth(7), "inserted"},
		{"insert a copy of a row before it", func(s setup) {
			s.exec(`CREATE TABLE copy AS SELECT * FROM auditrepo.audit_log WHERE id = $1`, s.ids[7])
			s.exec(`UPDATE copy SET occurred_at = occurred_at - interval '1 microsecond'`)
			s.exec(`INSERT INTO auditrepo.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM copy`)
		}, nth(7), "inserted"},
		{"swap two rows' contents", func(s setup) {
			s.exec(`UPDATE auditrepo.audit_log a SET changes = b.changes, target_id = b.target_id
				FROM auditrepo.audit_log b WHERE (a.id, b.id) IN (($1, $2), ($2, $1))`, s.ids[4], s.ids[11])
		}, nth(4), "edited"},
		{"change an id", func(s setup) {
			s.exec(`CREATE TABLE copy AS SELECT * FROM auditrepo.audit_log WHERE id = $1`, s.ids[7])
			s.exec(`UPDATE copy SET id = 8000`)
			s.exec(`DELETE FROM auditrepo.audit_log WHERE id = $1`, s.ids[7])
			s.exec(`INSERT INTO auditrepo.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM copy`)
		}, nth(7), "missing"},
		{"move a row to another transaction", func(s setup) {
			s.exec(`UPDATE auditrepo.audit_log SET transaction_id = $2 WHERE id = $1`, s.ids[1], s.xids[9])
		}, nth(1), "reordered"},
		{"truncate and rebuild", func(s setup) {
			s.exec(`CREATE TABLE copy AS SELECT * FROM auditrepo.audit_log`)
			s.exec(`TRUNCATE auditrepo.audit_log`)
			s.exec(`INSERT INTO auditrepo.audit_log (id, occurred_at, db_role, client_addr, application, actor_kind, actor_id, ip,
				user_agent, request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes)
				OVERRIDING SYSTEM VALUE SELECT id, occurred_at, db_role, client_addr, application, actor_kind, actor_id, ip,
				user_agent, request_id, method, action, target_table, target_id, patient_id, prior_patient_id, changes
				FROM copy WHERE id <> $1 ORDER BY id`, s.ids[9])
		}, nth(0), "reordered"},
		{"roll the table back to a backup", func(s setup) {
			s.exec(`TRUNCATE auditrepo.audit_log`)
			s.exec(`INSERT INTO auditrepo.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM backup`)
		}, nth(10), "missing"},
		{"roll the table and the seal tables back to a backup", func(s setup) {
			s.exec(`TRUNCATE auditrepo.audit_log, auditrepo.seal_checkpoint, auditrepo.seal_leaf`)
			s.exec(`INSERT INTO auditrepo.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM backup`)
			s.exec(`INSERT INTO auditrepo.seal_checkpoint SELECT * FROM backup_checkpoint`)
			s.exec(`INSERT INTO auditrepo.seal_leaf SELECT * FROM backup_leaf`)
		}, nil, "checkpoint"},
		{"replace a checkpoint", func(s setup) {
			s.exec(`UPDATE auditrepo.seal_checkpoint SET note = regexp_replace(note, 'watermark \d+', 'watermark 1') WHERE tree_size = 10`)
		}, nil, "checkpoint"},
		{"delete the checkpoints", func(s setup) { s.exec(`DELETE FROM auditrepo.seal_checkpoint`) }, nil, "checkpoint"},
		{"delete the latest checkpoint", func(s setup) {
			s.exec(`DELETE FROM auditrepo.seal_checkpoint WHERE tree_size = 15`)
			s.exec(`DELETE FROM auditrepo.seal_leaf WHERE leaf_index >= 10`)
		}, nil, "checkpoint"},
		{"sign a checkpoint with another key", func(s setup) {
			other, _ := keys(t, "clinic.example/audit")
			var signed string
			if err := s.db.QueryRow(context.Background(), `SELECT note FROM auditrepo.seal_checkpoint WHERE tree_size = 15`).Scan(&signed); err != nil {
				t.Fatal(err)
			}
			n, err := note.Open([]byte(signed), note.VerifierList(s.v))
			if err != nil {
				t.Fatal(err)
			}
			forged, err := note.Sign(&note.Note{Text: n.Text}, other)
			if err != nil {
				t.Fatal(err)
			}
			s.exec(`UPDATE auditrepo.seal_checkpoint SET note = $1 WHERE tree_size = 15`, string(forged))
		}, nil, "checkpoint"},
		{"edit a row and its leaf hash", func(s setup) {
			s.exec(`UPDATE auditrepo.audit_log SET actor_id = 8 WHERE id = $1`, s.ids[12])
			cols := append([]string{}, s.columns()...)
			rh, h := s.rehash(s.ids[12], cols)
			s.exec(`UPDATE auditrepo.seal_leaf SET row_hash = $1, leaf_hash = $2 WHERE audit_id = $3`, rh, h, s.ids[12])
		}, nth(10), "leaf hashes"},
		{"edit a stored leaf's time", func(s setup) {
			// The row is as sealed; the leaf's time, which retention goes by, is not.
			s.exec(`UPDATE auditrepo.seal_leaf SET occurred_at = occurred_at - interval '1 year' WHERE audit_id = $1`, s.ids[6])
		}, nth(6), "leaf hashes"},
		{"edit a stored leaf's key", func(s setup) {
			s.exec(`UPDATE auditrepo.seal_leaf SET audit_id = 9000 WHERE audit_id = $1`, s.ids[13])
		}, func(setup) int64 { return 9000 }, "leaf hashes"},
		{"edit a stored leaf's time and its leaf hash", func(s setup) {
			s.exec(`UPDATE auditrepo.seal_leaf SET occurred_at = occurred_at - interval '1 year' WHERE audit_id = $1`, s.ids[12])
			s.exec(`UPDATE auditrepo.seal_leaf SET leaf_hash = $1 WHERE audit_id = $2`, s.storedLeafHash(s.ids[12]), s.ids[12])
		}, nth(10), "leaf hashes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := newTrail(t)
			s := setup{trail: tr}
			s.ids = append(s.ids, tr.insert(5, 1)...)
			s.ids = append(s.ids, tr.insert(5, 2)...)
			tr.seal()
			tr.exec(`CREATE TABLE backup AS SELECT * FROM auditrepo.audit_log`)
			tr.exec(`CREATE TABLE backup_checkpoint AS SELECT * FROM auditrepo.seal_checkpoint`)
			tr.exec(`CREATE TABLE backup_leaf AS SELECT * FROM auditrepo.seal_leaf`)
			s.ids = append(s.ids, tr.insert(5, 1)...)
			tr.seal()
			for _, id := range s.ids {
				var xid uint64
				if err := tr.db.QueryRow(context.Background(), "SELECT transaction_id FROM auditrepo.audit_log WHERE id = $1", id).Scan(&xid); err != nil {
					t.Fatal(err)
				}
				s.xids = append(s.xids, xid)
			}
			tr.clean()
			tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
			tr.exec(`ALTER TABLE auditrepo.seal_checkpoint DISABLE TRIGGER USER`)
			tr.exec(`ALTER TABLE auditrepo.seal_leaf DISABLE TRIGGER USER`)
			c.tamper(s)
			switch {
			case c.kind == "":
				tr.clean()
			case c.id == nil:
				tr.badCheckpoint()
			default:
				tr.tampered(c.id(s), c.kind)
			}
		})
	}
}

// setup is a tamper case's trail: the ids and transaction ids of its rows, in leaf order.
type setup struct {
	*trail
	ids  []int64
	xids []uint64
}

// nth is the id of the i-th row in leaf order.
func nth(i int) func(s setup) int64 { return func(s setup) int64 { return s.ids[i] } }

// columns is the audit table's column list as the latest checkpoint sealed it.
func (tr *trail) columns() []string {
	tr.t.Helper()
	var cols []string
	if err := tr.db.QueryRow(context.Background(), `SELECT columns FROM auditrepo.seal_checkpoint ORDER BY tree_size DESC LIMIT 1`).Scan(&cols); err != nil {
		tr.t.Fatal(err)
	}
	return cols
}

// rehash is the row hash and leaf hash of row id as it is now, as a forger with database access could compute
// them.
func (tr *trail) rehash(id int64, cols []string) (rowHash, leafHash []byte) {
	tr.t.Helper()
	ctx := context.Background()
	tx, err := tr.db.Begin(ctx)
	if err != nil {
		tr.t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, textSettings); err != nil {
		tr.t.Fatal(err)
	}
	tb, err := readTable(ctx, tx, "auditrepo.audit_log")
	if err != nil {
		tr.t.Fatal(err)
	}
	rows, err := tx.Query(ctx, "SELECT "+tb.selectList()+" FROM auditrepo.audit_log a WHERE a.id = $1", id)
	if err != nil {
		tr.t.Fatal(err)
	}
	defer rows.Close()
	rs, err := tb.readHashed(rows, 1, func(uint64) []string { return cols })
	if err != nil || len(rs) != 1 || rs[0].hashErr != nil {
		tr.t.Fatalf("row %d: %v", id, err)
	}
	return rs[0].rowHash, rs[0].hash
}

// storedLeafHash is the leaf hash that seal_leaf's row of audit id gives, as a forger could compute it.
func (tr *trail) storedLeafHash(id int64) []byte {
	tr.t.Helper()
	var l leaf
	if err := tr.db.QueryRow(context.Background(), `SELECT transaction_id, audit_id, occurred_at, row_hash FROM auditrepo.seal_leaf
		WHERE audit_id = $1`, id).Scan(&l.XID, &l.ID, &l.occurredAt, &l.rowHash); err != nil {
		tr.t.Fatal(err)
	}
	return LeafHash(l.Key, l.occurredAt, l.rowHash)
}

// TestBC: rows of BC times (1 BC is a leap year, as year 0 is in Go) seal and verify, each reading as its own
// instant, and a row moved from BC to the same time AD is edited.
func TestBC(t *testing.T) {
	tr := newTrail(t)
	var ids []int64
	for _, at := range []string{"0001-02-29 12:00:00.25+00 BC", "0044-03-15 11:00:00+00 BC", "0001-01-01 00:00:00+00"} {
		var id int64
		if err := tr.db.QueryRow(context.Background(), `INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, action, target_table, target_id, patient_id, changes)
			VALUES ($1::timestamptz, 'system', 'CREATE', 'patients', 1, 1, '{}') RETURNING id`, at).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	tr.insert(2, 1)
	tr.seal()
	tr.clean()
	for i, want := range []time.Time{
		time.Date(0, 2, 29, 12, 0, 0, 250e6, time.UTC),
		time.Date(-43, 3, 15, 11, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		var at time.Time
		if err := tr.db.QueryRow(context.Background(), `SELECT occurred_at FROM auditrepo.seal_leaf WHERE audit_id = $1`, ids[i]).Scan(&at); err != nil {
			t.Fatal(err)
		}
		if !at.Equal(want) {
			t.Errorf("row %d: sealed occurred_at %v, want %v", ids[i], at, want)
		}
	}
	tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
	tr.exec(`UPDATE auditrepo.audit_log SET occurred_at = '0044-03-15 11:00:00+00' WHERE id = $1`, ids[1])
	tr.tampered(ids[1], "edited")
}

// TestRetention: the sealed rows of a month whose partition retention dropped verify from their stored leaf
// hashes, and are reported; rows missing from a month whose partition still exists are tampering.
func TestRetention(t *testing.T) {
	tr := newTrail(t)
	tr.partitions("2020-01", "2021-02")
	tr.old("2020-01", 3)
	tr.old("2021-02", 2)
	tr.insert(4, 1)
	tr.seal()
	tr.old("2020-01", 1) // sealed later, in the next checkpoint: retention spans checkpoints
	tr.insert(2, 1)
	tr.seal()
	// Retention with the six-year floor drops 2020-01 (2021-02 is younger), and records it.
	if _, err := auditschema.Retain(context.Background(), tr.db, auditschema.Config{}, auditschema.MinRetentionYears, false); err != nil {
		t.Fatal(err)
	}
	rep := tr.clean()
	if len(rep.Dropped) != 1 || rep.Dropped[0].String() != "4 rows of 2020-01 dropped by retention" || rep.Rows != 8 {
		t.Fatalf("report %+v", rep)
	}
	// A month emptied by deleting its rows, its partition still there, is tampering.
	first := tr.firstID("audit_log_202102")
	tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
	tr.exec(`DELETE FROM auditrepo.audit_log_202102`)
	tr.tampered(first, "missing")
}

// TestRetentionForged: a sealed row deleted and passed off as dropped by retention is tampering. Its stored leaf's
// occurred_at, moved into a month retention dropped, no longer gives its leaf hash, and a leaf hash made for it
// no longer gives the checkpoint's root. retention_log itself is not sealed, but a drop logged with fewer ids or
// rows than the sealed rows it would account for does not account for them.
func TestRetentionForged(t *testing.T) {
	for _, c := range []struct {
		name   string
		victim bool // delete a current row (the last) and move its stored occurred_at into the dropped month
		forge  func(tr *trail, victim int64)
		bad    func(ids []int64, first, last int64) int64 // the first bad row
		kind   string
		why    string
	}{
		{"the stored time moved", true, nil,
			func(ids []int64, _, _ int64) int64 { return ids[len(ids)-1] }, "leaf hashes", "do not give its leaf hash"},
		{"the stored time and leaf hash moved", true, func(tr *trail, victim int64) {
			tr.exec(`UPDATE auditrepo.seal_leaf SET leaf_hash = $1 WHERE audit_id = $2`, tr.storedLeafHash(victim), victim)
		}, func(_ []int64, first, _ int64) int64 { return first }, "leaf hashes", "do not give the root"},
		// The 2020-01 partition's first three rows are the first leaves, its last row is sealed after four current
		// rows.
		{"the logged ids narrowed", false, func(tr *trail, _ int64) {
			tr.exec(`ALTER TABLE auditrepo.retention_log DISABLE TRIGGER USER`)
			tr.exec(`UPDATE auditrepo.retention_log SET max_id = min_id`)
		}, func(_ []int64, first, _ int64) int64 { return first + 1 }, "missing", "its ids"},
		{"the logged row count lowered", false, func(tr *trail, _ int64) {
			tr.exec(`ALTER TABLE auditrepo.retention_log DISABLE TRIGGER USER`)
			tr.exec(`UPDATE auditrepo.retention_log SET row_count = row_count - 1`)
		}, func(_ []int64, _, last int64) int64 { return last }, "missing", "more of its sealed rows are gone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := newTrail(t)
			tr.partitions("2020-01")
			tr.old("2020-01", 3)
			ids := tr.insert(4, 1)
			tr.old("2020-01", 1)
			first := tr.firstID("audit_log_202001")
			var last int64 // the partition's last row in leaf order
			if err := tr.db.QueryRow(context.Background(), `SELECT max(id) FROM auditrepo.audit_log_202001`).Scan(&last); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tr.insert(2, 1)...)
			tr.seal()
			if _, err := auditschema.Retain(context.Background(), tr.db, auditschema.Config{}, auditschema.MinRetentionYears, false); err != nil {
				t.Fatal(err)
			}
			if rep := tr.clean(); len(rep.Dropped) != 1 || rep.Dropped[0].String() != "4 rows of 2020-01 dropped by retention" {
				t.Fatalf("report %+v", rep)
			}
			victim := ids[len(ids)-1]
			tr.exec(`ALTER TABLE auditrepo.audit_log DISABLE TRIGGER USER`)
			tr.exec(`ALTER TABLE auditrepo.seal_leaf DISABLE TRIGGER USER`)
			if c.victim {
				tr.exec(`DELETE FROM auditrepo.audit_log WHERE id = $1`, victim)
				tr.exec(`UPDATE auditrepo.seal_leaf SET occurred_at = '2020-01-20 00:00:00+00' WHERE audit_id = $1`, victim)
			}
			if c.forge != nil {
				c.forge(tr, victim)
			}
			tr.tampered(c.bad(ids, first, last), c.kind)
			if _, err := tr.verify(); !strings.Contains(err.Error(), c.why) {
				t.Fatalf("verify: %v, want it to say %q", err, c.why)
			}
		})
	}
}

// TestDroppedYoungLoggedAsRetention: a month younger than the retention floor, its partition dropped by hand and
// the drop logged in retention_log as retain() logs one (its ids, its row count), is tampering: retain() never
// drops a month less than six years old, so no retention_log row can account for its sealed rows.
func TestDroppedYoungLoggedAsRetention(t *testing.T) {
	tr := newTrail(t)
	month := time.Now().UTC().AddDate(-1, 0, 0).Format("2006-01")
	partition := "audit_log_" + strings.ReplaceAll(month, "-", "")
	tr.partitions(month)
	tr.old(month, 3)
	tr.insert(2, 1)
	tr.seal()
	first := tr.firstID(partition)
	tr.exec(`INSERT INTO auditrepo.retention_log (partition_name, range_from, range_to, floor, cutoff, row_count, min_id, max_id)
		SELECT $1, $2::timestamptz, $2::timestamptz + interval '1 month', interval '6 years', now() - interval '6 years',
			count(*), min(id), max(id)
		FROM auditrepo.`+partition, partition, month+"-01 00:00:00+00")
	tr.exec(`DROP TABLE auditrepo.` + partition)
	tr.tampered(first, "missing")
	if _, err := tr.verify(); !strings.Contains(err.Error(), "younger than the 6 years retention keeps") {
		t.Fatalf("verify: %v, want it to say why the logged drop does not count", err)
	}
}

// TestDroppedByHand: a month whose partition someone dropped, not retention (retention_log has no row of it), is
// tampering, however old the month.
func TestDroppedByHand(t *testing.T) {
	tr := newTrail(t)
	tr.partitions("2020-01")
	tr.old("2020-01", 3)
	tr.insert(2, 1)
	tr.seal()
	first := tr.firstID("audit_log_202001")
	tr.exec(`DROP TABLE auditrepo.audit_log_202001`)
	tr.tampered(first, "missing")
}

// partitions creates the audit table's partitions of the months (YYYY-MM), owned by the audit role as
// maintain() would make them.
func (tr *trail) partitions(months ...string) {
	for _, m := range months {
		p := "auditrepo.audit_log_" + strings.ReplaceAll(m, "-", "")
		tr.exec(`CREATE TABLE ` + p + ` PARTITION OF auditrepo.audit_log
			FOR VALUES FROM ('` + m + `-01 00:00:00+00') TO (('` + m + `-01 00:00:00+00'::timestamptz + interval '1 month'))`)
		tr.exec(`ALTER TABLE ` + p + ` OWNER TO auditrepo_audit`)
	}
}

// old inserts n rows of the month (YYYY-MM).
func (tr *trail) old(month string, n int) {
	tr.exec(`INSERT INTO auditrepo.audit_log (occurred_at, actor_kind, action, target_table, target_id, patient_id, changes)
		SELECT $1::timestamptz + g * interval '1 hour', 'system', 'CREATE', 'patients', g, 1, '{}' FROM generate_series(1, $2) g`,
		month+"-03 00:00:00+00", n)
}

// firstID is the smallest id in the audit table's partition.
func (tr *trail) firstID(partition string) int64 {
	tr.t.Helper()
	var id int64
	if err := tr.db.QueryRow(context.Background(), `SELECT min(id) FROM auditrepo.`+partition).Scan(&id); err != nil {
		tr.t.Fatal(err)
	}
	return id
}

// TestConcurrent: rows inserted while seals run, in transactions that commit out of order, all end up sealed
// once, in order, and the trail verifies.
func TestConcurrent(t *testing.T) {
	tr := newTrail(t)
	ctx := context.Background()
	var inserted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				tx, err := tr.db.Begin(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				_, err = tx.Exec(ctx, `INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
					SELECT 'user', 'UPDATE', 'patients', g, $1, jsonb_build_object('n', g) FROM generate_series(1, $2) g`, w, 1+i%3)
				if err == nil {
					_, err = tx.Exec(ctx, "SELECT pg_sleep(0.002 * $1)", i%4)
				}
				if err == nil {
					err = tx.Commit(ctx)
				}
				if err != nil {
					t.Error(err)
					return
				}
				inserted.Add(int64(1 + i%3))
			}
		}()
	}
	var sealers sync.WaitGroup
	for range 2 {
		sealers.Add(1)
		go func() {
			defer sealers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := Seal(ctx, tr.db, tr.s, tr.opts); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	sealers.Wait()
	tr.seal()
	rep := tr.clean()
	if rep.Rows != inserted.Load() || rep.Unsealed != 0 {
		t.Fatalf("verified %d rows, %d unsealed; inserted %d", rep.Rows, rep.Unsealed, inserted.Load())
	}
	t.Logf("%d rows in %d checkpoints", rep.Rows, rep.Checkpoints)
}

// TestWitnessHoldsEveryCheckpoint: the directory gets one file per checkpoint, and a different checkpoint of a
// size it holds is refused, never written over it.
func TestWitnessHoldsEveryCheckpoint(t *testing.T) {
	tr := newTrail(t)
	dir := tr.opts.Witnesses[0].(Dir)
	tr.insert(2, 1)
	first := tr.seal()
	tr.insert(3, 1)
	tr.seal()
	latest, err := dir.Latest(context.Background())
	if err != nil || !strings.HasPrefix(string(latest), "clinic.example/audit\n5\n") {
		t.Fatalf("latest in %s: %q, %v", dir, latest, err)
	}
	forged := *first
	forged.Note = append([]byte{}, first.Note...)
	forged.Note[len(forged.Note)-3] ^= 1
	if err := dir.Publish(context.Background(), &forged); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("publishing a different checkpoint of size %d: %v", first.Size, err)
	}
	if err := dir.Publish(context.Background(), first); err != nil {
		t.Fatalf("publishing the same checkpoint again: %v", err)
	}
}

// TestSealerCannotAppend: the sealer role may append to the seal tables only through seal_leaves() and
// seal_checkpoint(), and only the next leaves with the checkpoint that covers them; the reviewer role not at all.
// Their own INSERTs, a leaf no checkpoint covers, a leaf out of sequence and a checkpoint that does not continue the
// latest are refused: any of them, once committed, would have made every later seal fail (a duplicate key) and
// verify report a bad checkpoint, for good, since neither table can be deleted from. The trail still verifies and
// seals.
func TestSealerCannotAppend(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	tr.insert(5, 1)
	tr.seal()
	tr.clean()
	sealer, rv := tr.connect("auditrepo_sealer"), tr.connect("auditrepo_reviewer")
	other, _ := keys(t, "clinic.example/audit")
	forged, err := note.Sign(&note.Note{Text: "clinic.example/audit\n6\nAAAA\n"}, other)
	if err != nil {
		t.Fatal(err)
	}
	const nextLeaf = `SELECT auditrepo.seal_leaves(leaf_index + %s, ARRAY[transaction_id], ARRAY[audit_id + 1000], ARRAY[occurred_at],
		ARRAY[row_hash], ARRAY[leaf_hash]) FROM auditrepo.seal_leaf ORDER BY leaf_index DESC LIMIT 1`
	for _, c := range []struct{ name, sql, state string }{
		{"update a leaf", "UPDATE auditrepo.seal_leaf SET leaf_hash = leaf_hash", "42501"},
		{"delete a checkpoint", "DELETE FROM auditrepo.seal_checkpoint", "42501"},
		{"insert a leaf", `INSERT INTO auditrepo.seal_leaf (leaf_index, transaction_id, audit_id, occurred_at, row_hash, leaf_hash)
			SELECT leaf_index + 1, transaction_id, audit_id + 1000, occurred_at, row_hash, leaf_hash
			FROM auditrepo.seal_leaf ORDER BY leaf_index DESC LIMIT 1`, "42501"},
		{"insert a checkpoint", `INSERT INTO auditrepo.seal_checkpoint (tree_size, prev_size, prev_watermark, watermark, root_hash, compact_range, columns, note)
			SELECT tree_size + 1, tree_size, watermark, watermark, root_hash, compact_range, columns, $1
			FROM auditrepo.seal_checkpoint ORDER BY tree_size DESC LIMIT 1`, "42501"},
		{"append a leaf no checkpoint covers", fmt.Sprintf(nextLeaf, "1"), "23000"},
		{"append a leaf out of sequence", fmt.Sprintf(nextLeaf, "2"), "23000"},
		{"append a checkpoint that does not continue the latest", `SELECT auditrepo.seal_checkpoint(tree_size + 1, tree_size, watermark, watermark,
			root_hash, compact_range, columns, $1) FROM auditrepo.seal_checkpoint ORDER BY tree_size DESC LIMIT 1`, "23000"},
		{"append a checkpoint over missing leaves", `SELECT auditrepo.seal_checkpoint(tree_size + 1, tree_size, watermark,
			pg_snapshot_xmin(pg_current_snapshot()), root_hash, compact_range, columns, $1) FROM auditrepo.seal_checkpoint ORDER BY tree_size DESC LIMIT 1`, "23000"},
	} {
		var args []any
		if strings.Contains(c.sql, "$1") {
			args = append(args, string(forged))
		}
		if _, err := sealer.Exec(ctx, c.sql, args...); pgtest.SQLState(err) != c.state {
			t.Errorf("%s as the sealer: %v, want SQLSTATE %s", c.name, err, c.state)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
		if _, err := rv.Exec(ctx, c.sql, args...); pgtest.SQLState(err) != "42501" {
			t.Errorf("%s as the reviewer: %v, want SQLSTATE 42501", c.name, err)
		}
	}
	tr.clean()
	tr.insert(2, 1)
	if cp := tr.seal(); cp == nil || cp.Size != 7 {
		t.Fatalf("seal after the refused appends: %+v", cp)
	}
	tr.clean()
}
