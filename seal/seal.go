// Package seal makes the audit trail tamper-evident. Seal, run as a periodic job off the write path, appends the
// audit rows that are final to a Merkle tree (RFC 6962) and signs a checkpoint of it with an Ed25519 key (a C2SP
// signed note); the checkpoints and the leaf hashes are stored in the database and the checkpoints also outside
// it (Witness). Verify recomputes the tree from the rows and names the first row, or checkpoint, that differs.
//
// A row is final when its transaction_id is below the xmin of a snapshot: every transaction with a smaller xid
// has ended, so no row can still appear before it. The leaves are the rows in (transaction_id, id) order, and a
// checkpoint's watermark is the xmin it sealed up to.
package seal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/auditschema"
)

// batchSize is how many rows Seal reads, hashes and stores at a time.
const batchSize = 10000

// DB is what Seal and Verify need of a connection: pgx.Conn, pgxpool.Pool and pgx.Tx have it.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Options name the audit table and the copies of the checkpoints outside the database.
type Options struct {
	Config    auditschema.Config
	Witnesses []Witness
	// Previous, for Seal only, is the signer of the key the trail is sealed with, when Seal is given a new key
	// (of the same name) to hand the trail over to: the next checkpoint names the new key's public key in its
	// text and is signed by both, and from then on the new key alone seals. Once the latest checkpoint is signed
	// by the new key, Previous is not needed and is ignored; a Previous that did not sign the latest checkpoint is
	// refused (ErrPreviousKey). Like Seal's key, it must know its public key (NewSigner). Verify and
	// VerifyPatient ignore it (they are given the public keys).
	Previous note.Signer
}

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// Seal appends every audit row that became final since the last checkpoint to the tree, stores their leaf hashes
// and a new checkpoint signed by s, and publishes it to the witnesses. It returns nil, nil when no row became
// final. s (and opts.Previous) must know their public keys: make them with NewSigner (or KeyFrom, NewKey). Concurrent seals of one table take turns. The connection needs SELECT on the audit table and the seal
// tables, and EXECUTE on seal_leaves() and seal_checkpoint(), through which it appends to them (the sealer role
// has them).
//
// With opts.Previous, the checkpoint that hands the trail over from that key to s is signed by both (see
// Options.Previous); it is the next one that covers new rows, so with nothing to seal no handover happens yet.
//
// It refuses (ErrBadCheckpoint) to seal on top of a database whose checkpoints disagree with a witness's latest:
// a newer one, another of the same size, one of a size the database has another checkpoint of or none, or any
// when the database has none (its checkpoints were changed or rolled back). It refuses (ErrBadCheckpoint) a
// latest checkpoint whose signature by its key (s, or opts.Previous when handing over) does not verify, or whose
// signature lines, of any name, are not exactly that key's (on a handover, exactly the two keys its handover line
// names, both signatures checked with the public keys that line gives): an edited note, or a line it cannot check. A witness that holds an earlier checkpoint of the database's, or none, is given the database's
// latest first (a previous seal's publishing failed, or the witness is new), once Seal has checked it so: Seal
// publishes no checkpoint its keys did not sign. A missing witness (a Dir that does not exist) is created by a seal of a
// database without checkpoints, the first; later it is refused (ErrWitnessMissing): it should hold the
// database's checkpoints, so it is a wrong path or deleted (a new witness is created empty first). It refuses
// (ErrOtherKey) to seal with a key that did not sign the latest checkpoint (by the key name and hash the note's
// signature lines state), without a handover from the key that did, or that handed the trail over in it (its text
// names another key): the trail would then verify with neither key. Refused, it writes nothing, to the database
// or the witnesses.
func Seal(ctx context.Context, db DB, s note.Signer, opts Options) (*Checkpoint, error) {
	return seal(ctx, db, opts, func(prev *Checkpoint) ([]note.Signer, error) {
		return sealKeys(prev, s, opts.Previous)
	})
}

