package seal

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// Red-team round 22a: seal key rotation.
//
// The current key's signature covers a checkpoint's text only, and the text does not say which key (if any) the
// checkpoint hands the trail over to: a signature line is not bound to the others. So anyone who can put a
// signature line next to the current key's on a checkpoint (a superuser editing seal_checkpoint.note) turns an
// ordinary checkpoint into a "handover" the current key holder never agreed to: to the leaked old key (a key the
// operator gives verify anyway), to an attacker's key that verify is given, or to a key nobody has. Verify
// compares only a witness's latest copy with the database, and Seal publishes the database's latest checkpoint,
// unverified, to a witness that lags, so the edited checkpoint and the forged ones after it reach the witnesses.

// lagging is a witness whose publishing fails for checkpoints above upTo (the network was down when that seal
// published): Latest and smaller checkpoints go through.
type lagging struct {
	Dir
	upTo uint64
}

func (l lagging) Publish(ctx context.Context, c *Checkpoint) error {
	if c.Size > l.upTo {
		return fmt.Errorf("%s: publishing tree size %d: connection refused", l.Dir, c.Size)
	}
	return l.Dir.Publish(ctx, c)
}

// cosign returns signed with one more signature line, by s over the same text: what a holder of s can add to a
// note another key signed.
func cosign(t *testing.T, signed []byte, v note.Verifier, s note.Signer) []byte {
	t.Helper()
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	extra, err := note.Sign(&note.Note{Text: n.Text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{}, signed...), extra[len(n.Text)+1:]...)
}

// latestNote is the note of the database's latest checkpoint.
func (tr *trail) latestNote() (uint64, []byte) {
	tr.t.Helper()
	var size int64
	var signed string
	if err := tr.db.QueryRow(context.Background(), "SELECT tree_size, note FROM auditrepo.seal_checkpoint ORDER BY tree_size DESC LIMIT 1").Scan(&size, &signed); err != nil {
		tr.t.Fatal(err)
	}
	return uint64(size), []byte(signed)
}

// replaceNote is a superuser's edit of a stored checkpoint's note.
func (tr *trail) replaceNote(size uint64, signed []byte) {
	tr.t.Helper()
	tr.exec(`ALTER TABLE auditrepo.seal_checkpoint DISABLE TRIGGER USER`)
	tr.exec(`UPDATE auditrepo.seal_checkpoint SET note = $1 WHERE tree_size = $2`, string(signed), int64(size))
	tr.exec(`ALTER TABLE auditrepo.seal_checkpoint ENABLE TRIGGER USER`)
}

// rotated makes a trail sealed with oldS, handed over to newS, and sealed once more with newS; the witness got
// every checkpoint but (when lag) the last, whose publishing failed.
func rotated(t *testing.T, lag bool) (tr *trail, oldS note.Signer, oldV note.Verifier, newS note.Signer, newV note.Verifier) {
	tr = newTrail(t)
	oldS, oldV = tr.s, tr.v
	newS, newV = keys(t, oldS.Name())
	tr.insert(2, 1)
	tr.seal()
	tr.insert(2, 1)
	h, err := tr.handover(newS, oldS)
	if err != nil || h == nil {
		t.Fatalf("handover: %+v, %v", h, err)
	}
	tr.s = newS
	tr.insert(2, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	opts := tr.opts
	if lag {
		opts.Witnesses = []Witness{lagging{Dir: tr.opts.Witnesses[0].(Dir), upTo: h.Size}}
	}
	cp, err := Seal(context.Background(), tr.db, newS, opts)
	if cp == nil || (err == nil) == lag {
		t.Fatalf("seal with the new key (publishing fails: %v): %+v, %v", lag, cp, err)
	}
	if _, err := tr.verifyWith(oldV, newV); lag == (err == nil) {
		t.Fatalf("verify of the honest rotated trail (witness lagging: %v): %v", lag, err)
	}
	return tr, oldS, oldV, newS, newV
}

// TestRT22aOldKeyTakesTrailBack: after an honest handover old -> new, someone holding the old (leaked) key and a
// superuser's access adds the old key's signature line to a checkpoint the new key signed, and seals the next
// checkpoint with the old key alone. Verify, given the honest keys and the honest witness, must refuse it: the
// new key never signed a handover back. Two ways the witness ends up agreeing with the database:
//   - lagging witness: the new key's last seal failed to publish (a network error Seal says "the next seal
//     retries"); the next honest Seal publishes the database's latest checkpoint, the forged one, to the
//     witness before it refuses the new key (ErrOtherKey), whose message then sends the operator to verify;
//   - appended witness: the witness got everything; the attacker adds the forged checkpoint as a new file (no
//     copy is replaced). Verify compares only the witness's latest with the database, not the earlier copy of
//     the checkpoint that was edited.
func TestRT22aOldKeyTakesTrailBack(t *testing.T) {
	for _, lag := range []bool{true, false} {
		name := map[bool]string{true: "lagging witness", false: "appended witness"}[lag]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tr, oldS, oldV, newS, newV := rotated(t, lag)
			dir := tr.opts.Witnesses[0].(Dir)
			size, signed := tr.latestNote()
			tr.replaceNote(size, cosign(t, signed, newV, oldS))

			// Rows written after the edit: the attacker deletes one before sealing them with the old key.
			ids := tr.insert(3, 1)
			tr.exec(fmt.Sprintf(`BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM auditrepo.audit_log WHERE id = %d; COMMIT`, ids[1]))
			pgtest.WaitFinal(t, tr.db, tr.maxXID())
			tr.s = oldS
			forged := tr.sealWithOpts(Options{}, oldS) // published nowhere
			if lag {
				// The operator's next seal with the new key.
				tr.insert(1, 1)
				pgtest.WaitFinal(t, tr.db, tr.maxXID())
				_, err := Seal(ctx, tr.db, newS, tr.opts)
				t.Logf("honest seal with the new key: %v", err)
			} else if err := dir.Publish(ctx, forged); err != nil {
				t.Fatal(err)
			}
			if latest, _ := dir.Latest(ctx); string(latest) != string(forged.Note) {
				t.Fatalf("the witness's latest is not the forged checkpoint")
			}
			rep, err := tr.verifyWith(oldV, newV)
			if err == nil {
				t.Fatalf("verify with the honest keys and witness PASSED after the old key took the trail back: %d rows, handovers %v "+
					"(the new key signed no handover to the old one; a sealed row was deleted before the old key sealed it)", rep.Rows, rep.Handovers)
			}
			if !errors.Is(err, ErrBadCheckpoint) {
				t.Fatalf("verify: %v, want ErrBadCheckpoint", err)
			}
			t.Log(err)
			if _, err := VerifyPatient(ctx, tr.db, []note.Verifier{newV, oldV}, tr.opts, 1); err == nil {
				t.Fatalf("VerifyPatient passed too")
			}
		})
	}
}

