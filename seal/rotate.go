package seal

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Rotating the seal key. A trail's checkpoints are all signed by keys of one name (their origin). The key that
// seals changes only by a handover: one checkpoint whose signed text names the next key (its handover line, with
// the next key's public key) and that is signed by both the current key and the next one (Seal with
// Options.Previous). From the checkpoint after it on, only the next key's signature counts: a checkpoint signed
// by the old key alone after its handover is forged (the old key may have been retired because it leaked), and
// one signed by a key that no handover brought in is another key's. The handover line names both keys' public
// keys, so both signatures on it are checked with the keys it names, whichever keys the checker holds. Because
// the current key's signature covers the name of the next key, nobody else can turn a checkpoint into a handover
// by adding a signature line to it: a checkpoint whose signature lines, of any name, are not exactly its signer's
// (and, on a handover, exactly the two keys its text names, both verified) is a bad checkpoint, whoever signed
// the extra lines. A lost private key cannot hand over, so a
// trail cannot continue past it: the trail up to its last checkpoint still verifies with its public key.

// ErrPreviousKey is matched by a *PreviousKeyError: Seal was given a previous key (Options.Previous) it cannot
// hand the trail over from.
var ErrPreviousKey = errors.New("seal: cannot hand over from the previous key")

// PreviousKeyError says why Seal refused to hand the trail over from Options.Previous to the key it was given.
// Nothing was written.
type PreviousKeyError struct {
	Previous, Given string // the previous and the new key (name+hash)
	Reason          string
}

func (e *PreviousKeyError) Error() string {
	return fmt.Sprintf("seal: cannot hand the trail over from %s to %s: %s", e.Previous, e.Given, e.Reason)
}

func (e *PreviousKeyError) Is(target error) bool { return target == ErrPreviousKey }

// Handover is a checkpoint whose text names the key that seals from the next checkpoint on (To), signed by it
// and by the key that sealed until then (From), as name+hash.
type Handover struct {
	Size     uint64
	From, To string
}

func (h Handover) String() string {
	return fmt.Sprintf("tree size %d: the seal key was handed over from %s to %s", h.Size, h.From, h.To)
}

