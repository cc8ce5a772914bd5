package seal

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrTampered is matched (errors.Is) by a *TamperError: the rows do not match what was sealed.
	ErrTampered = errors.New("seal: the audit trail does not match its checkpoints")
	// ErrBadCheckpoint is matched by a *CheckpointError: a checkpoint is missing, badly signed, or disagrees with
	// another copy or with the sealed leaves.
	ErrBadCheckpoint = errors.New("seal: bad checkpoint")
	// ErrOtherKey is matched by a *KeyError: Seal was given a key other than the one the trail is sealed with (or
	// one that handed the trail over to another).
	ErrOtherKey = errors.New("seal: the trail is sealed with another key")
	// ErrWitnessMissing is matched by the error of a witness that is not there at all (a Dir that does not
	// exist), as opposed to one holding no checkpoint: Verify never reads it as an empty copy, and Seal creates
	// it only while the database has no checkpoint.
	ErrWitnessMissing = errors.New("seal: witness missing")
)

// TamperError names the first row, in leaf order, that does not match the sealed tree.
type TamperError struct {
	Row Key
	// Leaf is the row's leaf index, -1 for a row that was never sealed.
	Leaf int64
	// Kind is what differs: "edited" (the row's columns changed), "missing" (a sealed row is gone), "inserted"
	// (a row that was never sealed is in the sealed range), "reordered" (the row moved to another transaction_id),
	// "leaf hashes" (the stored leaf hashes no longer hash to a checkpoint's root).
	Kind   string
	Detail string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("first bad row: %d: %s: %s", e.Row.ID, e.Kind, e.Detail)
}

func (e *TamperError) Is(target error) bool { return target == ErrTampered }

// CheckpointError says what is wrong with a checkpoint.
type CheckpointError struct{ Msg string }

func (e *CheckpointError) Error() string { return "bad checkpoint: " + e.Msg }

func (e *CheckpointError) Is(target error) bool { return target == ErrBadCheckpoint }

func badCheckpoint(format string, args ...any) error {
	return &CheckpointError{Msg: fmt.Sprintf(format, args...)}
}

// KeyError says that the latest checkpoint is not signed by the key Seal was given: a checkpoint it signed would
// not verify with the key the trail is sealed with, nor the earlier ones with its own, so it seals nothing.
type KeyError struct {
	// SealedWith are the keys (name+hash, as a verifier key begins) that signed the latest checkpoint.
	SealedWith []string
	// Given is the key Seal was given (name+hash).
	Given string
	Size  uint64 // the latest checkpoint's tree size
	// HandedOverTo is set when the latest checkpoint handed the trail over from the given key to this one (or
	// these): the given key seals no more.
	HandedOverTo string
}

func (e *KeyError) Error() string {
	if e.HandedOverTo != "" {
		return fmt.Sprintf("seal: the checkpoint of tree size %d handed the trail over from key %s to %s: seal with that key (a checkpoint %[2]s signs now would not verify)",
			e.Size, e.Given, e.HandedOverTo)
	}
	return fmt.Sprintf("seal: the trail is sealed with key %s (checkpoint of tree size %d), not %s: seal with that key, or, to hand the trail over to %[3]s, give that key as the previous key too; if %[3]s is the trail's, its latest checkpoint was replaced: run verify with its public key",
		strings.Join(e.SealedWith, ", "), e.Size, e.Given)
}

func (e *KeyError) Is(target error) bool { return target == ErrOtherKey }

// keyID is a key's name and hash as its verifier key begins: name+hash.
func keyID(name string, hash uint32) string { return fmt.Sprintf("%s+%08x", name, hash) }
