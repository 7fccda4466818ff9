// Package checkpoint makes, signs, checks and keeps the registry's
// checkpoints: signed statements of the size and root hash of the Merkle
// tree over the global log (package integrity/logtree), in the C2SP
// tlog-checkpoint format (github.com/transparency-dev/formats/log) as signed
// notes with ed25519 keys (golang.org/x/mod/sumdb/note), as Go's checksum
// database and Certificate Transparency logs publish theirs.
//
// A checkpoint's text is
//
//	<origin>                 the signing key's name
//	<tree size>              decimal
//	<root hash>              base64
//	position <commit>/<prepare>   the position of the last event it covers
//	time <RFC 3339 time>     when the registry signed it
//
// followed by a blank line and the signature line. The two extension lines
// are ecoregistry's: they say where in the log the checkpoint ends, so that
// a server can check the events after it quickly when it starts.
package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	tlog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Checkpoint is a signed commitment to the first Size events of the log.
type Checkpoint struct {
	// Origin names the log: the name of the key that signs it.
	Origin string
	// Size is the number of leaves (events) covered.
	Size uint64
	// Root is the root hash of the tree of Size leaves.
	Root []byte
	// Last is the position of the last event covered; eventstore.Start for
	// an empty log.
	Last eventstore.Position
	// Time is when the checkpoint was signed.
	Time time.Time
}

// Text returns the checkpoint's note text.
func (c Checkpoint) Text() string {
	var b strings.Builder
	b.Write(tlog.Checkpoint{Origin: c.Origin, Size: c.Size, Hash: c.Root}.Marshal())
	fmt.Fprintf(&b, "position %s\ntime %s\n", c.Last, c.Time.UTC().Format(time.RFC3339Nano))
	return b.String()
}

// Sign returns the signed note of c, whose origin must be the signer's name.
func Sign(s note.Signer, c Checkpoint) ([]byte, error) {
	if c.Origin != s.Name() {
		return nil, fmt.Errorf("checkpoint: origin %q is not the signing key's name %q", c.Origin, s.Name())
	}
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// Errors of Open, tested with errors.Is.
var (
	// ErrMalformed reports bytes that are not a checkpoint note.
	ErrMalformed = errors.New("checkpoint: malformed")
	// ErrOtherKey reports a note signed by none of the keys it was checked
	// with.
	ErrOtherKey = errors.New("checkpoint: signed by another key")
	// ErrBadSignature reports a signature by a known key that does not
	// verify: the text was altered.
	ErrBadSignature = errors.New("checkpoint: the signature does not verify")
)

// Open checks a signed checkpoint with verifiers (the first is the log's:
// its name must be the checkpoint's origin) and returns what it states.
func Open(signed []byte, verifiers ...note.Verifier) (Checkpoint, error) {
	n, err := OpenNote(signed, verifiers...)
	if err != nil {
		return Checkpoint{}, err
	}
	c, err := Parse(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	signedByOrigin := false
	for _, s := range n.Sigs {
		signedByOrigin = signedByOrigin || s.Name == c.Origin
	}
	if !signedByOrigin {
		return Checkpoint{}, fmt.Errorf("%w: the checkpoint of %q is not signed by a key of that name", ErrOtherKey, c.Origin)
	}
	return c, nil
}

// OpenNote checks the signatures of a signed note (a checkpoint or a
// certificate) with verifiers and returns it; the errors say whether it is
// malformed, signed by another key, or altered.
func OpenNote(signed []byte, verifiers ...note.Verifier) (*note.Note, error) {
	n, err := note.Open(signed, note.VerifierList(verifiers...))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		var by []string
		for _, s := range unverified.Note.UnverifiedSigs {
			by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
		}
		return nil, fmt.Errorf("%w: signed by %s, not by %s", ErrOtherKey, strings.Join(by, ", "), keyNames(verifiers))
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("%w: the signature of %s+%08x does not match the text, which was altered after signing", ErrBadSignature, invalid.Name, invalid.Hash)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return n, nil
}

func keyNames(vs []note.Verifier) string {
	var names []string
	for _, v := range vs {
		names = append(names, fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()))
	}
	return strings.Join(names, ", ")
}

// Parse reads a checkpoint's text without checking any signature.
func Parse(text string) (Checkpoint, error) {
	var tc tlog.Checkpoint
	rest, err := tc.Unmarshal([]byte(text))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	c := Checkpoint{Origin: tc.Origin, Size: tc.Size, Root: tc.Hash}
	if len(c.Root) != 32 {
		return Checkpoint{}, fmt.Errorf("%w: root hash of %d bytes", ErrMalformed, len(c.Root))
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n") {
		key, value, _ := strings.Cut(line, " ")
		switch key {
		case "position":
			c.Last, err = eventstore.ParsePosition(value)
		case "time":
			c.Time, err = time.Parse(time.RFC3339Nano, value)
		}
		if err != nil {
			return Checkpoint{}, fmt.Errorf("%w: %q: %v", ErrMalformed, line, err)
		}
	}
	return c, nil
}

// ParseSigned reads a signed checkpoint without checking its signature:
// for what the registry keeps itself and checks elsewhere.
func ParseSigned(signed []byte) (Checkpoint, error) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, fmt.Errorf("%w: no signature block", ErrMalformed)
	}
	return Parse(string(signed[:i+1]))
}
