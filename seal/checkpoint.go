package seal

import (
	"fmt"
	"strings"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a signed checkpoint: a C2SP tlog-checkpoint (origin, tree size, root hash) whose extension lines
// say which rows it covers, signed as a note by the seal key. The origin is the key's name.
//
//	<origin>
//	<tree size>
//	<root hash, base64>
//	watermark <previous watermark> <watermark>
//	leaves <previous size> <first transaction_id>:<first id> <last transaction_id>:<last id>
//	handover <public key handing over> <next key's public key>   (each name+hash+base64)
//
// Leaves [previous size, tree size) are the rows with previous watermark <= transaction_id < watermark, in
// (transaction_id, id) order, from First to Last. The handover line is only on the checkpoint of a key handover
// (see rotate.go): it names both keys, the one handing the trail over and the one it is handed over to, so that
// the signature of the key handing over covers the choice of the next key, both keys sign it, and both
// signatures are checked with the public keys the signed text gives.
type Checkpoint struct {
	log.Checkpoint
	PrevSize                 uint64
	PrevWatermark, Watermark uint64
	First, Last              Key
	// From and Next are the public keys (verifier keys, name+hash+base64) the checkpoint hands the trail over
	// from and to; "" but on a handover.
	From, Next string
	// Note is the signed note, as stored.
	Note []byte
}

func (c *Checkpoint) text() []byte {
	t := fmt.Appendf(c.Marshal(), "watermark %d %d\nleaves %d %d:%d %d:%d\n",
		c.PrevWatermark, c.Watermark, c.PrevSize, c.First.XID, c.First.ID, c.Last.XID, c.Last.ID)
	if c.Next != "" {
		t = fmt.Appendf(t, "handover %s %s\n", c.From, c.Next)
	}
	return t
}

// sign sets c.Origin to the first signer's name and c.Note to the note signed by all of them. Signed by several
// keys, it is a handover from the second to the first, which its text names (c.From, c.Next): both must know
// their public keys (NewSigner).
func (c *Checkpoint) sign(signers ...note.Signer) error {
	c.Origin = signers[0].Name()
	c.From, c.Next = "", ""
	if len(signers) > 1 {
		next, err := publicKey(signers[0])
		if err != nil {
			return err
		}
		from, err := publicKey(signers[1])
		if err != nil {
			return err
		}
		c.From, c.Next = from.public, next.public
	}
	n, err := note.Sign(&note.Note{Text: string(c.text())}, signers...)
	if err != nil {
		return fmt.Errorf("seal: signing the checkpoint: %w", err)
	}
	c.Note = n
	return nil
}

// OpenCheckpoint verifies a signed checkpoint with v and parses it; its errors match ErrBadCheckpoint.
func OpenCheckpoint(signed []byte, v note.Verifier) (*Checkpoint, error) {
	lc, ext, n, err := log.ParseCheckpoint(signed, v.Name(), v)
	if err != nil {
		// Signed, but by other keys only: most likely the verifier was given the wrong public key, so name both.
		// (Signed by this key yet not verified is a bad signature.)
		if others, _, serr := signers(signed, v); serr == nil && len(others) > 0 {
			return nil, badCheckpoint("signed by %s, not by the key given (%s)", strings.Join(others, ", "), keyID(v.Name(), v.KeyHash()))
		}
		return nil, badCheckpoint("%v", err)
	}
	c := &Checkpoint{Checkpoint: *lc, Note: signed}
	_, err = fmt.Sscanf(string(ext), "watermark %d %d\nleaves %d %d:%d %d:%d\n",
		&c.PrevWatermark, &c.Watermark, &c.PrevSize, &c.First.XID, &c.First.ID, &c.Last.XID, &c.Last.ID)
	// A third extension line, if any, is a handover's: the public keys of the key handing over and of the next
	// key, two keys of the checkpoint's origin.
	lines := strings.SplitAfter(string(ext), "\n")
	if err == nil && len(lines) == 4 && lines[3] == "" {
		keys, ok := strings.CutPrefix(strings.TrimSuffix(lines[2], "\n"), "handover ")
		from, next, _ := strings.Cut(keys, " ")
		fv, ferr := note.NewVerifier(from)
		nv, nerr := note.NewVerifier(next)
		if !ok || ferr != nil || nerr != nil || fv.Name() != c.Origin || nv.Name() != c.Origin || vid(fv) == vid(nv) {
			return nil, badCheckpoint("tree size %d: malformed handover line: not the public keys of two keys named %s", lc.Size, c.Origin)
		}
		c.From, c.Next = from, next
	}
	// Signed text that is not exactly what sign writes is not a checkpoint of ours, however well signed.
	if err != nil || string(c.text()) != n.Text || len(c.Hash) != 32 || c.PrevSize >= c.Size || c.PrevWatermark >= c.Watermark {
		return nil, badCheckpoint("tree size %d: malformed checkpoint text", lc.Size)
	}
	return c, nil
}

// handoverKeys are the keys a handover checkpoint hands the trail over from and to (nil, nil if c hands nothing
// over); OpenCheckpoint checked that they parse.
func (c *Checkpoint) handoverKeys() (from, next note.Verifier) {
	if c.Next == "" {
		return nil, nil
	}
	from, ferr := note.NewVerifier(c.From)
	next, nerr := note.NewVerifier(c.Next)
	if ferr != nil || nerr != nil {
		return nil, nil
	}
	return from, next
}
