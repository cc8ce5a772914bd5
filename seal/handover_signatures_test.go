package seal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/internal/pgtest"
)

// Signature lines Seal cannot check: it publishes none of them to a witness that lags, and refuses to seal on top.

// junkLine replaces the signature line of key k in signed by one of the same name and key hash over random bytes:
// what a superuser editing seal_checkpoint.note can write without any private key.
func junkLine(t *testing.T, signed []byte, k note.Signer) []byte {
	t.Helper()
	i := strings.LastIndex(string(signed), "\n\n")
	text, sigs := string(signed[:i+2]), strings.SplitAfter(string(signed[i+2:]), "\n")
	var out strings.Builder
	out.WriteString(text)
	replaced := false
	for _, line := range sigs {
		if line == "" {
			continue
		}
		name, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(line, "— "), "\n"), " ")
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		if name == k.Name() && uint32(raw[0])<<24|uint32(raw[1])<<16|uint32(raw[2])<<8|uint32(raw[3]) == k.KeyHash() {
			junk := make([]byte, 64)
			if _, err := rand.Read(junk); err != nil {
				t.Fatal(err)
			}
			line = fmt.Sprintf("— %s %s\n", name, base64.StdEncoding.EncodeToString(append(raw[:4:4], junk...)))
			replaced = true
		}
		out.WriteString(line)
	}
	if !replaced {
		t.Fatalf("no signature line of %s in\n%s", sid(k), signed)
	}
	return []byte(out.String())
}

// TestSealRefusesHandoverWithUnverifiedOldSignature: the handover checkpoint's publishing failed (the witness
// was unreachable). A superuser replaces the OLD key's signature line on it, in seal_checkpoint.note, with junk of
// the old key's name and hash. The operator's next seal, with the new key alone as the README says, used to check
// only the new key's signature (nothing gave it the old key's public key), publish the edited note to the witness
// that lacked it, for good (copies are never replaced), and seal on top: the trail could never verify again. The
// handover line now names both keys' public keys, so Seal checks the old key's signature with the one it names:
// it refuses the edited checkpoint (ErrBadCheckpoint) and publishes nothing, until the operator restores the note.
func TestSealRefusesHandoverWithUnverifiedOldSignature(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	oldS, oldV := tr.s, tr.v
	newS, newV := keys(t, oldS.Name())
	dir := tr.opts.Witnesses[0].(Dir)
	tr.insert(2, 1)
	first := tr.seal()
	tr.insert(2, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	h, err := Seal(ctx, tr.db, newS, Options{Witnesses: []Witness{lagging{Dir: dir, upTo: first.Size}}, Previous: oldS})
	if h == nil || err == nil {
		t.Fatalf("handover with the witness unreachable: %+v, %v", h, err)
	}
	if _, err := tr.verifyWith(oldV, newV); err == nil || !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("verify while the witness lags: %v", err) // expected: the witness stays behind
	}

	edited := junkLine(t, h.Note, oldS)
	tr.replaceNote(h.Size, edited)

	// The operator's next seal, with the new key alone, and the witness reachable again.
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	cp, sealErr := Seal(ctx, tr.db, newS, tr.opts)
	latest, _ := dir.Latest(ctx)
	copyOfH, _ := readCopy(ctx, dir, h.Size)
	_, verr := tr.verifyWith(oldV, newV)
	t.Logf("verify now: %v", verr)
	if string(copyOfH) == string(edited) {
		t.Fatalf("the honest seal (new key alone) published the edited handover, whose old-key signature does not verify, to the witness "+
			"(seal: %+v, %v; witness latest is tree size %d); the honest handover is gone from every copy:\n%s",
			cp != nil, sealErr, sizeOf(latest), copyOfH)
	}
	if !errors.Is(sealErr, ErrBadCheckpoint) {
		t.Fatalf("seal on top of the edited handover: %v, want ErrBadCheckpoint", sealErr)
	}
	if !errors.Is(verr, ErrBadCheckpoint) || !strings.Contains(verr.Error(), fmt.Sprintf("tree size %d in the database: ", h.Size)) {
		t.Fatalf("verify: %v, want the edited handover (tree size %d) reported as a bad checkpoint", verr, h.Size)
	}
	// Given the new key alone, verify cannot check the first checkpoints; Seal, given it alone, checked the old
	// key's signature with the public key the handover line names.
	if !strings.Contains(sealErr.Error(), "do not both verify") {
		t.Fatalf("seal: %v, want the handover's old-key signature reported as not verifying", sealErr)
	}
}

func readCopy(ctx context.Context, d Dir, size uint64) ([]byte, error) {
	all, err := d.All(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.Size == size {
			return c.Note, nil
		}
	}
	return nil, nil
}

func sizeOf(signed []byte) uint64 {
	c, err := unverified(signed)
	if err != nil {
		return 0
	}
	return c.Size
}

// TestSealRefusesForeignSignatureLine (low): the same lagging witness; a superuser appends a signature line of
// another name (here a junk "cosignature" of witness.example/w1, no private key needed) to the latest checkpoint's
// note. Seal used to check only the lines of the trail's name and publish the note, forged cosignature and all, to
// the witness, and verify passed. A signature line Seal cannot check with the keys it knows, of any name, is now a
// bad checkpoint to Seal (which publishes nothing) and to Verify.
func TestSealRefusesForeignSignatureLine(t *testing.T) {
	ctx := context.Background()
	tr := newTrail(t)
	dir := tr.opts.Witnesses[0].(Dir)
	tr.insert(2, 1)
	first := tr.seal()
	tr.insert(2, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	cp, err := Seal(ctx, tr.db, tr.s, Options{Witnesses: []Witness{lagging{Dir: dir, upTo: first.Size}}})
	if cp == nil || err == nil {
		t.Fatalf("seal with the witness unreachable: %+v, %v", cp, err)
	}
	junk := "— witness.example/w1 " + base64.StdEncoding.EncodeToString(append([]byte{1, 2, 3, 4}, make([]byte, 64)...)) + "\n"
	edited := append(append([]byte{}, cp.Note...), junk...)
	tr.replaceNote(cp.Size, edited)
	tr.insert(1, 1)
	pgtest.WaitFinal(t, tr.db, tr.maxXID())
	_, sealErr := Seal(ctx, tr.db, tr.s, tr.opts)
	copyOfCP, _ := readCopy(ctx, dir, cp.Size)
	_, verr := tr.verify()
	if string(copyOfCP) == string(edited) {
		t.Fatalf("seal (%v) published a note with a signature line it did not write or verify to the witness; verify: %v\n%s", sealErr, verr, copyOfCP)
	}
	if !errors.Is(sealErr, ErrBadCheckpoint) || !strings.Contains(sealErr.Error(), "witness.example/w1+01020304") {
		t.Fatalf("seal on top of a checkpoint with a foreign signature line: %v, want ErrBadCheckpoint naming the line's key", sealErr)
	}
	// Verify checks the checkpoints' signature lines before it compares the witness: the line is what it reports.
	if !errors.Is(verr, ErrBadCheckpoint) || !strings.Contains(verr.Error(), "witness.example/w1+01020304") {
		t.Fatalf("verify: %v, want a bad checkpoint naming the foreign line's key", verr)
	}
}
