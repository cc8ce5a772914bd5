package seal

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// sealWith seals as Seal does, as the sealer role, but signs with keys whatever the latest checkpoint: what
// someone holding those private keys and the sealer role can append (through seal_leaves() and
// seal_checkpoint()), Seal's refusals aside.
func (tr *trail) sealWith(keys ...note.Signer) *Checkpoint {
	tr.t.Helper()
	pgtest.WaitFinal(tr.t, tr.db, tr.maxXID())
	sealer := tr.connect("auditrepo_sealer")
	cp, err := seal(context.Background(), sealer, tr.opts, func(*Checkpoint) ([]note.Signer, error) {
		return keys, nil
	})
	if err != nil || cp == nil {
		tr.t.Fatalf("sealing with %d keys: %+v, %v", len(keys), cp, err)
	}
	return cp
}

// handover seals what is final with s, handing over from previous.
func (tr *trail) handover(s, previous note.Signer) (*Checkpoint, error) {
	tr.t.Helper()
	pgtest.WaitFinal(tr.t, tr.db, tr.maxXID())
	opts := tr.opts
	opts.Previous = previous
	return Seal(context.Background(), tr.db, s, opts)
}

func (tr *trail) verifyWith(keys ...note.Verifier) (*Report, error) {
	return Verify(context.Background(), tr.db, keys, tr.opts)
}

func sid(s note.Signer) string { return keyID(s.Name(), s.KeyHash()) }

// TestKeyHandover: a new key of the trail's name takes over in a checkpoint signed by it and the old key; later
// checkpoints are the new key's alone. The trail verifies with both public keys (in either order), not with
// either alone: the new key did not sign the first checkpoints, and the old key's public key alone cannot check
// the checkpoints after its handover. The old key seals no more.
func TestKeyHandover(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	oldS, oldV := tr.s, tr.v
	newS, newV := keys(t, oldS.Name())
	tr.insert(3, 1)
	tr.seal()

	// Nothing to seal: no handover yet (a checkpoint covers new rows).
	if cp, err := tr.handover(newS, oldS); err != nil || cp != nil {
		t.Fatalf("handover with nothing to seal: %+v, %v", cp, err)
	}
	tr.insert(2, 1)
	h, err := tr.handover(newS, oldS)
	if err != nil || h == nil || h.Size != 5 {
		t.Fatalf("handover: %+v, %v", h, err)
	}
	if got := h.SignedWith(); len(got) != 2 || got[0] != sid(newS) || got[1] != sid(oldS) {
		t.Fatalf("the handover checkpoint is signed by %v, want %s and %s", got, sid(newS), sid(oldS))
	}
	tr.s = newS
	tr.insert(2, 1)
	if cp := tr.seal(); cp == nil || cp.Size != 7 || len(cp.SignedWith()) != 1 {
		t.Fatalf("seal with the new key after the handover: %+v", cp)
	}
	// The previous key, given again once the new key signs the latest checkpoint, is ignored.
	tr.insert(1, 1)
	if cp, err := tr.handover(newS, oldS); err != nil || cp == nil || cp.Size != 8 || len(cp.SignedWith()) != 1 {
		t.Fatalf("seal with the new key and the old one as previous, after the handover: %+v, %v", cp, err)
	}

	for _, ks := range [][]note.Verifier{{oldV, newV}, {newV, oldV}} {
		rep, err := tr.verifyWith(ks...)
		if err != nil || rep.Rows != 8 || rep.Checkpoints != 4 {
			t.Fatalf("verify with both keys: %+v, %v", rep, err)
		}
		want := Handover{Size: 5, From: sid(oldS), To: sid(newS)}
		if len(rep.Handovers) != 1 || rep.Handovers[0] != want {
			t.Fatalf("handovers %v, want %v", rep.Handovers, want)
		}
	}
	if rep, err := VerifyPatient(ctx, tr.db, []note.Verifier{newV, oldV}, tr.opts, 1); err != nil || len(rep.Proofs) != 8 {
		t.Fatalf("verify patient with both keys: %+v, %v", rep, err)
	}

	// The new key alone: the first checkpoint is the old key's, named.
	_, err = tr.verifyWith(newV)
	if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "tree size 3 in the database: signed by "+sid(oldS)+", not by the key given ("+sid(newS)+")") {
		t.Fatalf("verify with the new key alone: %v", err)
	}
	if _, err := VerifyPatient(ctx, tr.db, []note.Verifier{newV}, tr.opts, 1); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("verify patient with the new key alone: %v", err)
	}
	// The old key alone: the checkpoints after its handover are another key's (the witness's latest first, read
	// before the database's).
	_, err = tr.verifyWith(oldV)
	if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "signed by "+sid(newS)+", not by the key given ("+sid(oldS)+")") {
		t.Fatalf("verify with the old key alone: %v", err)
	}
	_, err = Verify(ctx, tr.db, []note.Verifier{oldV}, Options{})
	if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "tree size 7 in the database") ||
		!strings.Contains(err.Error(), "handed the trail over from "+sid(oldS)+" to "+sid(newS)+", a key not given") {
		t.Fatalf("verify with the old key alone, without the witness: %v", err)
	}

	// The old key, which handed over, seals no more: its checkpoint would not verify.
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	_, err = Seal(ctx, tr.db, oldS, tr.opts)
	var ke *KeyError
	if !errors.Is(err, ErrOtherKey) || !errors.As(err, &ke) || ke.Size != 8 {
		t.Fatalf("seal with the old key after the handover: %v, want ErrOtherKey", err)
	}
	// Nor does it once the handover checkpoint is the latest: tested on a fresh trail below (TestHandoverTwice).

	// A third key takes over from the new one; the history verifies with all three.
	thirdS, thirdV := keys(t, oldS.Name())
	if cp, err := tr.handover(thirdS, newS); err != nil || cp == nil || cp.Size != 9 {
		t.Fatalf("second handover: %+v, %v", cp, err)
	}
	rep, err := tr.verifyWith(thirdV, oldV, newV)
	if err != nil || len(rep.Handovers) != 2 || rep.Handovers[1] != (Handover{Size: 9, From: sid(newS), To: sid(thirdS)}) {
		t.Fatalf("verify with three keys: %+v, %v", rep, err)
	}
}

