package seal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/auditschema"
)

// Report says what Verify found in a trail that verifies.
type Report struct {
	Checkpoints int
	// Latest is the latest checkpoint, nil if nothing was sealed yet.
	Latest *Checkpoint
	// Rows is the number of sealed rows found intact.
	Rows int64
	// Unsealed is the number of rows above the latest watermark: not sealed yet, so not verified. A row of a
	// transaction_id no transaction had when Verify began (at or above its snapshot's xmax) is not among them:
	// nothing could have written it, and it is reported as inserted.
	Unsealed int64
	// Dropped are the sealed rows that are gone with their month's partition (retention), by month.
	Dropped []Dropped
	// Handovers are the checkpoints that handed the trail over from one key to the next, in order.
	Handovers []Handover
}

// Dropped is a month of sealed rows that retention dropped: retention_log records dropping their partition, with
// their ids and at least their number, and no row of its range is left. Their leaf hashes, kept in the database,
// still verify.
type Dropped struct {
	Month string // 2006-01, UTC
	Rows  int64
}

func (d Dropped) String() string {
	return fmt.Sprintf("%d rows of %s dropped by retention", d.Rows, d.Month)
}

// sealed is a checkpoint as the database stores it, verified.
type sealed struct {
	*Checkpoint
	columns []string
}

// leaf is a row of seal_leaf. Verify checks that key, occurredAt and rowHash give hash, so that what the
// checkpoints cover (the leaf hashes) covers them too.
type leaf struct {
	Key
	occurredAt time.Time
	rowHash    []byte
	hash       []byte
}