// seal is Seal, the next checkpoint signed by the keys keysFor chooses given the latest checkpoint (nil if
// none). The tests forge checkpoints with it, signed by keys Seal refuses, as someone holding the key and the
// sealer role could.
func seal(ctx context.Context, db DB, opts Options, keysFor func(prev *Checkpoint) ([]note.Signer, error)) (*Checkpoint, error) {
	c := opts.Config.WithDefaults()
	var cp *Checkpoint
	err := inTx(ctx, db, "", func(tx pgx.Tx) error {
		// Read committed: each statement below sees what committed before it, so after the lock the latest
		// checkpoint is current, and every row of a transaction below the watermark is visible.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('auditrepo seal ' || $1))", c.QualifiedTable()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, textSettings); err != nil {
			return err
		}
		prev, rng, err := latest(ctx, tx, c)
		if err != nil {
			return err
		}
		// Witnesses first: a latest checkpoint re-signed with another key is a replaced one (ErrBadCheckpoint)
		// when a witness holds the real one, not a reason to seal with that key.
		lagging := make([]Witness, 0, len(opts.Witnesses))
		for _, w := range opts.Witnesses {
			behind, err := checkWitness(ctx, tx, c, w, prev)
			if err != nil {
				return err
			}
			if behind {
				lagging = append(lagging, w)
			}
		}
		// keysFor checks prev's signatures (Seal's does): only then is prev published to the witnesses that lack it.
		keys, err := keysFor(prev)
		if err != nil {
			return err
		}
		for _, w := range lagging {
			if err := w.Publish(ctx, prev); err != nil {
				return err
			}
		}
		var watermark uint64
		if err := tx.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())").Scan(&watermark); err != nil {
			return err
		}
		next := &Checkpoint{Watermark: watermark}
		if prev != nil {
			next.PrevSize, next.PrevWatermark = prev.Size, prev.Watermark
		}
		if watermark <= next.PrevWatermark {
			return nil
		}
		t, err := readTable(ctx, tx, c.QualifiedTable())
		if err != nil {
			return err
		}
		if err := appendLeaves(ctx, tx, c, t, rng, next); err != nil {
			return err
		}
		if rng.End() == next.PrevSize {
			return nil
		}
		next.Size = rng.End()
		if next.Hash, err = rng.GetRootHash(nil); err != nil {
			return err
		}
		if err := next.sign(keys...); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT `+pgx.Identifier{c.Schema, "seal_checkpoint"}.Sanitize()+`($1, $2, $3::text::xid8, $4::text::xid8, $5, $6, $7, $8)`,
			int64(next.Size), int64(next.PrevSize), strconv.FormatUint(next.PrevWatermark, 10), strconv.FormatUint(next.Watermark, 10),
			next.Hash, rng.Hashes(), t.cols, string(next.Note))
		if err != nil {
			return fmt.Errorf("seal: storing the checkpoint: %w", err)
		}
		cp = next
		return nil
	})
	if err != nil || cp == nil {
		return nil, err
	}
	for _, w := range opts.Witnesses {
		if err := w.Publish(ctx, cp); err != nil {
			return cp, fmt.Errorf("seal: checkpoint %d is sealed, but publishing it to %s failed (the next seal retries): %w", cp.Size, w, err)
		}
	}
	return cp, nil
}

// latest reads the database's latest checkpoint and its compact range (empty and nil if there is none).
func latest(ctx context.Context, tx pgx.Tx, c auditschema.Config) (*Checkpoint, *compact.Range, error) {
	var size, prevSize int64
	var cp Checkpoint
	var hashes [][]byte
	var signed string
	err := tx.QueryRow(ctx, `SELECT tree_size, prev_size, prev_watermark, watermark, root_hash, compact_range, note
		FROM `+pgx.Identifier{c.Schema, "seal_checkpoint"}.Sanitize()+` ORDER BY tree_size DESC LIMIT 1`).
		Scan(&size, &prevSize, &cp.PrevWatermark, &cp.Watermark, &cp.Hash, &hashes, &signed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, rangeFactory.NewEmptyRange(0), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("seal: reading the latest checkpoint: %w", err)
	}
	cp.Size, cp.PrevSize, cp.Note = uint64(size), uint64(prevSize), []byte(signed)
	rng, err := rangeFactory.NewRange(0, cp.Size, hashes)
	if err != nil {
		return nil, nil, badCheckpoint("tree size %d: its compact range: %v", size, err)
	}
	// Seal cannot check the signature (it holds the private key only), but the range it extends must give the
	// root its note states, or the next checkpoint would not extend this one.
	root, err := rng.GetRootHash(nil)
	if stated, perr := unverified(cp.Note); err != nil || perr != nil || stated.Size != cp.Size || string(root) != string(cp.Hash) || string(root) != string(stated.Hash) {
		return nil, nil, badCheckpoint("tree size %d in the database: its compact range does not give the root its note states", size)
	}
	return &cp, rng, nil
}

// signers reads the signature lines of the signed note without verifying them: whether one is k's key (by name
// and key hash), and if not, the keys that signed it (keyID).
func signers(signed []byte, k interface {
	Name() string
	KeyHash() uint32
}) (others []string, ok bool, err error) {
	_, err = note.Open(signed, note.VerifierList())
	var un *note.UnverifiedNoteError
	if !errors.As(err, &un) {
		return nil, false, err
	}
	for _, sig := range un.Note.UnverifiedSigs {
		if sig.Name == k.Name() && sig.Hash == k.KeyHash() {
			return nil, true, nil
		}
		others = append(others, keyID(sig.Name, sig.Hash))
	}
	return others, false, nil
}

// checkWitness checks that w holds nothing newer than the database's latest checkpoint prev, and that the latest
// checkpoint it holds is the database's of that size. It reports whether w lacks prev: Seal publishes prev to
// it (a previous seal's publishing failed, or the witness is new) once it has checked prev's signatures.
func checkWitness(ctx context.Context, tx pgx.Tx, c auditschema.Config, w Witness, prev *Checkpoint) (behind bool, err error) {
	signed, err := w.Latest(ctx)
	switch {
	case errors.Is(err, ErrWitnessMissing) && prev == nil:
		signed, err = nil, nil // the first seal: Publish creates it
	case errors.Is(err, ErrWitnessMissing):
		return false, fmt.Errorf("%w, but the database has checkpoints (the latest of tree size %d) it should hold: a wrong path, or its copies were deleted (to start a new witness, create it empty)", err, prev.Size)
	}
	if err != nil {
		return false, fmt.Errorf("seal: reading %s: %w", w, err)
	}
	switch {
	case prev == nil && signed == nil:
		return false, nil
	case prev == nil:
		return false, badCheckpoint("the database has no checkpoint, but %s holds one: the checkpoints were deleted", w)
	case signed == nil:
		return true, nil
	case string(signed) == string(prev.Note):
		return false, nil
	}
	wc, err := unverified(signed)
	if err != nil {
		return false, badCheckpoint("%s: %v", w, err)
	}
	size := wc.Size
	if size > prev.Size {
		return false, badCheckpoint("%s holds tree size %d, newer than the database's latest %d: the database was rolled back or its checkpoints deleted", w, size, prev.Size)
	}
	if size == prev.Size {
		return false, badCheckpoint("%s holds a different checkpoint of tree size %d than the database", w, size)
	}
	var same bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+pgx.Identifier{c.Schema, "seal_checkpoint"}.Sanitize()+`
		WHERE tree_size = $1 AND note = $2)`, int64(size), string(signed)).Scan(&same)
	if err != nil {
		return false, fmt.Errorf("seal: reading the checkpoint of tree size %d: %w", size, err)
	}
	if !same {
		return false, badCheckpoint("%s holds a checkpoint of tree size %d that the database does not: its checkpoints were changed", w, size)
	}
	return true, nil
}

// appendLeaves hashes the rows of next's watermark range in leaf order, in batches, appending them to rng and to
// seal_leaf (through seal_leaves(), which takes only the next leaves), and sets next.First and next.Last.
func appendLeaves(ctx context.Context, tx pgx.Tx, c auditschema.Config, t *table, rng *compact.Range, next *Checkpoint) error {
	q := fmt.Sprintf(`SELECT %s FROM %s a WHERE a.transaction_id >= $1::xid8 AND a.transaction_id < $2::xid8
		AND (a.transaction_id, a.id) > ($3::xid8, $4::bigint) ORDER BY a.transaction_id, a.id LIMIT %d`, t.selectList(), t.name, batchSize)
	after := Key{XID: next.PrevWatermark, ID: -1 << 63}
	appendSQL := `SELECT ` + pgx.Identifier{c.Schema, "seal_leaves"}.Sanitize() + `($1, $2::text[]::xid8[], $3, $4, $5, $6)`
	var l leafBatch
	for {
		rows, err := tx.Query(ctx, q, next.PrevWatermark, next.Watermark, after.XID, after.ID)
		if err != nil {
			return fmt.Errorf("seal: reading %s: %w", t.name, err)
		}
		batch, err := t.readHashed(rows, batchSize, func(uint64) []string { return t.cols })
		rows.Close()
		if err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("seal: reading %s: %w", t.name, err)
		}
		l.reset()
		first := int64(rng.End())
		for _, r := range batch {
			if r.hashErr != nil {
				return r.hashErr
			}
			l.add(r)
			if err := rng.Append(r.hash, nil); err != nil {
				return err
			}
			if rng.End() == next.PrevSize+1 {
				next.First = r.Key
			}
			next.Last, after = r.Key, r.Key
		}
		if len(l.ids) == 0 {
			return nil
		}
		if _, err = tx.Exec(ctx, appendSQL, first, l.xids, l.ids, l.times, l.rowHashes, l.hashes); err != nil {
			return fmt.Errorf("seal: storing leaf hashes: %w", err)
		}
		if len(l.ids) < batchSize {
			return nil
		}
	}
}

// leafBatch is a batch of leaves as seal_leaves() takes them, column by column (transaction ids as text: xid8).
type leafBatch struct {
	xids              []string
	ids               []int64
	times             []time.Time
	rowHashes, hashes [][]byte
}

func (b *leafBatch) reset() {
	b.xids, b.ids, b.times, b.rowHashes, b.hashes = b.xids[:0], b.ids[:0], b.times[:0], b.rowHashes[:0], b.hashes[:0]
}

func (b *leafBatch) add(r row) {
	b.xids = append(b.xids, strconv.FormatUint(r.XID, 10))
	b.ids = append(b.ids, r.ID)
	b.times = append(b.times, r.occurredAt)
	b.rowHashes = append(b.rowHashes, r.rowHash)
	b.hashes = append(b.hashes, r.hash)
}

// unverified parses a signed checkpoint without checking its signature.
func unverified(signed []byte) (*log.Checkpoint, error) {
	text, _, ok := strings.Cut(string(signed), "\n\n")
	var c log.Checkpoint
	if _, err := c.Unmarshal([]byte(text + "\n")); err != nil || !ok {
		return nil, errors.New("not a signed checkpoint")
	}
	return &c, nil
}

// inTx runs f in a transaction. Given the audit table (verifying), it sees one repeatable-read snapshot
// throughout, taken once it holds a lock on the table: maintain() moves rows between partitions (the default's
// into their months'), and a snapshot taken before such a move commits would see them in neither. The lock waits
// for a move under way, and makes one wait (or, past its lock_timeout, fail) until f is done.
func inTx(ctx context.Context, db DB, snapshotOf string, f func(pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if snapshotOf != "" {
		// Neither statement takes the snapshot: the first query after them does.
		if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE "+snapshotOf+" IN ACCESS SHARE MODE"); err != nil {
			return fmt.Errorf("seal: locking %s: %w", snapshotOf, err)
		}
	}
	// The sealer and the reviewer run this: no function or operator another role put in a schema of the
	// connection's search_path (the owner may create in public) may stand in for a built-in, and run as them. The
	// caller's is given back, for a db that is a transaction of its own.
	var prev string
	err = tx.QueryRow(ctx, "SELECT pg_catalog.current_setting('search_path'), pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)").Scan(&prev, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_catalog.set_config('search_path', $1, true)", prev); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