// TestHandoverTwice: right after a handover, the old key can neither seal nor hand over again (to another key):
// the trail is the new key's.
func TestHandoverTwice(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	oldS := tr.s
	newS, _ := keys(t, oldS.Name())
	tr.insert(2, 1)
	tr.seal()
	tr.insert(1, 1)
	if _, err := tr.handover(newS, oldS); err != nil {
		t.Fatal(err)
	}
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	var ke *KeyError
	if _, err := Seal(ctx, tr.db, oldS, tr.opts); !errors.As(err, &ke) || ke.HandedOverTo != sid(newS) ||
		!strings.Contains(err.Error(), "handed the trail over from key "+sid(oldS)+" to "+sid(newS)) {
		t.Fatalf("seal with the old key right after its handover: %v", err)
	}
	otherS, _ := keys(t, oldS.Name())
	if _, err := tr.handover(otherS, oldS); !errors.Is(err, ErrPreviousKey) || !strings.Contains(err.Error(), "already handed the trail over to "+sid(newS)) {
		t.Fatalf("handing over again from the old key: %v", err)
	}
}

// TestHandoverForgedByOldKey: someone holding the old key (leaked, hence the rotation) and the sealer role
// appends a checkpoint signed by it alone after its handover. Verify with the key history refuses it, naming both
// keys and the handover, whether the new key sealed after the handover or not.
func TestHandoverForgedByOldKey(t *testing.T) {
	for _, sealedAfter := range []bool{false, true} {
		tr := newTrail(t)
		oldS, oldV := tr.s, tr.v
		newS, newV := keys(t, oldS.Name())
		tr.insert(2, 1)
		tr.seal()
		tr.insert(2, 1)
		if _, err := tr.handover(newS, oldS); err != nil {
			t.Fatal(err)
		}
		if sealedAfter {
			tr.s = newS
			tr.insert(1, 1)
			tr.seal()
		}
		tr.insert(1, 1)
		forged := tr.sealWith(oldS)
		_, err := tr.verifyWith(oldV, newV)
		if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "tree size "+strconv.FormatUint(forged.Size, 10)+" in the database: signed by "+sid(oldS)+", not by "+sid(newS)) ||
			!strings.Contains(err.Error(), "handed the trail over to "+sid(newS)+" at tree size 4, so a checkpoint signed by it alone after that is forged") {
			t.Fatalf("verify after a checkpoint forged by the old key (sealed after the handover: %v): %v", sealedAfter, err)
		}
		t.Log(err)
	}
}

