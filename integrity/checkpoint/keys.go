package checkpoint

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// DefaultKeyName is the name of a key made without one: it is also the
// origin line of the checkpoints it signs.
const DefaultKeyName = "ecoregistry"

// Signer signs checkpoints and certificates with an ed25519 key in the
// signed-note format of golang.org/x/mod/sumdb/note.
type Signer struct {
	note.Signer
	// VerifierKey is the public key in note form,
	// "<name>+<hash>+<base64 key>": what a regulator needs to check
	// anything the signer signed.
	VerifierKey string
	// Verifier checks what the signer signed.
	Verifier note.Verifier
}

// GenerateKey makes a new ed25519 key named name and returns its private
// form (keep it secret) and its public verifier form.
func GenerateKey(name string) (privateKey, verifierKey string, err error) {
	privateKey, verifierKey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("checkpoint: generate a key named %q: %w", name, err)
	}
	return privateKey, verifierKey, nil
}

// NewSigner reads a private key in note form,
// "PRIVATE+KEY+<name>+<hash>+<base64 key>".
func NewSigner(privateKey string) (*Signer, error) {
	privateKey = strings.TrimSpace(privateKey)
	s, err := note.NewSigner(privateKey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: not a private signing key (want PRIVATE+KEY+<name>+<hash>+<key>, as ecoctl keys generate writes): %w", err)
	}
	vkey, err := verifierKeyOf(privateKey, s.Name())
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: derive the verifier key: %w", err)
	}
	if v.KeyHash() != s.KeyHash() {
		return nil, errors.New("checkpoint: the private key's hash does not match its public key")
	}
	return &Signer{Signer: s, VerifierKey: vkey, Verifier: v}, nil
}

// verifierKeyOf derives the public verifier key of an ed25519 private key
// in note form; note.NewSigner has checked its form already.
func verifierKeyOf(privateKey, name string) (string, error) {
	parts := strings.SplitN(privateKey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return "", errors.New("checkpoint: the private key is not an ed25519 seed")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(name, pub)
}

// NewVerifier reads a public verifier key in note form.
func NewVerifier(verifierKey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: not a verifier key (want <name>+<hash>+<key>, as ecoctl keys generate writes to NAME.pub): %w", err)
	}
	return v, nil
}

// ReadVerifierKey reads a public verifier key from a file.
func ReadVerifierKey(path string) (string, note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("checkpoint: read the public key: %w", err)
	}
	v, err := NewVerifier(string(b))
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return strings.TrimSpace(string(b)), v, nil
}

// LoadSigner reads a private key file.
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read the signing key: %w", err)
	}
	s, err := NewSigner(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// WriteKeyFiles writes a private key to path (readable by its owner only)
// and its verifier key to path+".pub". It refuses to replace a file.
func WriteKeyFiles(path, privateKey, verifierKey string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for _, f := range []struct {
		path, text string
		mode       fs.FileMode
	}{{path, privateKey, 0o600}, {path + ".pub", verifierKey, 0o644}} {
		file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return fmt.Errorf("checkpoint: write key file: %w", err)
		}
		_, err = file.WriteString(f.text + "\n")
		if err = errors.Join(err, file.Sync(), file.Close()); err != nil {
			return fmt.Errorf("checkpoint: write key file %s: %w", f.path, err)
		}
	}
	return nil
}

// LoadOrCreateSigner reads the private key file at path, or, when there is
// none, makes a key named name and writes it there (and its verifier key
// to path+".pub"). created tells which happened.
func LoadOrCreateSigner(path, name string) (s *Signer, created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		s, err := LoadSigner(path)
		return s, false, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("checkpoint: %w", err)
	}
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		return nil, false, err
	}
	if err := WriteKeyFiles(path, skey, vkey); err != nil {
		return nil, false, err
	}
	s, err = NewSigner(skey)
	return s, true, err
}