// TestRT22aHandoverToAKeyNobodyHas: a superuser adds a junk signature line of the trail's name (no private key at
// all) to the new key's latest checkpoint while the witness lags. The next honest seal publishes it to the
// witness and refuses the new key for good ("handed the trail over ... to" the junk key); verify passes and
// reports a handover the current key never signed. Sealing is over: every later row stays unsealed, and the
// witness keeps the poisoned copy (copies are never replaced).
func TestRT22aHandoverToAKeyNobodyHas(t *testing.T) {
	ctx := context.Background()
	tr, _, oldV, newS, newV := rotated(t, true)
	size, signed := tr.latestNote()
	junk := []byte("— " + newS.Name() + " " + base64.StdEncoding.EncodeToString(append([]byte{0xde, 0xad, 0xbe, 0xef}, make([]byte, 64)...)) + "\n")
	tr.replaceNote(size, append(append([]byte{}, signed...), junk...))
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	_, err := Seal(ctx, tr.db, newS, tr.opts)
	t.Logf("honest seal with the new key: %v", err)
	rep, err := tr.verifyWith(oldV, newV)
	if err == nil {
		t.Fatalf("verify PASSED with a handover the current key never signed: handovers %v; the new key can no longer seal", rep.Handovers)
	}
	t.Log(err)
}

// TestRT22aAttackerKeyGiven: the same edit with an attacker's key of the trail's name, which the operator's set of
// public keys includes (verify is given whatever .pub files the operator has): the attacker's key takes the trail
// over from the new key without the new key's consent.
func TestRT22aAttackerKeyGiven(t *testing.T) {
	ctx := context.Background()
	tr, _, oldV, newS, newV := rotated(t, true)
	attS, attV := keys(t, newS.Name())
	size, signed := tr.latestNote()
	tr.replaceNote(size, cosign(t, signed, newV, attS))
	tr.insert(2, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	tr.sealWithOpts(Options{}, attS)
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	_, err := Seal(ctx, tr.db, newS, tr.opts)
	t.Logf("honest seal with the new key: %v", err)
	rep, err := tr.verifyWith(oldV, newV, attV)
	if err == nil {
		t.Fatalf("verify PASSED after an attacker's key took over without the new key's consent: handovers %v", rep.Handovers)
	}
	t.Log(err)
}

// sealWithOpts is sealWith with other options (witnesses).
func (tr *trail) sealWithOpts(opts Options, keys ...note.Signer) *Checkpoint {
	tr.t.Helper()
	saved := tr.opts
	defer func() { tr.opts = saved }()
	opts.Config = saved.Config
	tr.opts = opts
	return tr.sealWith(keys...)
}
