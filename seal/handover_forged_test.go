package seal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// Handovers forged by adding a signature line. Before the handover line, the current key's signature covered a
// checkpoint's text only, and the text did not say which key (if any) the checkpoint handed the trail over to:
// anyone who could put a signature line next to the current key's on a checkpoint (a superuser editing
// seal_checkpoint.note) turned an ordinary checkpoint into a "handover" the current key holder never agreed to:
// to the leaked old key (a key the operator gives verify anyway), to an attacker's key that verify is given, or
// to a key nobody has. Verify compared only a witness's latest copy with the database, and Seal published the
// database's latest checkpoint, unverified, to a witness that lagged, so the edited checkpoint and the forged ones
// after it reached the witnesses. Now the handover is in the signed text, Seal checks the latest checkpoint's
// signatures before it publishes it, and Verify compares every copy a witness holds.

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

// TestHandoverForgedBackToOldKey: after an honest handover old -> new, someone holding the old (leaked) key and a
// superuser's access adds the old key's signature line to a checkpoint the new key signed, and seals the next
// checkpoint with the old key alone. Verify, given the honest keys and the honest witness, must refuse it: the
// new key never signed a handover back. Two ways the witness ends up agreeing with the database:
//   - lagging witness: the new key's last seal failed to publish (a network error Seal says "the next seal
//     retries"); the next honest Seal must not publish the database's latest checkpoint, the forged one, to the
//     witness: it did not sign it, and refuses the new key (ErrOtherKey) without publishing anything;
//   - appended witness: the witness got everything; the attacker adds the forged checkpoint as a new file (no
//     copy is replaced). Verify compares every copy the witness holds with the database, not only its latest.
func TestHandoverForgedBackToOldKey(t *testing.T) {
	for _, lag := range []bool{true, false} {
		name := map[bool]string{true: "lagging witness", false: "appended witness"}[lag]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tr, oldS, oldV, newS, newV := rotated(t, lag)
			dir := tr.opts.Witnesses[0].(Dir)
			size, signed := tr.latestNote()
			edited := cosign(t, signed, newV, oldS)
			tr.replaceNote(size, edited)

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
				if !errors.Is(err, ErrBadCheckpoint) && !errors.Is(err, ErrOtherKey) {
					t.Fatalf("honest seal with the new key: %v, want it refused", err)
				}
				t.Logf("honest seal with the new key: %v", err)
				// (The honest handover before them names the old key in its text and is signed by it: a witness may hold it.)
				latest, _ := dir.Latest(ctx)
				if string(latest) == string(forged.Note) || string(latest) == string(edited) || sizeOf(latest) >= size {
					t.Fatalf("the honest seal published a checkpoint it did not sign to the witness:\n%s", latest)
				}
			} else {
				if err := dir.Publish(ctx, forged); err != nil {
					t.Fatal(err)
				}
				if latest, _ := dir.Latest(ctx); string(latest) != string(forged.Note) {
					t.Fatalf("the witness's latest is not the forged checkpoint")
				}
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

// TestHandoverForgedToAKeyNobodyHas: a superuser adds a junk signature line of the trail's name (no private key at
// all) to the new key's latest checkpoint while the witness lags. The next honest seal publishes it to the
// witness and refuses the new key for good ("handed the trail over ... to" the junk key); verify passes and
// reports a handover the current key never signed. Sealing is over: every later row stays unsealed, and the
// witness keeps the poisoned copy (copies are never replaced).
func TestHandoverForgedToAKeyNobodyHas(t *testing.T) {
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

// TestHandoverForgedToAGivenKey: the same edit with an attacker's key of the trail's name, which the operator's set of
// public keys includes (verify is given whatever .pub files the operator has): the attacker's key takes the trail
// over from the new key without the new key's consent.
func TestHandoverForgedToAGivenKey(t *testing.T) {
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

// TestHandoverSignatureCheckedWithTheKeyItNames: the next key's signature on a handover checkpoint is checked
// with the public key its text gives, even when verify is not given that key: a junk signature line in its place
// is a bad checkpoint either way.
func TestHandoverSignatureCheckedWithTheKeyItNames(t *testing.T) {
	tr := newTrail(t)
	oldS, oldV := tr.s, tr.v
	newS, newV := keys(t, oldS.Name())
	tr.insert(2, 1)
	tr.seal()
	tr.insert(1, 1)
	h, err := tr.handover(newS, oldS)
	if err != nil || h == nil || h.Next == "" || !strings.Contains(string(h.Note), "\nhandover "+h.From+" "+h.Next+"\n\n") {
		t.Fatalf("handover: %+v, %v", h, err)
	}
	if _, err := tr.verifyWith(oldV, newV); err != nil {
		t.Fatal(err)
	}
	// The new key's signature line, replaced by one of the same key over other bytes.
	n, err := note.Open(h.Note, note.VerifierList(oldV, newV))
	if err != nil {
		t.Fatal(err)
	}
	var forged strings.Builder
	forged.WriteString(n.Text + "\n")
	for _, sig := range n.Sigs {
		b64 := sig.Base64
		if sig.Hash == newS.KeyHash() {
			raw, _ := base64.StdEncoding.DecodeString(b64)
			raw[len(raw)-1] ^= 1
			b64 = base64.StdEncoding.EncodeToString(raw)
		}
		fmt.Fprintf(&forged, "— %s %s\n", sig.Name, b64)
	}
	tr.replaceNote(h.Size, []byte(forged.String()))
	for _, ks := range [][]note.Verifier{{oldV}, {oldV, newV}} {
		_, err := Verify(context.Background(), tr.db, ks, Options{})
		if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "tree size 3 in the database") {
			t.Fatalf("verify with %d keys after the new key's signature was replaced: %v", len(ks), err)
		}
		t.Log(err)
	}
}

// TestVerifyComparesEveryWitnessCopy: a witness's copies other than its latest are checked too: one changed, one
// added under another name of the same tree size, or one of a tree size the database has no checkpoint of.
func TestVerifyComparesEveryWitnessCopy(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"an earlier copy changed", "3.checkpoint", "tree size 3 in the database differs from the copy in"},
		{"a copy beside it", "03.checkpoint", "tree size 3 in the database differs from the copy in"},
		{"a copy of a size the database lacks", "4.checkpoint", "holds tree size 4, which the database has no checkpoint of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := newTrail(t)
			dir := tr.opts.Witnesses[0].(Dir)
			tr.insert(2, 1)
			first := tr.seal()
			tr.insert(1, 1)
			tr.seal()
			tr.insert(2, 1)
			tr.seal()
			tr.clean()
			if err := os.WriteFile(filepath.Join(string(dir), c.file), first.Note, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := tr.verify()
			if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("verify: %v, want %q", err, c.want)
			}
		})
	}
}

// TestSealNeedsThePublicKey: Seal checks the latest checkpoint's signatures with its keys' public keys, so it takes
// a signer that knows its own (NewSigner); a plain note.Signer is refused, and nothing is written.
func TestSealNeedsThePublicKey(t *testing.T) {
	tr := newTrail(t)
	skey, _, err := note.GenerateKey(rand.Reader, tr.s.Name())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	if cp, err := Seal(context.Background(), tr.db, plain, tr.opts); err == nil || !strings.Contains(err.Error(), "seal.NewSigner") || cp != nil {
		t.Fatalf("seal with a plain note.Signer: %+v, %v", cp, err)
	}
	if n := tr.counts(); n != [2]int64{0, 0} {
		t.Fatalf("checkpoints and leaves %v after the refused seal", n)
	}
}
