package seal

import (
	"crypto/rand"

	"golang.org/x/mod/sumdb/note"
)

// KeyPair is an Ed25519 key pair for signing checkpoints, in the signed-note encoding.
type KeyPair struct {
	Private, Public string // note's encodings; keep Private out of the database
	Signer          note.Signer
	Verifier        note.Verifier
}

// NewKey generates a key pair named name, which is also the origin line of the checkpoints it signs.
func NewKey(name string) (*KeyPair, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, err
	}
	return KeyFrom(skey, vkey)
}

// KeyFrom is the key pair of a private and a public key in the signed-note encoding.
func KeyFrom(private, public string) (*KeyPair, error) {
	k := &KeyPair{Private: private, Public: public}
	var err error
	if k.Signer, err = note.NewSigner(private); err != nil {
		return nil, err
	}
	if k.Verifier, err = note.NewVerifier(public); err != nil {
		return nil, err
	}
	return k, nil
}
