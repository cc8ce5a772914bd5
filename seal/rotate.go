package seal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/auditrepo/auditrepo/auditschema"
)

// Rotating the seal key. A trail's checkpoints are all signed by keys of one name (their origin). The key that
// seals changes only by a handover: one checkpoint signed by both the current key and the next one (Seal with
// Options.Previous). From the checkpoint after it on, only the next key's signature counts: a checkpoint signed
// by the old key alone after its handover is forged (the old key may have been retired because it leaked), and
// one signed by a key that no handover brought in is another key's. A lost private key cannot hand over, so a
// trail cannot continue past it: the trail up to its last checkpoint still verifies with its public key.

// ErrPreviousKey is matched by a *PreviousKeyError: Seal was given a previous key (Options.Previous) it cannot
// hand the trail over from.
var ErrPreviousKey = errors.New("seal: cannot hand over from the previous key")

// PreviousKeyError says why Seal refused to hand the trail over from Options.Previous to the key it was given.
// Nothing was written.
type PreviousKeyError struct {
	Previous, Given string // the previous and the new key (name+hash)
	// SealedWith are the keys that signed the latest checkpoint (empty if there is none), Size its tree size.
	SealedWith []string
	Size       uint64
	Reason     string
}

func (e *PreviousKeyError) Error() string {
	return fmt.Sprintf("seal: cannot hand the trail over from %s to %s: %s", e.Previous, e.Given, e.Reason)
}

func (e *PreviousKeyError) Is(target error) bool { return target == ErrPreviousKey }

// Handover is a checkpoint signed by two keys of the trail: the key that sealed until then (From) and the one
// that seals from the next checkpoint on (To), as name+hash.
type Handover struct {
	Size     uint64
	From, To string
}

func (h Handover) String() string {
	return fmt.Sprintf("tree size %d: the seal key was handed over from %s to %s", h.Size, h.From, h.To)
}

// sealKeys decides which keys sign the checkpoint Seal appends after prev (nil if there is none): s alone, or s
// and opts.Previous for a handover. It refuses (ErrOtherKey) a key that did not sign prev or that handed the trail
// over in it, and (ErrPreviousKey) a previous key it cannot hand over from. It reads the note signature lines by
// key name and hash (Seal holds private keys only, and cannot check signatures).
func sealKeys(ctx context.Context, tx pgx.Tx, c auditschema.Config, prev *Checkpoint, s, previous note.Signer) ([]note.Signer, error) {
	given := keyID(s.Name(), s.KeyHash())
	var refuse func(reason string, args ...any) error
	if previous != nil {
		refuse = func(reason string, args ...any) error {
			e := &PreviousKeyError{Previous: keyID(previous.Name(), previous.KeyHash()), Given: given, Reason: fmt.Sprintf(reason, args...)}
			if prev != nil {
				e.Size = prev.Size
				e.SealedWith, _ = noteKeys(prev.Note)
			}
			return e
		}
		// A checkpoint's origin is its keys' name, and the verifier checks it against every key's: the name stays.
		switch {
		case previous.Name() != s.Name():
			return nil, refuse("their names differ: a trail's keys share its name, the checkpoints' origin (make the new key with keygen --name and the name of the key the trail is sealed with)")
		case previous.KeyHash() == s.KeyHash():
			return nil, refuse("they are the same key")
		case prev == nil:
			return nil, refuse("the trail has no checkpoint yet: seal with the new key alone")
		}
	}
	if prev == nil {
		return []note.Signer{s}, nil
	}
	keys, err := noteKeys(prev.Note)
	if err != nil {
		return nil, badCheckpoint("tree size %d in the database: its note: %v", prev.Size, err)
	}
	if slices.Contains(keys, given) {
		// s signed the latest checkpoint: it seals, unless that checkpoint handed the trail over from it. The
		// previous key is not needed (the handover is done, or was never needed) and is ignored.
		to, err := handedOverFrom(ctx, tx, c, prev, keys, given)
		if err != nil {
			return nil, err
		}
		if to != "" {
			return nil, &KeyError{Given: given, Size: prev.Size, SealedWith: keys, HandedOverTo: to}
		}
		return []note.Signer{s}, nil
	}
	if previous == nil {
		return nil, &KeyError{Given: given, Size: prev.Size, SealedWith: keys}
	}
	pid := keyID(previous.Name(), previous.KeyHash())
	if !slices.Contains(keys, pid) {
		return nil, refuse("the latest checkpoint (tree size %d) is signed by %s, not by the previous key: give the key that signed it as the previous key",
			prev.Size, strings.Join(keys, ", "))
	}
	to, err := handedOverFrom(ctx, tx, c, prev, keys, pid)
	if err != nil {
		return nil, err
	}
	if to != "" {
		return nil, refuse("the previous key already handed the trail over to %s in the latest checkpoint (tree size %d): seal with that key", to, prev.Size)
	}
	// s first: the checkpoint's origin is its first signer's name (the same as previous's).
	return []note.Signer{s, previous}, nil
}

