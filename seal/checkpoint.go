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
//	handover <next key's public key, name+hash+base64>
//
// Leaves [previous size, tree size) are the rows with previous watermark <= transaction_id < watermark, in
// (transaction_id, id) order, from First to Last. The handover line is only on the checkpoint of a key handover
// (see rotate.go): it names the key the trail is handed over to, so that the signature of the key handing over
// covers the choice of the next key, and both keys sign it.
type Checkpoint struct {
	log.Checkpoint
	PrevSize                 uint64
	PrevWatermark, Watermark uint64
	First, Last              Key
	// Next is the public key (verifier key, name+hash+base64) the checkpoint hands the trail over to; "" but on
	// a handover.
	Next string
	// Note is the signed note, as stored.
	Note []byte
}

func (c *Checkpoint) text() []byte {
	t := fmt.Appendf(c.Marshal(), "watermark %d %d\nleaves %d %d:%d %d:%d\n",
		c.PrevWatermark, c.Watermark, c.PrevSize, c.First.XID, c.First.ID, c.Last.XID, c.Last.ID)
	if c.Next != "" {
		t = fmt.Appendf(t, "handover %s\n", c.Next)
	}
	return t
}

// sign sets c.Origin to the first signer's name and c.Note to the note signed by all of them. Signed by several
// keys, it is a handover to the first, which its text names (c.Next): that key must know its public key (NewSigner).
func (c *Checkpoint) sign(signers ...note.Signer) error {
	c.Origin = signers[0].Name()
	c.Next = ""
	if len(signers) > 1 {
		k, err := publicKey(signers[0])
		if err != nil {
			return err
		}
		c.Next = k.public
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
	// A third extension line, if any, is a handover's: the next key's public key, of the checkpoint's origin.
	lines := strings.SplitAfter(string(ext), "\n")
	if err == nil && len(lines) == 4 && lines[3] == "" {
		next, ok := strings.CutPrefix(strings.TrimSuffix(lines[2], "\n"), "handover ")
		nv, verr := note.NewVerifier(next)
		if !ok || verr != nil || nv.Name() != c.Origin {
			return nil, badCheckpoint("tree size %d: malformed handover line: not the public key of a key named %s", lc.Size, c.Origin)
		}
		c.Next = next
	}
	// Signed text that is not exactly what sign writes is not a checkpoint of ours, however well signed.
	if err != nil || string(c.text()) != n.Text || len(c.Hash) != 32 || c.PrevSize >= c.Size || c.PrevWatermark >= c.Watermark {
		return nil, badCheckpoint("tree size %d: malformed checkpoint text", lc.Size)
	}
	return c, nil
}

// nextKey is the key a handover checkpoint names (nil if c hands nothing over); OpenCheckpoint checked it parses.
func (c *Checkpoint) nextKey() note.Verifier {
	if c.Next == "" {
		return nil
	}
	v, err := note.NewVerifier(c.Next)
	if err != nil {
		return nil
	}
	return v
}
