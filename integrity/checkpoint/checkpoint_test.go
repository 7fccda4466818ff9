package checkpoint

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

func newSigner(t *testing.T, name string) *Signer {
	t.Helper()
	skey, _, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sample(origin string, size uint64) Checkpoint {
	root := bytes.Repeat([]byte{byte(size)}, 32)
	return Checkpoint{Origin: origin, Size: size, Root: root, Last: eventstore.Position{Commit: size, Prepare: size},
		Time: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
}

func TestASignedCheckpointOpensWithItsKeyOnly(t *testing.T) {
	s := newSigner(t, "registry.example/hubei")
	want := sample(s.Name(), 42)
	signed, err := Sign(s, want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(signed, s.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != want.Origin || got.Size != want.Size || !bytes.Equal(got.Root, want.Root) || got.Last != want.Last || !got.Time.Equal(want.Time) {
		t.Fatalf("opened %+v, signed %+v", got, want)
	}
	t.Run("a checkpoint signed by another key is refused", func(t *testing.T) {
		other := newSigner(t, "registry.example/hubei")
		if _, err := Open(signed, other.Verifier); !errors.Is(err, ErrOtherKey) {
			t.Fatalf("err = %v, want ErrOtherKey", err)
		}
		forged, _ := Sign(other, want)
		if _, err := Open(forged, s.Verifier); !errors.Is(err, ErrOtherKey) {
			t.Fatalf("err = %v, want ErrOtherKey", err)
		}
	})
	t.Run("an altered checkpoint is refused", func(t *testing.T) {
		altered := bytes.Replace(signed, []byte("\n42\n"), []byte("\n43\n"), 1)
		if _, err := Open(altered, s.Verifier); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("err = %v, want ErrBadSignature", err)
		}
	})
	t.Run("a note that is not a checkpoint is refused", func(t *testing.T) {
		if _, err := Open([]byte("hello\n"), s.Verifier); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
	})
	t.Run("the text is the C2SP checkpoint with two extension lines", func(t *testing.T) {
		lines := strings.Split(want.Text(), "\n")
		if lines[0] != "registry.example/hubei" || lines[1] != "42" || lines[3] != "position 42/42" || lines[4] != "time 2026-12-01T08:00:00Z" {
			t.Fatalf("text %q", want.Text())
		}
	})
}

func TestKeyFilesRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.key")
	s, created, err := LoadOrCreateSigner(path, DefaultKeyName)
	if err != nil || !created {
		t.Fatalf("created %v, err %v", created, err)
	}
	again, created, err := LoadOrCreateSigner(path, DefaultKeyName)
	if err != nil || created || again.VerifierKey != s.VerifierKey {
		t.Fatalf("reloaded key %q (created %v, err %v), want %q", again.VerifierKey, created, err, s.VerifierKey)
	}
	vkey, v, err := ReadVerifierKey(path + ".pub")
	if err != nil || vkey != s.VerifierKey || v.KeyHash() != s.KeyHash() {
		t.Fatalf("public key file holds %q (%v), want %q", vkey, err, s.VerifierKey)
	}
	if err := WriteKeyFiles(path, "x", "y"); err == nil {
		t.Fatal("an existing key file was replaced")
	}
	if _, err := NewSigner(s.VerifierKey); err == nil {
		t.Fatal("a public key was taken for a private one")
	}
}

func TestTheStoreKeepsCheckpointsInSizeOrder(t *testing.T) {
	s := newSigner(t, "reg")
	st, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, found, err := st.Latest(); found || err != nil {
		t.Fatalf("an empty store has a latest checkpoint (%v)", err)
	}
	for _, size := range []uint64{10, 300, 20} {
		signed, _ := Sign(s, sample("reg", size))
		if err := st.Add(signed); err != nil {
			t.Fatal(err)
		}
		if err := st.Add(signed); err != nil {
			t.Fatalf("adding the same checkpoint again: %v", err)
		}
	}
	latest, _, err := st.Latest()
	if err != nil || latest.Size != 300 {
		t.Fatalf("latest size %d (%v), want 300", latest.Size, err)
	}
	up, _ := st.List(15, 0, false)
	down, _ := st.List(299, 5, true)
	if len(up) != 2 || up[0].Size != 20 || up[1].Size != 300 || len(down) != 2 || down[0].Size != 20 || down[1].Size != 10 {
		t.Fatalf("listed %v and %v", sizes(up), sizes(down))
	}
	conflicting := sample("reg", 20)
	conflicting.Root = bytes.Repeat([]byte{9}, 32)
	signed, _ := Sign(s, conflicting)
	if err := st.Add(signed); err == nil {
		t.Fatal("a second root for size 20 was kept")
	}
	if err := st.RememberKey(s.VerifierKey); err != nil {
		t.Fatal(err)
	}
	if keys, _ := st.Keys(); len(keys) != 1 || keys[0] != s.VerifierKey {
		t.Fatalf("keys %q", keys)
	}
}

func sizes(sts []Stored) []uint64 {
	var out []uint64
	for _, s := range sts {
		out = append(out, s.Size)
	}
	return out
}