// handedOverFrom says, for a key k (name+hash) that signed the latest checkpoint prev with others (keys), whether
// prev handed the trail over from k: then k signed the checkpoint before prev as well, and it returns the key
// handed over to. A checkpoint signed by one key hands nothing over.
func handedOverFrom(ctx context.Context, tx pgx.Tx, c auditschema.Config, prev *Checkpoint, keys []string, k string) (string, error) {
	name, _, _ := strings.Cut(k, "+") // a key name has no '+'
	var others []string
	for _, id := range keys {
		if id != k && strings.HasPrefix(id, name+"+") {
			others = append(others, id)
		}
	}
	if len(others) == 0 || prev.PrevSize == 0 {
		return "", nil
	}
	var signed string
	err := tx.QueryRow(ctx, `SELECT note FROM `+pgx.Identifier{c.Schema, "seal_checkpoint"}.Sanitize()+` WHERE tree_size = $1`,
		int64(prev.PrevSize)).Scan(&signed)
	if err != nil {
		return "", fmt.Errorf("seal: reading the checkpoint of tree size %d: %w", prev.PrevSize, err)
	}
	before, err := noteKeys([]byte(signed))
	if err != nil {
		return "", badCheckpoint("tree size %d in the database: its note: %v", prev.PrevSize, err)
	}
	if slices.Contains(before, k) {
		return strings.Join(others, ", "), nil
	}
	return "", nil
}

// noteKeys are the keys (name+hash) of a signed note's signature lines, unverified.
func noteKeys(signed []byte) ([]string, error) {
	_, err := note.Open(signed, note.VerifierList())
	var un *note.UnverifiedNoteError
	if !errors.As(err, &un) {
		return nil, err
	}
	var ids []string
	for _, sig := range un.Note.UnverifiedSigs {
		ids = append(ids, keyID(sig.Name, sig.Hash))
	}
	return ids, nil
}

// SignedWith are the keys (name+hash) of the checkpoint note's signature lines, as stated, not verified: two for
// the checkpoint of a handover.
func (c *Checkpoint) SignedWith() []string {
	ids, _ := noteKeys(c.Note)
	return ids
}

// keyring is the public keys a trail is verified with, each once, all of one name (the checkpoints' origin).
type keyring []note.Verifier

func newKeyring(keys []note.Verifier) (keyring, error) {
	if len(keys) == 0 || slices.Contains(keys, nil) {
		return nil, errors.New("seal: no public key to verify with")
	}
	var kr keyring
	for _, k := range keys {
		if k.Name() != keys[0].Name() {
			return nil, fmt.Errorf("seal: the public keys %s and %s have different names: a trail's keys share its name, the checkpoints' origin",
				vid(keys[0]), vid(k))
		}
		if !slices.ContainsFunc(kr, func(o note.Verifier) bool { return o.KeyHash() == k.KeyHash() }) {
			kr = append(kr, k)
		}
	}
	return kr, nil
}

func vid(v note.Verifier) string { return keyID(v.Name(), v.KeyHash()) }

func (kr keyring) String() string {
	ids := make([]string, len(kr))
	for i, k := range kr {
		ids[i] = vid(k)
	}
	return strings.Join(ids, ", ")
}