// sealKeys decides which keys sign the checkpoint Seal appends after prev (nil if there is none): s alone, or s
// and opts.Previous for a handover (to s, which its text names). It refuses (ErrOtherKey) a key that did not sign
// prev or that handed the trail over in it, and (ErrPreviousKey) a previous key it cannot hand over from. Before
// it signs on top of prev, or Seal publishes prev to a witness that lacks it, it checks prev's signature by the
// key of its own that signed it (a bad one is ErrBadCheckpoint: the note was edited) and prev's signature lines
// (signedAs): exactly that key's, or on a handover exactly the two keys its signed text names, both checked with
// those public keys; any line it cannot check, of any name, is ErrBadCheckpoint. Seal vouches for what it
// publishes.
func sealKeys(prev *Checkpoint, s, previous note.Signer) ([]note.Signer, error) {
	given := keyID(s.Name(), s.KeyHash())
	sk, err := publicKey(s)
	if err != nil {
		return nil, err
	}
	var refuse func(reason string, args ...any) error
	var pk *signer
	if previous != nil {
		refuse = func(reason string, args ...any) error {
			return &PreviousKeyError{Previous: keyID(previous.Name(), previous.KeyHash()), Given: given, Reason: fmt.Sprintf(reason, args...)}
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
		if pk, err = publicKey(previous); err != nil {
			return nil, err
		}
	}
	if prev == nil {
		return []note.Signer{s}, nil
	}
	keys, err := noteKeys(prev.Note)
	if err != nil {
		return nil, badCheckpoint("tree size %d in the database: its note: %v", prev.Size, err)
	}
	// The key of Seal's that signed prev: s, or the previous key, whose turn it is to hand over.
	var by *signer
	switch {
	case slices.Contains(keys, given):
		by = sk
	case previous == nil:
		return nil, &KeyError{Given: given, Size: prev.Size, SealedWith: keys}
	case !slices.Contains(keys, vid(pk.verifier)):
		return nil, refuse("the latest checkpoint (tree size %d) is signed by %s, not by the previous key: give the key that signed it as the previous key",
			prev.Size, strings.Join(keys, ", "))
	default:
		by = pk
	}
	cp, err := OpenCheckpoint(prev.Note, by.verifier)
	if err != nil {
		return nil, badCheckpoint("tree size %d in the database: %v", prev.Size, err.(*CheckpointError).Msg)
	}
	if cp.Size != prev.Size || cp.PrevSize != prev.PrevSize || cp.PrevWatermark != prev.PrevWatermark || cp.Watermark != prev.Watermark {
		return nil, badCheckpoint("tree size %d in the database: its columns differ from its note's", prev.Size)
	}
	from, next, err := signedAs(cp, keys)
	if err != nil {
		return nil, badCheckpoint("tree size %d in the database: %v", prev.Size, err.(*CheckpointError).Msg)
	}
	id := vid(by.verifier)
	switch {
	case next != nil && cp.Next == by.public:
		// prev handed the trail over to this key: it seals (s), or hands over in turn (the previous key).
	case next != nil && vid(next) == id:
		return nil, badCheckpoint("tree size %d in the database: its text hands the trail over to a public key of %s's name and hash that is not its own", prev.Size, id)
	case next != nil && cp.From != by.public:
		return nil, badCheckpoint("tree size %d in the database: its text hands the trail over from %s, but the key of seal's that signed it is %s", prev.Size, from, id)
	case from != id:
		return nil, badCheckpoint("tree size %d in the database: signed by %s, but the key that signs it is %s", prev.Size, strings.Join(keys, ", "), from)
	case next != nil && by == sk:
		return nil, &KeyError{Given: given, Size: prev.Size, SealedWith: keys, HandedOverTo: vid(next)}
	case next != nil:
		return nil, refuse("the previous key already handed the trail over to %s in the latest checkpoint (tree size %d): seal with that key", vid(next), prev.Size)
	}
	if by == sk {
		// s signed the latest checkpoint: it seals. The previous key is not needed (the handover is done, or
		// was never needed) and is ignored.
		return []note.Signer{s}, nil
	}
	// s first: the checkpoint's origin is its first signer's name (the same as previous's), and a checkpoint
	// signed by several keys hands over to the first, which its text names.
	return []note.Signer{s, previous}, nil
}

// signedAs checks the signature lines on cp (keys, all of the note's signature lines, as noteKeys reads them,
// whatever their names) against its text: a checkpoint that hands nothing over has one signature line, from, its
// signer's (the caller checks it); a handover has two, the key handing over, from, and the key its text names,
// next, and signedAs checks both signatures with the public keys the text gives. Any other line, of the trail's
// name or another (a "cosignature" nobody can check), makes it a bad checkpoint: what Seal publishes and Verify
// passes is only what its keys signed, every line checked. Its errors are *CheckpointError.
func signedAs(cp *Checkpoint, keys []string) (from string, next note.Verifier, err error) {
	fv, next := cp.handoverKeys()
	if next == nil {
		if len(keys) != 1 {
			return "", nil, badCheckpoint("signed by %s, but its text hands the trail over to no key: a checkpoint that is no handover has one signature line, its key's (a handover names both keys in the signed text; a line of another name cannot be checked)",
				strings.Join(keys, " and "))
		}
		return keys[0], nil, nil
	}
	from, nid := vid(fv), vid(next)
	if len(keys) != 2 || !slices.Contains(keys, from) || !slices.Contains(keys, nid) {
		return "", nil, badCheckpoint("its text hands the trail over from %s to %s, but it is signed by %s: a handover is signed by exactly the two keys its text names",
			from, nid, strings.Join(keys, " and "))
	}
	n, err := note.Open(cp.Note, note.VerifierList(fv, next))
	if err == nil && len(n.Sigs) != 2 {
		err = errors.New("not both signatures verify")
	}
	if err != nil {
		return "", nil, badCheckpoint("the signatures of %s and %s, the keys its text hands the trail over from and to, do not both verify with the public keys the text gives: %v", from, nid, err)
	}
	return from, next, nil
}

// noteKeys are the keys (name+hash) of a signed note's signature lines, unverified, in order. A key that signs
// twice is an error.
func noteKeys(signed []byte) ([]string, error) {
	_, err := note.Open(signed, note.VerifierList())
	var un *note.UnverifiedNoteError
	if !errors.As(err, &un) {
		return nil, err
	}
	var ids []string
	for _, sig := range un.Note.UnverifiedSigs {
		id := keyID(sig.Name, sig.Hash)
		if slices.Contains(ids, id) {
			return nil, fmt.Errorf("two signature lines of key %s", id)
		}
		ids = append(ids, id)
	}
	// note.Open drops a signature line that repeats another: the note is not as signed.
	if sigs := signed[bytes.LastIndex(signed, []byte("\n\n"))+2:]; bytes.Count(sigs, []byte("\n")) != len(ids) {
		return nil, errors.New("a signature line given twice")
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
// it, in kr's order (at least one); keys are all its signature lines' (noteKeys). A signature by a key of kr that
// does not verify is a bad checkpoint.
func (kr keyring) open(signed []byte) (cp *Checkpoint, by []note.Verifier, keys []string, err error) {
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
	if keys, err = noteKeys(signed); err != nil {
		return nil, nil, nil, badCheckpoint("%v", err)
	}
	for _, k := range kr {
		if slices.ContainsFunc(n.Sigs, func(s note.Signature) bool { return s.Name == k.Name() && s.Hash == k.KeyHash() }) {
			by = append(by, k)
		}
	}
	if cp, err = OpenCheckpoint(signed, by[0]); err != nil {
		return nil, nil, nil, err
	}
	return cp, by, keys, nil
}

// keyChain walks a trail's checkpoints in order, knowing which key must sign the next one: the first checkpoint's
// key, then, after each handover (a checkpoint whose text names the next key, signed by the current key and that
// one), the next key.
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
	cp, by, keys, err := ch.keys.open(signed)
	if err != nil {
		return nil, err
	}
	ch.size = cp.Size
	// The signature lines, of any name, are exactly the checkpoint's signer's, or, on a handover, the two keys
	// its text names (whose signatures signedAs checks with the public keys the text gives); the key handing
	// over must be the current one (below).
	from, next, err := signedAs(cp, keys)
	if err != nil {
		return nil, err
	}
	if ch.current == nil {
		// A handover is a checkpoint after the one its old key sealed: a first checkpoint has one key.
		if next != nil {
			return nil, badCheckpoint("the first checkpoint hands the trail over from %s to %s: which key it began with is unknown", from, vid(next))
		}
		ch.current = by[0]
		return cp, nil
	}
	cur := vid(ch.current)
	switch {
	case from == cur:
	case slices.Contains(by, ch.current):
		return nil, badCheckpoint("it hands the trail over from %s to %s, but the trail was %[2]s's already", from, cur)
	default:
		k := by[0]
		if i := slices.IndexFunc(by, func(k note.Verifier) bool { return vid(k) == from }); i >= 0 {
			k = by[i]
		}
		msg := fmt.Sprintf("signed by %s, not by %s, the key that signed the checkpoint before it: no checkpoint signed by both hands the trail over to %[1]s",
			vid(k), cur)
		for _, h := range ch.handovers {
			if h.From == vid(k) {
				msg = fmt.Sprintf("signed by %s, not by %s: %s handed the trail over to %s at tree size %d, so a checkpoint signed by it alone after that is forged",
					vid(k), cur, vid(k), h.To, h.Size)
			}
		}
		return nil, badCheckpoint("%s", msg)
	}
	if next != nil {
		h := Handover{Size: cp.Size, From: vid(ch.current), To: vid(next)}
		ch.handovers = append(ch.handovers, h)
		i := slices.IndexFunc(ch.keys, func(k note.Verifier) bool { return vid(k) == h.To })
		if i >= 0 {
			ch.current = ch.keys[i]
		} else {
			ch.lost = h.To
		}
	}
	return cp, nil
}
