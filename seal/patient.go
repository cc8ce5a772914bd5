package seal

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Inclusion is the evidence that one row is in a signed checkpoint: with the row, the checkpoint and this proof
// anyone holding the public key can check it (proof.VerifyInclusion with RFC 6962 hashing).
type Inclusion struct {
	Row   Key
	Leaf  uint64
	Proof [][]byte
}

// PatientReport is the evidence VerifyPatient gathered.
type PatientReport struct {
	// Checkpoint is the latest checkpoint, which every proof is against; nil if nothing was sealed yet.
	Checkpoint *Checkpoint
	Proofs     []Inclusion
	// Unsealed is the number of the patient's rows not sealed yet.
	Unsealed int
}

// VerifyPatient proves that each sealed row of one patient (patient_id or prior_patient_id) is included in the
// latest checkpoint, after checking the checkpoints as Verify does; it reads that patient's rows and the leaf
// hashes, not the other rows. A row that is not in the tree as it is now is a *TamperError. It cannot see a
// patient's row that was deleted (the leaves do not say whose they are): Verify does. keys are the trail's public
// keys, as Verify takes them.
func VerifyPatient(ctx context.Context, db DB, keys []note.Verifier, opts Options, patientID int64) (*PatientReport, error) {
	c := opts.Config.WithDefaults()
	rep := &PatientReport{}
	kr, err := newKeyring(keys)
	if err != nil {
		return nil, err
	}
	ws, err := readWitnesses(ctx, opts.Witnesses, kr) // before the snapshot, as Verify reads them
	if err != nil {
		return nil, err
	}
	err = inTx(ctx, db, c.QualifiedTable(), func(tx pgx.Tx) error {
		cps, _, err := checkpoints(ctx, tx, c, kr, ws)
		if err != nil {
			return err
		}
		leaves, err := leafHashes(ctx, tx, c, cps)
		if err != nil {
			return err
		}
		t, err := readTable(ctx, tx, c.QualifiedTable())
		if err != nil {
			return err
		}
		var latest sealed
		if len(cps) > 0 {
			latest = cps[len(cps)-1]
			rep.Checkpoint = latest.Checkpoint
		}
		xmax, err := snapshotXmax(ctx, tx)
		if err != nil {
			return err
		}
		index := make(map[Key]uint64, len(leaves))
		for i, l := range leaves {
			index[l.Key] = uint64(i)
		}
		rows, err := tx.Query(ctx, fmt.Sprintf("SELECT %s FROM %s a WHERE a.patient_id = $1 OR a.prior_patient_id = $1 ORDER BY a.transaction_id, a.id",
			t.selectList(), t.name), patientID)
		if err != nil {
			return fmt.Errorf("seal: reading the patient's rows: %w", err)
		}
		type sealedRow struct {
			row
			leaf uint64
		}
		all, err := t.readHashed(rows, math.MaxInt, columnsFor(cps))
		rows.Close()
		if err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var mine []sealedRow
		for _, r := range all {
			if r.XID >= xmax {
				return notStarted(r.Key, xmax)
			}
			if r.hash == nil && r.hashErr == nil {
				rep.Unsealed++
				continue
			}
			i, ok := index[r.Key]
			if !ok {
				return &TamperError{Row: r.Key, Leaf: -1, Kind: "inserted", Detail: "its transaction_id is below the watermark, but the row was never sealed"}
			}
			mine = append(mine, sealedRow{r, i})
		}
		if len(mine) == 0 {
			return nil
		}
		req := nodeRequest{sizes: []uint64{latest.Size}, need: map[compact.NodeID]bool{}}
		for _, r := range mine {
			n, err := proof.Inclusion(r.leaf, latest.Size)
			if err != nil {
				return err
			}
			for _, id := range n.IDs {
				req.need[id] = true
			}
		}
		hashes := make([][]byte, len(leaves))
		for i, l := range leaves {
			hashes[i] = l.hash
		}
		nodes, err := nodeHashes(hashes, req)
		if err != nil {
			return err
		}
		for _, r := range mine {
			if r.hashErr != nil {
				return &TamperError{Row: r.Key, Leaf: int64(r.leaf), Kind: "edited", Detail: r.hashErr.Error()}
			}
			if string(r.hash) != string(leaves[r.leaf].hash) {
				return &TamperError{Row: r.Key, Leaf: int64(r.leaf), Kind: "edited", Detail: "its columns differ from the sealed row's"}
			}
			pf, err := nodes.proof(proof.Inclusion(r.leaf, latest.Size))
			if err != nil {
				return err
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, r.leaf, latest.Size, r.hash, pf, latest.Hash); err != nil {
				return &TamperError{Row: r.Key, Leaf: int64(r.leaf), Kind: "edited", Detail: "its inclusion proof does not verify: " + err.Error()}
			}
			rep.Proofs = append(rep.Proofs, Inclusion{Row: r.Key, Leaf: r.leaf, Proof: pf})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
