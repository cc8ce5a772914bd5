package seal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/auditschema"
	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// trail is a test database with the audit schema installed and a seal key.
type trail struct {
	t    testing.TB
	db   *pgxpool.Pool // a superuser
	s    note.Signer
	v    note.Verifier
	opts Options
}

func newTrail(t testing.TB) *trail {
	t.Helper()
	db := pgtest.Audited(t, auditschema.Config{})
	tr := &trail{t: t, db: db, opts: Options{Witnesses: []Witness{Dir(t.TempDir())}}}
	tr.s, tr.v = keys(t, "clinic.example/audit")
	return tr
}

func keys(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// insert adds n synthetic rows in one transaction for patient, returning their ids.
func (tr *trail) insert(n int, patient int64) []int64 {
	tr.t.Helper()
	rows, err := tr.db.Query(context.Background(), `
		INSERT INTO auditrepo.audit_log (actor_kind, actor_id, ip, action, target_table, target_id, patient_id, changes)
		SELECT 'user', 7, ('10.0.0.' || (g % 250))::inet, 'UPDATE', 'patients', g, $2,
			jsonb_build_object('name', jsonb_build_array('Ann', 'Anne ' || g), 'balance', jsonb_build_array(1.50, g * 1e2))
		FROM generate_series(1, $1) g RETURNING id`, n, patient)
	if err != nil {
		tr.t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		tr.t.Fatal(err)
	}
	return ids
}

func (tr *trail) exec(sql string, args ...any) {
	tr.t.Helper()
	if _, err := tr.db.Exec(context.Background(), sql, args...); err != nil {
		tr.t.Fatalf("%s: %v", sql, err)
	}
}

// seal seals after waiting until every row in the table is final: sessions of other tests on the server may
// hold the snapshot xmin back for a while.
func (tr *trail) seal() *Checkpoint {
	tr.t.Helper()
	pgtest.WaitFinal(tr.t, tr.db, tr.maxXID())
	cp, err := Seal(context.Background(), tr.db, tr.s, tr.opts)
	if err != nil {
		tr.t.Fatal(err)
	}
	return cp
}

// maxXID is the largest transaction_id in the table, 0 if it is empty.
func (tr *trail) maxXID() uint64 {
	tr.t.Helper()
	var xid uint64
	if err := tr.db.QueryRow(context.Background(), "SELECT coalesce(max(transaction_id), '0') FROM auditrepo.audit_log").Scan(&xid); err != nil {
		tr.t.Fatal(err)
	}
	return xid
}

func (tr *trail) verify() (*Report, error) {
	return Verify(context.Background(), tr.db, []note.Verifier{tr.v}, tr.opts)
}

func (tr *trail) clean() *Report {
	tr.t.Helper()
	rep, err := tr.verify()
	if err != nil {
		tr.t.Fatalf("verify: %v", err)
	}
	return rep
}

// tampered asserts that verify fails with a *TamperError naming row id as the first bad row, of kind.
func (tr *trail) tampered(id int64, kind string) {
	tr.t.Helper()
	_, err := tr.verify()
	var te *TamperError
	if !errors.As(err, &te) || !errors.Is(err, ErrTampered) {
		tr.t.Fatalf("verify: %v, want a TamperError", err)
	}
	if te.Row.ID != id || te.Kind != kind {
		tr.t.Fatalf("verify: %v, want first bad row %d %s", err, id, kind)
	}
}

func (tr *trail) badCheckpoint() {
	tr.t.Helper()
	_, err := tr.verify()
	if !errors.Is(err, ErrBadCheckpoint) {
		tr.t.Fatalf("verify: %v, want ErrBadCheckpoint", err)
	}
	tr.t.Log(err)
}

func TestSealAndVerify(t *testing.T) {
	tr := newTrail(t)
	if cp := tr.seal(); cp != nil {
		t.Fatalf("sealing an empty trail made checkpoint %d", cp.Size)
	}
	tr.clean()
	tr.insert(5, 1)
	tr.insert(3, 2)
	cp := tr.seal()
	if cp == nil || cp.Size != 8 || cp.PrevSize != 0 {
		t.Fatalf("checkpoint %+v, want tree size 8", cp)
	}
	if again := tr.seal(); again != nil {
		t.Fatalf("sealing again with no new rows made checkpoint %d", again.Size)
	}
	tr.insert(4, 1)
	if cp := tr.seal(); cp.Size != 12 || cp.PrevSize != 8 {
		t.Fatalf("checkpoint %+v, want tree size 12 after 8", cp)
	}
	rep := tr.clean()
	if rep.Rows != 12 || rep.Checkpoints != 2 || rep.Latest.Size != 12 {
		t.Fatalf("report %+v", rep)
	}
	tr.insert(2, 1)
	if rep := tr.clean(); rep.Unsealed != 2 {
		t.Fatalf("unsealed %d, want 2", rep.Unsealed)
	}
}

// TestSealAsSealer: the sealer role, which may only read the trail and append seals through the seal functions,
// can seal and verify; the reviewer role, which reads the trail, verifies but cannot seal.
func TestSealAsSealer(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	tr.insert(3, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	rv := tr.connect("auditrepo_reviewer")
	if _, err := Seal(ctx, rv, tr.s, tr.opts); pgtest.SQLState(err) != "42501" {
		t.Fatalf("seal as the reviewer: %v, want 42501", err)
	}
	sealer := tr.connect("auditrepo_sealer")
	if cp, err := Seal(ctx, sealer, tr.s, tr.opts); err != nil || cp == nil {
		t.Fatalf("seal as the sealer: %+v, %v", cp, err)
	}
	for _, conn := range []*pgx.Conn{sealer, rv} {
		if rep, err := Verify(ctx, conn, []note.Verifier{tr.v}, tr.opts); err != nil || rep.Rows != 3 {
			t.Fatalf("verify as %s: %+v, %v", conn.Config().User, rep, err)
		}
	}
}

// connect opens a connection to the trail's database as role, closed when the test ends.
func (tr *trail) connect(role string) *pgx.Conn {
	tr.t.Helper()
	cfg := tr.db.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = role, ""
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestOpenTransaction: a row of a transaction still open when seal runs is not sealed, even though rows with
// larger ids are; once it commits, the next seal appends it, in (transaction_id, id) order.
func TestOpenTransaction(t *testing.T) {
	tr := newTrail(t)
	ctx := context.Background()
	tr.insert(2, 1)
	tx, err := tr.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var held int64
	err = tx.QueryRow(ctx, `INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
		VALUES ('user', 'CREATE', 'patients', 1, 9, '{}') RETURNING id`).Scan(&held)
	if err != nil {
		t.Fatal(err)
	}
	first := tr.maxXID()
	later := tr.insert(3, 1) // committed, larger ids and xids than the open transaction's row
	pgtest.WaitFinal(t, tr.db, first)
	if cp, err := Seal(ctx, tr.db, tr.s, tr.opts); err != nil || cp.Size != 2 {
		t.Fatalf("sealed %+v (%v) while a transaction below the later rows was open, want 2 rows", cp, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	cp := tr.seal()
	if cp.Size != 6 || cp.First.ID != held || cp.Last.ID != later[2] {
		t.Fatalf("second checkpoint %+v, want 4 rows from %d to %d", cp, held, later[2])
	}
	tr.clean()
	rep, err := VerifyPatient(ctx, tr.db, []note.Verifier{tr.v}, tr.opts, 9)
	if err != nil || len(rep.Proofs) != 1 || rep.Proofs[0].Row.ID != held || rep.Proofs[0].Leaf != 2 {
		t.Fatalf("patient 9: %+v, %v", rep, err)
	}
}

func TestVerifyPatient(t *testing.T) {
	tr := newTrail(t)
	ctx := context.Background()
	mine := 0
	for i := range 5 {
		ids := tr.insert(3+i, int64(1+i%2))
		if i%2 == 0 {
			mine += len(ids)
		}
		tr.seal()
	}
	tr.exec(`INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, prior_patient_id, changes)
		VALUES ('user', 'MOVE', 'appointments', 5, 3, 1, '{"patient_id": [1, 3]}')`)
	tr.seal()
	tr.insert(2, 1)
	rep, err := VerifyPatient(ctx, tr.db, []note.Verifier{tr.v}, tr.opts, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Proofs) != mine+1 || rep.Unsealed != 2 || rep.Checkpoint.Size != 26 {
		t.Fatalf("patient 1: %d proofs, %d unsealed, checkpoint %d; want %d, 2, 26", len(rep.Proofs), rep.Unsealed, rep.Checkpoint.Size, mine+1)
	}
	victim := rep.Proofs[4].Row.ID
	tr.exec("ALTER TABLE auditrepo.audit_log DISABLE TRIGGER refuse_update_delete")
	tr.exec(`UPDATE auditrepo.audit_log SET changes = '{"name": ["Ann", "Bob"]}' WHERE id = $1`, victim)
	_, err = VerifyPatient(ctx, tr.db, []note.Verifier{tr.v}, tr.opts, 1)
	var te *TamperError
	if !errors.As(err, &te) || te.Row.ID != victim || te.Kind != "edited" {
		t.Fatalf("patient 1 after editing row %d: %v", victim, err)
	}
}

// TestVerifyPatientNotStarted: a patient's row of a transaction_id no transaction has had is inserted, not
// unsealed.
func TestVerifyPatientNotStarted(t *testing.T) {
	tr := newTrail(t)
	tr.insert(2, 1)
	tr.seal()
	tr.exec(`INSERT INTO auditrepo.audit_log (id, transaction_id, actor_kind, action, target_table, target_id, patient_id, changes)
		OVERRIDING SYSTEM VALUE VALUES (3000, '900000000000', 'user', 'DELETE', 'patients', 3, 1, '{}')`)
	_, err := VerifyPatient(context.Background(), tr.db, []note.Verifier{tr.v}, tr.opts, 1)
	var te *TamperError
	if !errors.As(err, &te) || te.Row.ID != 3000 || te.Kind != "inserted" {
		t.Fatalf("patient 1 with a row of transaction 900000000000: %v", err)
	}
}

// TestSealRefuses: seal does not extend a tree whose latest checkpoint in the database was changed.
func TestSealRefuses(t *testing.T) {
	for _, c := range []struct{ name, tamper string }{
		{"compact range", `UPDATE auditrepo.seal_checkpoint SET compact_range = array[sha256('x')], root_hash = sha256('x')`},
		{"note", `UPDATE auditrepo.seal_checkpoint SET note = replace(note, 'watermark 0', 'watermark 1')`},
		{"rolled back", `DELETE FROM auditrepo.seal_checkpoint`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := newTrail(t)
			tr.insert(3, 1)
			tr.seal()
			tr.insert(2, 1)
			tr.exec(`ALTER TABLE auditrepo.seal_checkpoint DISABLE TRIGGER USER`)
			tr.exec(c.tamper)
			pgtest.WaitFinal(t, tr.db, tr.maxXID())
			if cp, err := Seal(context.Background(), tr.db, tr.s, tr.opts); !errors.Is(err, ErrBadCheckpoint) {
				t.Fatalf("seal: %+v, %v; want ErrBadCheckpoint", cp, err)
			}
		})
	}
}

// TestSealRefusesOtherKey: seal does not sign on top of checkpoints another key signed, whatever its name (the
// trail would then verify with neither key); the trail still verifies with its own key, which still seals.
func TestSealRefusesOtherKey(t *testing.T) {
	tr := newTrail(t)
	tr.insert(3, 1)
	tr.seal()
	tr.insert(2, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	for _, name := range []string{"clinic.example/audit", "other.example/audit"} {
		other, _ := keys(t, name)
		cp, err := Seal(context.Background(), tr.db, other, tr.opts)
		var ke *KeyError
		if !errors.Is(err, ErrOtherKey) || !errors.As(err, &ke) {
			t.Fatalf("seal with another key named %s: %+v, %v; want ErrOtherKey", name, cp, err)
		}
		if want := keyID(tr.s.Name(), tr.s.KeyHash()); len(ke.SealedWith) != 1 || ke.SealedWith[0] != want || ke.Size != 3 ||
			!strings.Contains(err.Error(), want) {
			t.Fatalf("seal with another key: %v, want it to name %s", err, want)
		}
		t.Log(err)
	}
	if rep := tr.clean(); rep.Checkpoints != 1 || rep.Unsealed != 2 {
		t.Fatalf("report %+v after the refused seals", rep)
	}
	if cp := tr.seal(); cp == nil || cp.Size != 5 {
		t.Fatalf("seal with the trail's key: %+v", cp)
	}
	tr.clean()
}

// A latest checkpoint re-signed with another key, over the same text, is a replaced checkpoint when the witness
// holds the real one: ErrBadCheckpoint, not ErrOtherKey (which would tell the operator to seal with that key).
func TestSealRefusesAReplacedCheckpoint(t *testing.T) {
	tr := newTrail(t)
	tr.insert(3, 1)
	tr.seal()
	var text string
	if err := tr.db.QueryRow(context.Background(), "SELECT note FROM auditrepo.seal_checkpoint ORDER BY tree_size DESC LIMIT 1").Scan(&text); err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(text), note.VerifierList(tr.v))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := keys(t, "attacker.example/audit")
	forged, err := note.Sign(&note.Note{Text: n.Text}, other)
	if err != nil {
		t.Fatal(err)
	}
	tr.exec(`ALTER TABLE auditrepo.seal_checkpoint DISABLE TRIGGER USER`)
	tr.exec(`UPDATE auditrepo.seal_checkpoint SET note = $1 WHERE note = $2`, string(forged), text)
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	if cp, err := Seal(context.Background(), tr.db, tr.s, tr.opts); !errors.Is(err, ErrBadCheckpoint) || errors.Is(err, ErrOtherKey) {
		t.Fatalf("seal over a re-signed checkpoint: %+v, %v; want ErrBadCheckpoint", cp, err)
	}
}

// A witness that lags holds an earlier checkpoint; when the database no longer has it (its checkpoints were
// rebuilt over edited rows, sealed without the witness), Seal refuses rather than publish the rebuilt chain to
// the witness, whose latest would then agree with it.
func TestSealRefusesAWitnessTheDatabaseDisowns(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	tr.insert(2, 1)
	tr.seal()
	tr.exec(`BEGIN; SET LOCAL session_replication_role = replica;
		DELETE FROM auditrepo.seal_checkpoint; DELETE FROM auditrepo.seal_leaf; UPDATE auditrepo.audit_log SET actor_id = 8;
		COMMIT`)
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	if cp, err := Seal(ctx, tr.db, tr.s, Options{}); err != nil || cp == nil || cp.Size != 3 {
		t.Fatalf("sealing again without the witness: %+v, %v", cp, err)
	}
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	_, err := Seal(ctx, tr.db, tr.s, tr.opts)
	if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "holds a checkpoint of tree size 2 that the database does not") {
		t.Fatalf("Seal with the witness = %v, want ErrBadCheckpoint", err)
	}
	// Verify, which accepts a witness behind the database, does not accept one whose checkpoint it lacks.
	if _, err := tr.verify(); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "holds tree size 2, which the database has no checkpoint of") {
		t.Fatalf("Verify with the witness = %v, want ErrBadCheckpoint", err)
	}
}

// TestVerifyWhileSealing: verify run while rows are written and sealed, each seal committing its checkpoint to
// the database and then publishing it to the witness, succeeds every time: it reads the witness before its
// snapshot, and takes a witness one or more checkpoints behind the database as long as its latest is the
// database's of that size.
func TestVerifyWhileSealing(t *testing.T) {
	tr := newTrail(t)
	ctx := context.Background()
	tr.insert(3, 1)
	tr.seal()
	stop := make(chan struct{})
	var bg sync.WaitGroup
	loop := func(f func() error) {
		bg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := f(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	loop(func() error {
		_, err := tr.db.Exec(ctx, `INSERT INTO auditrepo.audit_log (actor_kind, action, target_table, target_id, patient_id, changes)
			SELECT 'user', 'UPDATE', 'patients', g, 1, jsonb_build_object('n', g) FROM generate_series(1, 3) g`)
		return err
	})
	var seals atomic.Int64
	loop(func() error {
		cp, err := Seal(ctx, tr.db, tr.s, tr.opts)
		if cp != nil {
			seals.Add(1)
		}
		return err
	})
	// At least 60 verifies and 20 seals (a seal seals nothing while other sessions on the server hold the xmin
	// back), at most 1,000 verifies.
	verifies, failed := 0, 0
	for ; verifies < 1000 && (verifies < 60 || seals.Load() < 20); verifies++ {
		var err error
		if verifies%4 == 3 {
			_, err = VerifyPatient(ctx, tr.db, []note.Verifier{tr.v}, tr.opts, 1)
		} else {
			_, err = tr.verify()
		}
		if err != nil {
			failed++
			t.Errorf("verify %d while sealing: %v", verifies+1, err)
		}
	}
	close(stop)
	bg.Wait()
	t.Logf("%d of %d verifies failed; %d seals ran meanwhile", failed, verifies, seals.Load())
	if seals.Load() < 20 {
		t.Skipf("only %d seals made a checkpoint during %d verifies (the server's xmin held back?): too few to overlap them", seals.Load(), verifies)
	}
	tr.seal()
	if rep := tr.clean(); rep.Unsealed != 0 {
		t.Fatalf("report after the last seal %+v", rep)
	}
}

// TestVerifyWitnessBehind: a witness that stays behind the database's latest checkpoint (a seal whose publishing
// failed), or was emptied (hiding the database's checkpoints rolled back after it), is a bad checkpoint once it has
// had catchUpWait to receive it; the next seal publishes it again, and it verifies.
func TestVerifyWitnessBehind(t *testing.T) {
	defer func(d time.Duration) { catchUpWait = d }(catchUpWait)
	catchUpWait = 300 * time.Millisecond
	tr := newTrail(t)
	tr.insert(3, 1)
	tr.seal()
	tr.insert(2, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	if _, err := Seal(context.Background(), tr.db, tr.s, Options{}); err != nil { // published nowhere
		t.Fatal(err)
	}
	if _, err := tr.verify(); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "holds tree size 3, not the database's latest, 5") {
		t.Fatalf("verify with the witness behind: %v, want ErrBadCheckpoint", err)
	}
	dir := tr.opts.Witnesses[0].(Dir)
	entries, err := os.ReadDir(string(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(string(dir), e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.verify(); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "holds tree size 0") {
		t.Fatalf("verify with the witness emptied: %v, want ErrBadCheckpoint", err)
	}
	tr.insert(1, 1)
	tr.seal()
	tr.clean()
}

// A checkpoint directory that does not exist is not an empty copy: Verify refuses it (it would hide checkpoints
// and leaves a superuser deleted), and Seal creates it for the first checkpoint only.
func TestMissingDir(t *testing.T) {
	tr := newTrail(t)
	dir := filepath.Join(t.TempDir(), "checkpoints")
	tr.opts.Witnesses = []Witness{Dir(dir)}
	if _, err := tr.verify(); !errors.Is(err, ErrWitnessMissing) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("verify with no directory: %v, want ErrWitnessMissing naming %s", err, dir)
	}
	tr.insert(3, 1)
	if cp := tr.seal(); cp == nil || cp.Size != 3 {
		t.Fatalf("first seal: %+v", cp)
	}
	if _, err := os.Stat(filepath.Join(dir, "3.checkpoint")); err != nil {
		t.Fatalf("the first seal did not create its directory: %v", err)
	}
	tr.clean()

	// Once the database has checkpoints, a missing directory is a wrong path or a deleted copy.
	other := Dir(filepath.Join(t.TempDir(), "typo"))
	tr.opts.Witnesses = []Witness{other}
	tr.insert(2, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	if _, err := Seal(context.Background(), tr.db, tr.s, tr.opts); !errors.Is(err, ErrWitnessMissing) || !strings.Contains(err.Error(), "latest of tree size 3") {
		t.Fatalf("seal with a missing directory after a checkpoint: %v, want ErrWitnessMissing", err)
	}
	if _, err := os.Stat(string(other)); !os.IsNotExist(err) {
		t.Fatalf("seal created %s: %v", other, err)
	}

	// Every checkpoint and leaf deleted: a missing directory does not pass for an empty copy.
	tr.exec("ALTER TABLE auditrepo.seal_checkpoint DISABLE TRIGGER USER")
	tr.exec("ALTER TABLE auditrepo.seal_leaf DISABLE TRIGGER USER")
	tr.exec("DELETE FROM auditrepo.seal_checkpoint")
	tr.exec("DELETE FROM auditrepo.seal_leaf")
	if _, err := tr.verify(); !errors.Is(err, ErrWitnessMissing) {
		t.Fatalf("verify of a wiped database with a missing directory: %v, want ErrWitnessMissing", err)
	}
	tr.opts.Witnesses = []Witness{Dir(dir)}
	tr.badCheckpoint()
}

// TestVerifyWaitsForMaintain: maintain() moving the default partition's rows into their month's new partition,
// and committing while Verify runs, does not hide them from Verify's snapshot (they would be missing from both
// the old partition and, to that snapshot, the new one): Verify locks the audit table before it takes its
// snapshot, so it waits for the move and reads the rows where they are after it.
func TestVerifyWaitsForMaintain(t *testing.T) {
	tr := newTrail(t)
	tr.insert(2, 1)
	tr.old("2015-06", 3) // no partition of its own: the default partition's
	tr.seal()
	ctx := context.Background()
	mover, err := tr.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer mover.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	var made int
	if err := mover.QueryRow(ctx, "SELECT auditrepo.maintain()").Scan(&made); err != nil || made < 1 {
		t.Fatalf("maintain() = %d, %v; want the month of the default partition's rows made", made, err)
	}
	done := make(chan error, 1)
	go func() { _, err := tr.verify(); done <- err }()
	pgtest.WaitLockWaits(t, tr.db, 0, 1, func() bool { return len(done) > 0 })
	if err := mover.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("verify across the move: %v", err)
	}
}

// TestNATSBucketMadeByTheFirstSeal: DialNATS finds no bucket: Verify refuses it (ErrWitnessMissing), the first
// seal creates it and publishes there, and then it verifies.
func TestNATSBucketMadeByTheFirstSeal(t *testing.T) {
	ctx := context.Background()
	bucket := fmt.Sprintf("auditrepo_seal_test_%d", time.Now().UnixNano())
	w, closeNATS, err := DialNATS(ctx, "nats://127.0.0.1:4222", bucket)
	if err != nil {
		t.Skipf("no NATS server: %v", err)
	}
	defer closeNATS()
	t.Cleanup(func() {
		if w.kv != nil {
			w.js.DeleteKeyValue(context.Background(), bucket)
		}
	})
	tr := newTrail(t)
	tr.opts.Witnesses = []Witness{w}
	if _, err := tr.verify(); !errors.Is(err, ErrWitnessMissing) || !strings.Contains(err.Error(), bucket) {
		t.Fatalf("verify with no bucket: %v, want ErrWitnessMissing naming it", err)
	}
	tr.insert(2, 1)
	if cp := tr.seal(); cp == nil || w.kv == nil {
		t.Fatalf("the first seal: %+v, bucket made: %v", cp, w.kv != nil)
	}
	tr.clean()
}