// TestNewKeyWithoutHandover: a checkpoint signed by a key of the trail's name that no handover brought in is
// refused, even when its public key is among those given (an attacker's key passed off as the next one).
func TestNewKeyWithoutHandover(t *testing.T) {
	tr := newTrail(t)
	oldS, oldV := tr.s, tr.v
	newS, newV := keys(t, oldS.Name())
	tr.insert(2, 1)
	tr.seal()
	tr.insert(1, 1)
	tr.sealWith(newS)
	_, err := tr.verifyWith(oldV, newV)
	if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "tree size 3 in the database: signed by "+sid(newS)+", not by "+sid(oldS)+
		", the key that signed the checkpoint before it: no checkpoint signed by both hands the trail over to "+sid(newS)) {
		t.Fatalf("verify with both keys: %v", err)
	}
	if _, err := tr.verifyWith(oldV); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "signed by "+sid(newS)+", not by the key given") {
		t.Fatalf("verify with the old key: %v", err)
	}
}

// TestSealRefusesWrongPreviousKey: a previous key Seal cannot hand over from is refused (ErrPreviousKey), and
// nothing is written: not a checkpoint, not a leaf, not a witness copy.
func TestSealRefusesWrongPreviousKey(t *testing.T) {
	tr := newTrail(t)
	dir := tr.opts.Witnesses[0].(Dir)
	newS, _ := keys(t, tr.s.Name())
	// No checkpoint yet: nothing to hand over from.
	tr.insert(2, 1)
	if _, err := tr.handover(newS, tr.s); !errors.Is(err, ErrPreviousKey) || !strings.Contains(err.Error(), "no checkpoint yet") {
		t.Fatalf("handover before any checkpoint: %v", err)
	}
	tr.seal()
	tr.insert(2, 1)
	strangerS, _ := keys(t, tr.s.Name())
	otherName, _ := keys(t, "other.example/audit")
	for _, c := range []struct {
		name         string
		s, previous  note.Signer
		want         string
		wantKeyError bool
	}{
		{"a previous key that did not sign the latest", newS, strangerS, "the latest checkpoint (tree size 2) is signed by " + sid(tr.s) + ", not by the previous key", false},
		{"a new key of another name", otherName, tr.s, "their names differ", false},
		{"a previous key of another name", newS, otherName, "their names differ", false},
		{"the same key", tr.s, tr.s, "they are the same key", false},
	} {
		before := tr.counts()
		latest, _ := dir.Latest(context.Background())
		cp, err := tr.handover(c.s, c.previous)
		var pe *PreviousKeyError
		if !errors.Is(err, ErrPreviousKey) || !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || cp != nil {
			t.Fatalf("%s: %+v, %v; want ErrPreviousKey, %q", c.name, cp, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
		if after := tr.counts(); after != before {
			t.Fatalf("%s: checkpoints and leaves %v, before %v", c.name, after, before)
		}
		if now, _ := dir.Latest(context.Background()); string(now) != string(latest) {
			t.Fatalf("%s: the witness's latest changed", c.name)
		}
	}
	if rep := tr.clean(); rep.Checkpoints != 1 || rep.Unsealed != 2 {
		t.Fatalf("report %+v after the refused seals", rep)
	}
}

// counts are the numbers of checkpoints and leaves stored.
func (tr *trail) counts() [2]int64 {
	tr.t.Helper()
	var n [2]int64
	err := tr.db.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM auditrepo.seal_checkpoint), (SELECT count(*) FROM auditrepo.seal_leaf)").
		Scan(&n[0], &n[1])
	if err != nil {
		tr.t.Fatal(err)
	}
	return n
}

// TestVerifyKeys: Verify needs a key, and keys of one name (the checkpoints' origin).
func TestVerifyKeys(t *testing.T) {
	tr := newTrail(t)
	_, other := keys(t, "other.example/audit")
	if _, err := tr.verifyWith(); err == nil {
		t.Fatal("verify with no key passed")
	}
	if _, err := tr.verifyWith(tr.v, other); err == nil || !strings.Contains(err.Error(), "different names") {
		t.Fatalf("verify with keys of two names: %v", err)
	}
	tr.insert(1, 1)
	tr.seal()
	if rep, err := tr.verifyWith(tr.v, tr.v); err != nil || rep.Rows != 1 {
		t.Fatalf("verify with the key twice: %+v, %v", rep, err)
	}
}
