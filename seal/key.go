package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// KeyPair is an Ed25519 key pair for signing checkpoints, in the signed-note encoding.
type KeyPair struct {
	Private, Public string // note's encodings; keep Private out of the database
	// Signer knows its public key (see NewSigner): Seal takes it.
	Signer   note.Signer
	Verifier note.Verifier
}

// NewKey generates a key pair named name, which is also the origin line of the checkpoints it signs.
func NewKey(name string) (*KeyPair, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, err
	}
	return KeyFrom(skey, vkey)
}

// KeyFrom is the key pair of a private and a public key in the signed-note encoding; the public key must be the
// private key's.
func KeyFrom(private, public string) (*KeyPair, error) {
	k := &KeyPair{Private: private, Public: public}
	s, err := NewSigner(private)
	if err != nil {
		return nil, err
	}
	if k.Verifier, err = note.NewVerifier(public); err != nil {
		return nil, err
	}
	if s.(*signer).public != public {
		return nil, fmt.Errorf("seal: the public key %s is not the private key's (%s)", vid(k.Verifier), s.(*signer).public)
	}
	k.Signer = s
	return k, nil
}

// NewSigner reads a private key in the signed-note encoding (what keygen writes to NAME.key) as Seal needs it: a
// note.Signer that also knows its public key, derived from the private one. Seal checks the latest checkpoint's
// signatures with it before it signs on top of it or publishes it, and names the new key's public key in the text
// of a handover checkpoint.
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	// PRIVATE+KEY+name+hash+base64(algorithm byte, Ed25519 seed): note.NewSigner checked it, and that the hash is
	// the public key's.
	parts := strings.SplitN(skey, "+", 5) // base64 has '+' too
	key, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return nil, errors.New("seal: not an Ed25519 private key")
	}
	public, err := note.NewEd25519VerifierKey(s.Name(), ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(public)
	if err != nil {
		return nil, err
	}
	if v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		return nil, errors.New("seal: the private key's hash is not its public key's")
	}
	return &signer{Signer: s, public: public, verifier: v}, nil
}

// signer is a note.Signer that knows its public key.
type signer struct {
	note.Signer
	public   string // the verifier key, name+hash+base64
	verifier note.Verifier
}

// publicKey is the public key of a signer NewSigner, NewKey or KeyFrom made. Seal needs it; a note.Signer made
// otherwise is refused.
func publicKey(s note.Signer) (*signer, error) {
	if k, ok := s.(*signer); ok {
		return k, nil
	}
	return nil, fmt.Errorf("seal: the key %s has no public key: make it with seal.NewSigner (or seal.KeyFrom, seal.NewKey), which derives it from the private key; Seal checks the latest checkpoint's signatures with it, and names it in a handover",
		keyID(s.Name(), s.KeyHash()))
}