// open checks a signed checkpoint's signatures by the keys of kr and parses it. by are the keys of kr that signed
// it, in kr's order (at least one); unknown are the other keys of the trail's name whose signature lines it bears
// (a handover to a key kr lacks). A signature by a key of kr that does not verify is a bad checkpoint.
func (kr keyring) open(signed []byte) (cp *Checkpoint, by []note.Verifier, unknown []string, err error) {
	n, err := note.Open(signed, note.VerifierList(kr...))
	var un *note.UnverifiedNoteError
	switch {
	case errors.As(err, &un):
		ids := make([]string, 0, len(un.Note.UnverifiedSigs))
		for _, sig := range un.Note.UnverifiedSigs {
			ids = append(ids, keyID(sig.Name, sig.Hash))
		}
		// Most likely the verifier was given the wrong public key, so name both.
		given := "the key given"
		if len(kr) > 1 {
			given = "any of the keys given"
		}
		return nil, nil, nil, badCheckpoint("signed by %s, not by %s (%s)", strings.Join(ids, ", "), given, kr)
	case err != nil:
		return nil, nil, nil, badCheckpoint("%v", err)
	}
	for _, k := range kr {
		if slices.ContainsFunc(n.Sigs, func(s note.Signature) bool { return s.Name == k.Name() && s.Hash == k.KeyHash() }) {
			by = append(by, k)
		}
	}
	for _, sig := range n.UnverifiedSigs {
		if sig.Name == kr[0].Name() {
			unknown = append(unknown, keyID(sig.Name, sig.Hash))
		}
	}
	if cp, err = OpenCheckpoint(signed, by[0]); err != nil {
		return nil, nil, nil, err
	}
	return cp, by, unknown, nil
}

// keyChain walks a trail's checkpoints in order, knowing which key must sign the next one: the first checkpoint's
// key, then, after each handover (a checkpoint signed by the current key and another of the trail's), the other.
type keyChain struct {
	keys      keyring
	current   note.Verifier
	handovers []Handover
	// lost is the key the latest checkpoint handed over to when kr lacks it: no later checkpoint can be checked.
	lost string
	size uint64 // the latest checkpoint's tree size
}

// next checks the signatures of the checkpoint that follows those next was given so far, and parses it. Its
// errors are *CheckpointError.
func (ch *keyChain) next(signed []byte) (*Checkpoint, error) {
	if ch.lost != "" {
		return nil, badCheckpoint("the checkpoint before it (tree size %d) handed the trail over from %s to %s, a key not given: verify with its public key too",
			ch.size, vid(ch.current), ch.lost)
	}
	cp, by, unknown, err := ch.keys.open(signed)
	if err != nil {
		return nil, err
	}
	ch.size = cp.Size
	if ch.current == nil {
		// A handover is a checkpoint after the one its old key sealed: a first checkpoint has one key.
		if len(by)+len(unknown) > 1 {
			return nil, badCheckpoint("the first checkpoint is signed by several keys of the trail (%s): which one it began with is unknown",
				strings.Join(append([]string{keyring(by).String()}, unknown...), ", "))
		}
		ch.current = by[0]
		return cp, nil
	}
	if !slices.Contains(by, ch.current) {
		k := by[0]
		msg := fmt.Sprintf("signed by %s, not by %s, the key that signed the checkpoint before it: no checkpoint signed by both hands the trail over to %[1]s",
			vid(k), vid(ch.current))
		for _, h := range ch.handovers {
			if h.From == vid(k) {
				msg = fmt.Sprintf("signed by %s, not by %s: %s handed the trail over to %s at tree size %d, so a checkpoint signed by it alone after that is forged",
					vid(k), vid(ch.current), vid(k), h.To, h.Size)
			}
		}
		return nil, badCheckpoint("%s", msg)
	}
	var others []string
	var to note.Verifier
	for _, k := range by {
		if k != ch.current {
			others, to = append(others, vid(k)), k
		}
	}
	if others = append(others, unknown...); len(others) > 1 {
		return nil, badCheckpoint("signed by %s and by %s: a handover is to one key", vid(ch.current), strings.Join(others, ", "))
	}
	if len(others) == 1 {
		ch.handovers = append(ch.handovers, Handover{Size: cp.Size, From: vid(ch.current), To: others[0]})
		if to != nil {
			ch.current = to
		} else {
			ch.lost = others[0]
		}
	}
	return cp, nil
}