// Verify checks the trail against its checkpoints: every checkpoint's signature, that each is
// consistent with the next, that every copy a witness holds is one of the database's, that its latest is, within
// a few seconds, the latest (Seal commits a checkpoint before it publishes it, so a witness may lag while a seal
// runs; one that stays behind, or holds a checkpoint the database lacks, is a bad checkpoint), that the stored
// leaf hashes hash to the latest root, and that the rows, re-hashed, are exactly the sealed leaves. A witness
// that does not exist is refused (ErrWitnessMissing), never read as an empty copy. It returns a *TamperError
// (ErrTampered) naming the first bad row in leaf order, or a *CheckpointError (ErrBadCheckpoint).
//
// keys are the trail's public keys, all of its name, in any order: one, or every key that sealed it (a key
// history). The first checkpoint must be signed by one of them, the current key; each later one by the current
// key. A checkpoint whose text names the current key and a next key (its handover line), signed by both, hands
// the trail over to the next key from the next checkpoint on (Report.Handovers); both signatures are checked with
// the public keys the text gives. A checkpoint with any other signature line, of the trail's name or another (one
// the text does not name, known or not, verified or not: verify reports a line it cannot check, such as a
// cosignature, rather than skip it), is a bad checkpoint, as is one signed by another of keys
// alone (no handover brought it in, or it handed over already: it may have leaked), or any after a handover to a
// key not given. The witnesses' copies are the database's checkpoints, byte for byte, so the same rule holds for
// them.
func Verify(ctx context.Context, db DB, keys []note.Verifier, opts Options) (*Report, error) {
	c := opts.Config.WithDefaults()
	rep := &Report{}
	kr, err := newKeyring(keys)
	if err != nil {
		return nil, err
	}
	// The witnesses are read before the snapshot is taken (inTx takes it at its first query): see readWitnesses.
	ws, err := readWitnesses(ctx, opts.Witnesses, kr)
	if err != nil {
		return nil, err
	}
	err = inTx(ctx, db, c.QualifiedTable(), func(tx pgx.Tx) error {
		cps, handovers, err := checkpoints(ctx, tx, c, kr, ws)
		if err != nil {
			return err
		}
		rep.Checkpoints, rep.Handovers = len(cps), handovers
		var watermark uint64
		if len(cps) > 0 {
			rep.Latest = cps[len(cps)-1].Checkpoint
			watermark = rep.Latest.Watermark
		}
		leaves, err := leafHashes(ctx, tx, c, cps)
		if err != nil {
			return err
		}
		t, err := readTable(ctx, tx, c.QualifiedTable())
		if err != nil {
			return err
		}
		xmax, err := snapshotXmax(ctx, tx)
		if err != nil {
			return err
		}
		m := merger{t: t, cps: cps, leaves: leaves, watermark: watermark, xmax: xmax, retentionLog: pgx.Identifier{c.Schema, "retention_log"}.Sanitize(),
			now: time.Now()}
		if err := m.run(ctx, tx); err != nil {
			return err
		}
		rep.Rows, rep.Unsealed = m.matched, m.unsealed
		bad, err := m.classify(ctx, tx, rep)
		if bad != nil {
			return bad
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// checkpoints reads the database's checkpoints in tree-size order, verifying each one's signatures by the key
// chain's rule (keyChain), that each continues the previous one, and that every witness's latest checkpoint,
// read before the snapshot, is one of the database's (compareWitness). It returns the handovers too.
func checkpoints(ctx context.Context, tx pgx.Tx, c auditschema.Config, kr keyring, ws []witnessCopy) ([]sealed, []Handover, error) {
	if _, err := tx.Exec(ctx, textSettings); err != nil {
		return nil, nil, err
	}
	rows, err := tx.Query(ctx, `SELECT tree_size, prev_size, columns, note FROM `+
		pgx.Identifier{c.Schema, "seal_checkpoint"}.Sanitize()+` ORDER BY tree_size`)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: reading the checkpoints: %w", err)
	}
	chain := keyChain{keys: kr}
	var cps []sealed
	var size, prevSize int64
	var cols []string
	var signed string
	_, err = pgx.ForEachRow(rows, []any{&size, &prevSize, &cols, &signed}, func() error {
		cp, err := chain.next([]byte(signed))
		if err != nil {
			return badCheckpoint("tree size %d in the database: %v", size, err.(*CheckpointError).Msg)
		}
		want := Checkpoint{}
		if len(cps) > 0 {
			last := cps[len(cps)-1]
			want.PrevSize, want.PrevWatermark = last.Size, last.Watermark
		}
		switch {
		case cp.Size != uint64(size) || cp.PrevSize != uint64(prevSize):
			return badCheckpoint("tree size %d in the database: its note says tree size %d", size, cp.Size)
		case cp.PrevSize != want.PrevSize || cp.PrevWatermark != want.PrevWatermark:
			return badCheckpoint("tree size %d in the database does not continue the previous checkpoint (tree size %d, watermark %d)",
				size, want.PrevSize, want.PrevWatermark)
		}
		cps = append(cps, sealed{Checkpoint: cp, columns: append([]string{}, cols...)})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i, w := range ws {
		if err := compareWitness(w, cps); err != nil {
			return nil, nil, err
		}
		if len(cps) > 0 {
			if ws[i], err = caughtUp(ctx, w, kr, cps[len(cps)-1]); err != nil {
				return nil, nil, err
			}
		}
	}
	return cps, chain.handovers, nil
}

// witnessCopy is a witness's latest checkpoint, verified (cp is nil if it holds none), and all its copies, read
// after the latest.
type witnessCopy struct {
	w   Witness
	cp  *Checkpoint
	all []Copy
}

func (wc witnessCopy) size() uint64 {
	if wc.cp == nil {
		return 0
	}
	return wc.cp.Size
}

// readWitnesses reads each witness's latest checkpoint and checks that one of kr signed it, then all its copies
// (compareWitness then finds each, byte for byte, among the database's, which obey the key chain's rule). Verify and VerifyPatient
// read them before they take the database's snapshot: Seal commits a checkpoint to the database before it
// publishes it to the witnesses, and never removes one, so a checkpoint a witness held then is in the snapshot,
// and every checkpoint the snapshot holds beyond it is one whose publication had not happened (or failed) when
// the witness was read. Read after the snapshot, a witness could hold a checkpoint sealed since, newer than the
// database's latest as the snapshot sees it.
func readWitnesses(ctx context.Context, ws []Witness, kr keyring) ([]witnessCopy, error) {
	out := make([]witnessCopy, 0, len(ws))
	for _, w := range ws {
		wc, err := readWitness(ctx, w, kr)
		if err != nil {
			return nil, err
		}
		if wc.all, err = w.All(ctx); err != nil {
			return nil, fmt.Errorf("seal: reading %s: %w", w, err)
		}
		out = append(out, wc)
	}
	return out, nil
}

// readWitness reads w's latest checkpoint and checks that one of kr signed it.
func readWitness(ctx context.Context, w Witness, kr keyring) (witnessCopy, error) {
	wc := witnessCopy{w: w}
	signed, err := w.Latest(ctx)
	if errors.Is(err, ErrWitnessMissing) {
		return wc, fmt.Errorf("%w: give the copy seal publishes to (a missing copy is not an empty one: it would hide deleted checkpoints)", err)
	}
	if err != nil {
		return wc, fmt.Errorf("seal: reading %s: %w", w, err)
	}
	if signed != nil {
		if wc.cp, _, _, err = kr.open(signed); err != nil {
			return wc, badCheckpoint("%s: %v", w, err.(*CheckpointError).Msg)
		}
	}
	return wc, nil
}

// catchUpWait is how long a witness behind the database's latest checkpoint is given to receive it: a seal
// publishes right after it commits.
var catchUpWait = 3 * time.Second

// caughtUp checks a witness that was behind the database's latest checkpoint when read before the snapshot
// (wc): read again, now, it must hold that checkpoint or a later one, within catchUpWait. A seal that committed
// its checkpoint before the snapshot publishes it right after, so only a witness that never received it (a seal
// whose publishing failed: the next seal publishes it again) or lost it (emptied or rolled back, which would hide
// the database's checkpoints deleted after it) stays behind, and is a bad checkpoint.
func caughtUp(ctx context.Context, wc witnessCopy, kr keyring, latest sealed) (witnessCopy, error) {
	deadline := time.Now().Add(catchUpWait)
	for wc.size() < latest.Size {
		if time.Now().After(deadline) {
			return wc, badCheckpoint("%s holds tree size %d, not the database's latest, %d: the checkpoints after it were not published (seal publishes them again) or were removed from the copy", wc.w, wc.size(), latest.Size)
		}
		select {
		case <-ctx.Done():
			return wc, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		var err error
		if wc, err = readWitness(ctx, wc.w, kr); err != nil {
			return wc, err
		}
	}
	if wc.size() == latest.Size && string(wc.cp.Note) != string(latest.Note) {
		return wc, badCheckpoint("tree size %d in the database differs from the copy in %s", latest.Size, wc.w)
	}
	return wc, nil
}

// compareWitness checks that the witness's latest checkpoint, read before the snapshot of cps was taken, is one
// of the database's: the same note at the same tree size, and so is every other copy it holds (Seal publishes
// each checkpoint; a copy added beside them, say a forged one of a size the witness lacked, or another file of a
// size it has, is no less a checkpoint the database lacks). The database may hold later ones (see
// readWitnesses), which extend it (checkpoints checks each continues the previous, leafHashes their
// consistency); a witness holding none accepts any. A checkpoint the database lacks, newer than its latest or of
// a size it has none of, or another one of the same size, means the database's checkpoints were deleted, rolled
// back or replaced.
func compareWitness(wc witnessCopy, cps []sealed) error {
	w, cp := wc.w, wc.cp
	if cp == nil && len(wc.all) == 0 {
		return nil
	}
	if len(cps) == 0 {
		size := uint64(0)
		if cp != nil {
			size = cp.Size
		} else {
			size = wc.all[0].Size
		}
		return badCheckpoint("the database has no checkpoint, but %s holds tree size %d: the database's checkpoints were deleted", w, size)
	}
	latest := cps[len(cps)-1]
	copies := wc.all
	if cp != nil {
		copies = append([]Copy{{Size: cp.Size, Note: cp.Note}}, copies...)
	}
	for _, c := range copies {
		if c.Size > latest.Size {
			return badCheckpoint("%s holds tree size %d, newer than the database's latest %d: the database's checkpoints were deleted or rolled back", w, c.Size, latest.Size)
		}
		i := sort.Search(len(cps), func(i int) bool { return cps[i].Size >= c.Size })
		switch {
		case i == len(cps) || cps[i].Size != c.Size:
			return badCheckpoint("%s holds tree size %d, which the database has no checkpoint of: the database's checkpoints were changed", w, c.Size)
		case string(cps[i].Note) != string(c.Note):
			return badCheckpoint("tree size %d in the database differs from the copy in %s", c.Size, w)
		}
	}
	return nil
}

// leafHashes reads the stored leaves and checks them against the checkpoints: the leaves hash to the latest
// root, each checkpoint is consistent with the next (a consistency proof made from the leaves, verified against
// both signed roots), and each leaf's stored key, occurred_at and row hash give its leaf hash (EncodeLeaf), so
// they are as authentic as the checkpoints.
func leafHashes(ctx context.Context, tx pgx.Tx, c auditschema.Config, cps []sealed) ([]leaf, error) {
	rows, err := tx.Query(ctx, `SELECT leaf_index, transaction_id, audit_id, occurred_at, row_hash, leaf_hash FROM `+
		pgx.Identifier{c.Schema, "seal_leaf"}.Sanitize()+` ORDER BY leaf_index`)
	if err != nil {
		return nil, fmt.Errorf("seal: reading the leaf hashes: %w", err)
	}
	var leaves []leaf
	var idx int64
	var l leaf
	_, err = pgx.ForEachRow(rows, []any{&idx, &l.XID, &l.ID, &l.occurredAt, &l.rowHash, &l.hash}, func() error {
		if idx != int64(len(leaves)) {
			return &TamperError{Row: l.Key, Leaf: idx, Kind: "leaf hashes", Detail: fmt.Sprintf("stored leaf %d follows leaf %d", idx, len(leaves)-1)}
		}
		leaves = append(leaves, l)
		l.rowHash, l.hash = nil, nil // ForEachRow scans into the same variables; the slices must not be shared
		return nil
	})
	if err != nil {
		return nil, err
	}
	var size uint64
	if len(cps) > 0 {
		size = cps[len(cps)-1].Size
	}
	if uint64(len(leaves)) != size {
		return nil, badCheckpoint("the database stores %d leaf hashes for a tree of size %d", len(leaves), size)
	}
	if size == 0 {
		return leaves, nil
	}
	hashes := make([][]byte, len(leaves))
	for i, l := range leaves {
		hashes[i] = l.hash
	}
	nodes, err := nodeHashes(hashes, consistencyNodes(cps))
	if err != nil {
		return nil, err
	}
	if string(nodes.roots[len(cps)-1]) != string(cps[len(cps)-1].Hash) {
		return nil, leafTampering(cps, leaves, nodes.roots)
	}
	for i := 1; i < len(cps); i++ {
		a, b := cps[i-1], cps[i]
		pf, err := nodes.proof(proof.Consistency(a.Size, b.Size))
		if err == nil {
			err = proof.VerifyConsistency(rfc6962.DefaultHasher, a.Size, b.Size, pf, a.Hash, b.Hash)
		}
		if err != nil {
			return nil, badCheckpoint("tree size %d is not consistent with tree size %d: %v", a.Size, b.Size, err)
		}
	}
	for i, l := range leaves {
		if string(LeafHash(l.Key, l.occurredAt, l.rowHash)) != string(l.hash) {
			return nil, &TamperError{Row: l.Key, Leaf: int64(i), Kind: "leaf hashes",
				Detail: fmt.Sprintf("the stored transaction_id, id, occurred_at or row hash of leaf %d do not give its leaf hash", i)}
		}
	}
	return leaves, nil
}

// leafTampering names the first checkpoint whose root the stored leaves no longer give, and its first row.
func leafTampering(cps []sealed, leaves []leaf, roots [][]byte) error {
	for i, cp := range cps {
		if string(roots[i]) != string(cp.Hash) {
			l := leaves[cp.PrevSize]
			return &TamperError{Row: l.Key, Leaf: int64(cp.PrevSize), Kind: "leaf hashes",
				Detail: fmt.Sprintf("the stored leaf hashes of leaves %d to %d do not give the root of checkpoint %d", cp.PrevSize, cp.Size-1, cp.Size)}
		}
	}
	return badCheckpoint("the stored leaf hashes do not give the latest root")
}

// consistencyNodes are the tree sizes of cps and the nodes that consistency proofs between consecutive ones
// need.
func consistencyNodes(cps []sealed) nodeRequest {
	req := nodeRequest{need: map[compact.NodeID]bool{}}
	for i, cp := range cps {
		req.sizes = append(req.sizes, cp.Size)
		if i > 0 {
			n, err := proof.Consistency(cps[i-1].Size, cp.Size)
			if err == nil {
				for _, id := range n.IDs {
					req.need[id] = true
				}
			}
		}
	}
	return req
}

// nodeRequest asks nodeHashes for the roots of the trees of some sizes and for some nodes' hashes.
type nodeRequest struct {
	sizes []uint64 // ascending
	need  map[compact.NodeID]bool
}

// treeNodes are what nodeHashes computed.
type treeNodes struct {
	roots [][]byte // by nodeRequest.sizes
	hash  map[compact.NodeID][]byte
}

// nodeHashes appends the leaf hashes to a compact range in one pass, recording the roots at the requested sizes
// and the requested nodes as the range completes them.
func nodeHashes(leafHashes [][]byte, req nodeRequest) (*treeNodes, error) {
	tn := &treeNodes{hash: make(map[compact.NodeID][]byte, len(req.need))}
	visit := func(id compact.NodeID, h []byte) {
		if req.need[id] {
			tn.hash[id] = h
		}
	}
	rng := rangeFactory.NewEmptyRange(0)
	next := 0
	for _, h := range leafHashes {
		if err := rng.Append(h, visit); err != nil {
			return nil, err
		}
		for next < len(req.sizes) && req.sizes[next] == rng.End() {
			root, err := rng.GetRootHash(nil)
			if err != nil {
				return nil, err
			}
			tn.roots = append(tn.roots, root)
			next++
		}
	}
	if next < len(req.sizes) {
		return nil, fmt.Errorf("seal: a tree of size %d needs more than %d leaves", req.sizes[next], len(leafHashes))
	}
	return tn, nil
}

// proof assembles a proof from the recorded node hashes.
func (tn *treeNodes) proof(n proof.Nodes, err error) ([][]byte, error) {
	if err != nil {
		return nil, err
	}
	hs := make([][]byte, len(n.IDs))
	for i, id := range n.IDs {
		if hs[i] = tn.hash[id]; hs[i] == nil {
			return nil, fmt.Errorf("node %v was not computed", id)
		}
	}
	return n.Rehash(hs, rfc6962.DefaultHasher.HashChildren)
}

// tooYoung reports whether a month ending at end was too young for retention to drop at now, by the verifier's
// clock: retain() drops only months that ended MinRetentionYears ago by the database's. A day is allowed for the
// database's clock running ahead, so that a month dropped the moment it was old enough is not taken for a younger
// one's forged drop.
func tooYoung(end, now time.Time) bool {
	return end.After(now.AddDate(-auditschema.MinRetentionYears, 0, 0).Add(24 * time.Hour))
}

// merger walks the rows and the leaves together in (transaction_id, id) order, up to the first row that differs
// for certain; sealed rows that are missing are noted on the way, to be told apart from retention afterwards.
type merger struct {
	t            *table
	retentionLog string    // where retain() records the partitions it dropped
	now          time.Time // the verifier's clock, not the database's: see tooYoung
	cps          []sealed
	leaves       []leaf
	watermark    uint64
	xmax         uint64 // the snapshot's xmax: no transaction_id at or above it had started

	next     int // the next leaf to match
	matched  int64
	unsealed int64
	missing  []int // leaves with no row, in order
	firstBad *TamperError
	// edited is a row that differs from its leaf, not yet reported: when the next row has its key and matches
	// the leaf, the first was inserted before it (rows of one key come in occurred_at order).
	edited  *TamperError
	seen    bool
	prevRow Key
}

func (m *merger) run(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, fmt.Sprintf("SELECT %s FROM %s a ORDER BY a.transaction_id, a.id, a.occurred_at", m.t.selectList(), m.t.name))
	if err != nil {
		return fmt.Errorf("seal: reading %s: %w", m.t.name, err)
	}
	defer rows.Close()
	for {
		batch, err := m.t.readHashed(rows, batchSize, columnsFor(m.cps))
		if err != nil {
			return err
		}
		for _, r := range batch {
			if m.step(r) {
				return nil
			}
		}
		if len(batch) < batchSize {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("seal: reading %s: %w", m.t.name, err)
	}
	if m.edited != nil {
		m.firstBad = m.edited
		return nil
	}
	for m.next < len(m.leaves) {
		m.missing = append(m.missing, m.next)
		m.next++
	}
	return nil
}

// step matches the next row; it reports whether a row differs for certain, which ends the walk.
func (m *merger) step(r row) bool {
	if e := m.edited; e != nil {
		m.firstBad = e
		if l := m.leaves[m.next]; r.Key == e.Row && r.hashErr == nil && string(r.hash) == string(l.hash) {
			m.firstBad = &TamperError{Row: r.Key, Leaf: -1, Kind: "inserted",
				Detail: fmt.Sprintf("a second row with the key of a sealed row (transaction_id %d), before it in occurred_at", r.XID)}
		}
		return true
	}
	if r.XID >= m.xmax {
		m.firstBad = notStarted(r.Key, m.xmax)
		return true
	}
	if r.XID >= m.watermark {
		m.unsealed++
		return false
	}
	if m.seen && r.Key == m.prevRow {
		m.firstBad = &TamperError{Row: r.Key, Leaf: -1, Kind: "inserted", Detail: fmt.Sprintf("a second row with the key of a sealed row (transaction_id %d)", r.XID)}
		return true
	}
	m.seen, m.prevRow = true, r.Key
	for m.next < len(m.leaves) && m.leaves[m.next].less(r.Key) {
		m.missing = append(m.missing, m.next)
		m.next++
	}
	if m.next == len(m.leaves) || r.Key != m.leaves[m.next].Key {
		m.firstBad = &TamperError{Row: r.Key, Leaf: -1, Kind: "inserted",
			Detail: fmt.Sprintf("transaction_id %d is below the watermark %d, but the row was never sealed", r.XID, m.watermark)}
		return true
	}
	l := m.leaves[m.next]
	switch {
	case r.hashErr != nil:
		m.firstBad = &TamperError{Row: r.Key, Leaf: int64(m.next), Kind: "edited", Detail: r.hashErr.Error()}
	case string(r.hash) != string(l.hash):
		detail := "its columns differ from the sealed row's"
		if !r.occurredAt.Equal(l.occurredAt) {
			detail = fmt.Sprintf("occurred_at was %s, is %s", FormatTime(l.occurredAt), FormatTime(r.occurredAt))
		}
		m.edited = &TamperError{Row: r.Key, Leaf: int64(m.next), Kind: "edited", Detail: detail}
		return false
	default:
		m.matched++
		m.next++
		return false
	}
	return true
}

// snapshotXmax is the xmax of tx's snapshot: every transaction_id at or above it had not started when the
// snapshot was taken, so a row of such a transaction_id that the snapshot sees was not written by it.
func snapshotXmax(ctx context.Context, tx pgx.Tx) (uint64, error) {
	var xmax uint64
	if err := tx.QueryRow(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())").Scan(&xmax); err != nil {
		return 0, fmt.Errorf("seal: reading the snapshot: %w", err)
	}
	return xmax, nil
}

// notStarted is the finding for row k, whose transaction_id had not started when the snapshot of xmax was taken.
func notStarted(k Key, xmax uint64) *TamperError {
	return &TamperError{Row: k, Leaf: -1, Kind: "inserted",
		Detail: fmt.Sprintf("transaction_id %d had not started (the snapshot's xmax is %d): no transaction wrote the row", k.XID, xmax)}
}

// columnsFor gives the columns a row was sealed with: those of the checkpoint whose watermark range holds its
// transaction_id; nil above the latest watermark.
func columnsFor(cps []sealed) func(xid uint64) []string {
	return func(xid uint64) []string {
		i := sort.Search(len(cps), func(i int) bool { return xid < cps[i].Watermark })
		if i == len(cps) {
			return nil
		}
		return cps[i].columns
	}
}

// classify decides, for the sealed rows found missing, which went with a partition that retention dropped,
// adding those to rep; the first that did not is the first bad row, unless a row that differs for certain came
// before. A row that moved (its id is found at another transaction_id) is reported as reordered.
//
// What places a missing leaf in a dropped partition is its seal_leaf.occurred_at, which its leaf hash commits to
// (leafHashes checked it), and a leaf is taken as dropped only if retention_log accounts for it: a drop logged for
// the range of its occurred_at, a range retain() could have dropped by now (older than the six years it keeps),
// its audit_id within the ids the drop logged, and no more leaves taken as that drop's than the rows it logged.
// retention_log itself is not sealed: a superuser who edits it as well (logging a drop that did not happen, or
// widening one) defeats this check, for rows over six years old.
func (m *merger) classify(ctx context.Context, tx pgx.Tx, rep *Report) (*TamperError, error) {
	dropped := map[string]int64{}
	var drops []*drop
	if len(m.missing) > 0 {
		var err error
		if drops, err = m.drops(ctx, tx); err != nil {
			return nil, err
		}
	}
	for _, i := range m.missing {
		l := m.leaves[i]
		d, why, err := m.droppedBy(ctx, tx, drops, l)
		if err != nil {
			return nil, err
		}
		if d != nil {
			d.taken++
			dropped[l.occurredAt.UTC().Format("2006-01")]++
			continue
		}
		bad := &TamperError{Row: l.Key, Leaf: int64(i), Kind: "missing", Detail: "the sealed row is gone" + why}
		var xid uint64
		err = tx.QueryRow(ctx, "SELECT transaction_id FROM "+m.t.name+" WHERE id = $1 AND transaction_id <> $2::xid8 LIMIT 1", l.ID, l.XID).Scan(&xid)
		if err == nil {
			bad.Kind, bad.Detail = "reordered", fmt.Sprintf("its transaction_id changed from %d to %d", l.XID, xid)
		} else if err != pgx.ErrNoRows {
			return nil, err
		}
		return bad, nil
	}
	if m.firstBad != nil {
		if m.firstBad.Kind == "inserted" {
			for i, l := range m.leaves {
				// A leaf of this id not matched by another row: the row moved here from it.
				if l.ID == m.firstBad.Row.ID && l.XID != m.firstBad.Row.XID && (i >= m.next || slices.Contains(m.missing, i)) {
					m.firstBad.Kind, m.firstBad.Leaf = "reordered", int64(i)
					m.firstBad.Detail = fmt.Sprintf("its transaction_id changed from %d to %d", l.XID, m.firstBad.Row.XID)
				}
			}
		}
		return m.firstBad, nil
	}
	for month, n := range dropped {
		rep.Dropped = append(rep.Dropped, Dropped{Month: month, Rows: n})
	}
	sort.Slice(rep.Dropped, func(i, j int) bool { return rep.Dropped[i].Month < rep.Dropped[j].Month })
	return nil, nil
}

// drop is a partition retain() dropped, as retention_log records it.
type drop struct {
	partition    string
	from, to     time.Time
	rows         int64
	minID, maxID *int64 // nil for a partition dropped empty
	rowsLeft     *bool  // whether any row of the range is left in the table, once looked up
	taken        int64  // the missing leaves taken as this drop's
}

// drops reads retention_log.
func (m *merger) drops(ctx context.Context, tx pgx.Tx) ([]*drop, error) {
	rows, err := tx.Query(ctx, `SELECT partition_name, range_from, range_to, row_count, min_id, max_id FROM `+m.retentionLog+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("seal: reading the retention log: %w", err)
	}
	var ds []*drop
	var d drop
	_, err = pgx.ForEachRow(rows, []any{&d.partition, &d.from, &d.to, &d.rows, &d.minID, &d.maxID}, func() error {
		c := d
		ds = append(ds, &c)
		d.minID, d.maxID = nil, nil // ForEachRow scans into the same variables; the pointers must not be shared
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seal: reading the retention log: %w", err)
	}
	return ds, nil
}

// droppedBy finds the logged drop that accounts for the missing leaf l: its range holds l's occurred_at, its ids
// l's audit_id, it logged more rows than were taken as its already, and no row of its range is left in the table
// (rows missing from a range that still has rows, or from a partition dropped by hand, were deleted, not
// dropped). With none, why says what a drop of l's time lacked ("" if there is no such drop).
func (m *merger) droppedBy(ctx context.Context, tx pgx.Tx, ds []*drop, l leaf) (d *drop, why string, err error) {
	for _, d := range ds {
		if l.occurredAt.Before(d.from) || !l.occurredAt.Before(d.to) {
			continue
		}
		switch {
		case tooYoung(d.to, m.now):
			why = fmt.Sprintf("; retention_log says %s was dropped, but it ends %s, younger than the %d years retention keeps",
				d.partition, d.to.UTC().Format(time.DateOnly), auditschema.MinRetentionYears)
			continue
		case d.minID == nil || l.ID < *d.minID || l.ID > *d.maxID:
			why = fmt.Sprintf("; retention dropped %s, but its ids were not this row's", d.partition)
			continue
		case d.taken >= d.rows:
			why = fmt.Sprintf("; retention dropped %s, but more of its sealed rows are gone than the %d it dropped", d.partition, d.rows)
			continue
		}
		if d.rowsLeft == nil {
			var left bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+m.t.name+` WHERE occurred_at >= $1 AND occurred_at < $2)`, d.from, d.to).Scan(&left)
			if err != nil {
				return nil, "", fmt.Errorf("seal: looking for rows of %s: %w", d.partition, err)
			}
			d.rowsLeft = &left
		}
		if *d.rowsLeft {
			why = fmt.Sprintf("; retention dropped %s, but rows of its range are in the table", d.partition)
			continue
		}
		return d, "", nil
	}
	return nil, why, nil
}
