package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// callContext bounds one call of an action by --timeout.
func (env actionEnv) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if env.g.timeout > 0 {
		return context.WithTimeout(ctx, env.g.timeout)
	}
	return context.WithCancel(ctx)
}

// failed prints a failed call as every command does and returns exit 1.
func (env actionEnv) failed(err error) int {
	if env.g.json {
		writeErrorJSON(env.stdout, err)
	} else {
		writeErrorText(env.stderr, err)
	}
	return exitRejected
}

// refused prints why a proof or signature was refused and returns exit 1.
func (env actionEnv) refused(format string, a ...any) int {
	msg := strings.TrimPrefix(fmt.Sprintf(format, a...), "certificate: refused: ")
	fmt.Fprintf(env.stderr, "refused: %s\n", msg)
	return exitRejected
}

// trustedKey returns the verifier of the registry's key: the one in
// keyFile when given, else the one the registry serves, which is then
// trusted on its word (and said so).
func (env actionEnv) trustedKey(ctx context.Context, cc grpc.ClientConnInterface, keyFile string) (note.Verifier, *ecov1.GetLatestCheckpointResponse, error) {
	call, cancel := env.callContext(ctx)
	defer cancel()
	latest, err := ecov1.NewIntegrityServiceClient(cc).GetLatestCheckpoint(call, &ecov1.GetLatestCheckpointRequest{})
	if err != nil {
		return nil, nil, err
	}
	if keyFile != "" {
		_, v, err := checkpoint.ReadVerifierKey(keyFile)
		return v, latest, err
	}
	fmt.Fprintf(env.stderr, "note: checking with the key the registry serves, %s; pass --public-key with the key you were given to check it independently\n", latest.GetVerifierKey())
	v, err := checkpoint.NewVerifier(latest.GetVerifierKey())
	return v, latest, err
}

var keysGenerateCommand = &command{
	path:    "keys generate",
	summary: "make an ed25519 signing key (FILE) and its public key (FILE.pub)",
	about: `Makes an ed25519 key in the signed-note form of golang.org/x/mod/sumdb/note:
FILE holds the private key (readable by its owner only; give it to
ecoregistryd --signing-key), FILE.pub the public verifier key that regulators,
banks and courts use to check checkpoints and certificates. The key's name is
the origin line of every checkpoint it signs. Nothing is sent to a registry.`,
	example: `ecoctl keys generate --name registry.hubei.example --out /etc/ecoregistry/signing.key`,
	act: func(fs *flagSet) func([]string) (action, error) {
		name := fs.String("name", checkpoint.DefaultKeyName, "the key's `NAME`: the registry's name, the origin of its checkpoints")
		out := fs.String("out", "", "the private key `FILE`; the public key goes to FILE.pub")
		fs.require("out")
		return func([]string) (action, error) {
			return func(_ context.Context, _ grpc.ClientConnInterface, env actionEnv) int {
				skey, vkey, err := checkpoint.GenerateKey(*name)
				if err == nil {
					err = checkpoint.WriteKeyFiles(*out, skey, vkey)
				}
				if err != nil {
					fmt.Fprintf(env.stderr, "error: %v\n", err)
					return exitRejected
				}
				f := newFields(env.stdout)
				f.add("Private key", *out)
				f.add("Public key", *out+".pub")
				f.add("Verifier key", vkey)
				return exitCode(f.flush())
			}, nil
		}
	},
}

func exitCode(err error) int {
	if err != nil {
		return exitRejected
	}
	return exitOK
}

var auditCheckpointSaveCommand = &command{
	path:    "audit checkpoint save",
	args:    []string{"FILE"},
	summary: "keep the registry's latest signed checkpoint in FILE, outside the registry",
	about: `Fetches the registry's latest signed checkpoint (the size and Merkle root of
its whole log), checks its signature, and writes it to FILE exactly as signed
(a C2SP tlog-checkpoint note). Keep FILE: 'ecoctl audit checkpoint check FILE'
later proves that the log still extends it. FILE is never overwritten.`,
	example: `ecoctl audit checkpoint save --public-key registry.pub cp-2026-12-01.txt`,
	act: func(fs *flagSet) func([]string) (action, error) {
		keyFile := fs.String("public-key", "", "`FILE` of the registry's public key (default: the key the registry serves)")
		return func(pos []string) (action, error) {
			return func(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv) int {
				v, latest, err := env.trustedKey(ctx, cc, *keyFile)
				if err != nil {
					return env.failed(err)
				}
				c, err := checkpoint.Open([]byte(latest.GetCheckpoint().GetNote()), v)
				if err != nil {
					return env.refused("the registry's checkpoint: %v", err)
				}
				if err := writeNew(pos[0], []byte(latest.GetCheckpoint().GetNote())); err != nil {
					fmt.Fprintf(env.stderr, "error: %v\n", err)
					return exitRejected
				}
				f := newFields(env.stdout)
				f.add("Saved", pos[0])
				writeCheckpointFields(f, c)
				return exitCode(f.flush())
			}, nil
		}
	},
}

func writeCheckpointFields(f *fields, c checkpoint.Checkpoint) {
	f.add("Registry", c.Origin)
	f.add("Tree size", c.Size)
	f.add("Root hash", fmt.Sprintf("%x", c.Root))
	f.add("Last position", c.Last)
	f.add("Signed at", c.Time.Local().Format(time.RFC3339))
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Sync(), f.Close())
}
