package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ecoregistry/ecoregistry/integrity/certificate"
	"github.com/ecoregistry/ecoregistry/integrity/certificate/certpb"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

var certificateJSON = protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}

var certificateIssueCommand = &command{
	path:    "certificate issue",
	summary: "have the registry sign a certificate of what an account holds of a right",
	about: `Asks the registry for a signed certificate of what the account holds of the
right now: its units by state with their serial blocks, the position of the
log it is valid at, the signed checkpoint that covers it and the Merkle
inclusion proof of the last event that changed the holding. Writes it as
JSON to FILE (never overwriting one) and prints the signed statement.
'ecoctl certificate verify FILE' checks it offline.`,
	example: `ecoctl certificate issue --right CEA-HB-2025 --account HB-POWER --out hb-power-cea.json`,
	act: func(fs *flagSet) func([]string) (action, error) {
		req := &ecov1.IssueHoldingCertificateRequest{}
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.AccountId, "account", "", "the account's `ID`")
		out := fs.String("out", "", "the certificate's `FILE` (JSON)")
		fs.require("right", "account", "out")
		return func([]string) (action, error) {
			return func(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv) int {
				call, cancel := env.callContext(ctx)
				defer cancel()
				resp, err := ecov1.NewIntegrityServiceClient(cc).IssueHoldingCertificate(call, req)
				if err != nil {
					return env.failed(err)
				}
				b, _ := certificateJSON.Marshal(resp.GetCertificate())
				if err := writeNew(*out, append(b, '\n')); err != nil {
					fmt.Fprintf(env.stderr, "error: %v\n", err)
					return exitRejected
				}
				if env.g.json {
					fmt.Fprintf(env.stdout, "%s\n", b)
					return exitOK
				}
				fmt.Fprintf(env.stdout, "Written to %s:\n\n%s", *out, resp.GetCertificate().GetText())
				return exitOK
			}, nil
		}
	},
}

var certificateVerifyCommand = &command{
	path:    "certificate verify",
	args:    []string{"FILE"},
	summary: "check a holding certificate offline; with --server, whether it is still current",
	about: `Checks a certificate written by 'ecoctl certificate issue' with the
registry's public key alone: the statement's signature, that every field is
what was signed, the checkpoint's signature, the inclusion proof of the
holding's last change in that checkpoint's tree, and that the blocks add up.
An altered quantity or serial, or another key, is refused (exit 1).

With --server it also asks the registry: it
verifies here that the registry's latest checkpoint extends the
certificate's, and says whether the holding is still as certified or what
changed since.`,
	example: `ecoctl certificate verify --public-key registry.pub hb-power-cea.json`,
	act: func(fs *flagSet) func([]string) (action, error) {
		keyFile := fs.String("public-key", "", "`FILE` of the registry's public key (needed offline; with --server, default: the key the registry serves)")
		return func(pos []string) (action, error) {
			return func(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv) int {
				return verifyCertificate(ctx, cc, env, pos[0], *keyFile)
			}, nil
		}
	},
}

func verifyCertificate(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv, file, keyFile string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(env.stderr, "error: %v\n", err)
		return exitRejected
	}
	var m ecov1.HoldingCertificate
	if err := protojson.Unmarshal(b, &m); err != nil {
		return env.refused("%s is not a certificate: %v", file, err)
	}
	var v note.Verifier
	switch {
	case keyFile != "":
		if _, v, err = checkpoint.ReadVerifierKey(keyFile); err != nil {
			fmt.Fprintf(env.stderr, "error: %v\n", err)
			return exitRejected
		}
	case env.serverGiven:
		if v, _, err = env.trustedKey(ctx, cc, ""); err != nil {
			return env.failed(err)
		}
	default:
		fmt.Fprintln(env.stderr, "error: give --public-key FILE (the registry's public key) to check a certificate offline, or --server to use the key the registry serves")
		return exitUsage
	}
	c, err := certpb.FromProto(&m)
	if err == nil {
		err = certificate.Verify(c, v)
	}
	if err != nil {
		return env.refused("%v", err)
	}
	f := newFields(env.stdout)
	certificateFields(f, c)
	if env.serverGiven {
		if code := currentness(ctx, cc, env, f, c, v); code != exitOK {
			return code
		}
	}
	return exitCode(f.flush())
}

func certificateFields(f *fields, c *certificate.Certificate) {
	f.add("Certificate", "valid: signed by "+c.Registry)
	f.add("Account", c.Account)
	f.add("Right", fmt.Sprintf("%s (%s, %s)", c.Right, c.RightType, c.Unit))
	for _, s := range certificate.States {
		f.add(strings.ToUpper(s[:1])+s[1:], c.Total(s))
	}
	f.add("Valid at", fmt.Sprintf("position %s (revision %d of the right)", c.ValidAt, c.StreamRevision))
	if ch := c.LastChange; ch != nil {
		f.add("Last change", fmt.Sprintf("%s revision %d at %s (%s), proved in the checkpoint of %d events", ch.Stream, ch.Revision, ch.Position, ch.Type, c.TreeSize))
	}
}

// currentness verifies here that the registry's latest checkpoint extends
// the certificate's, and compares the holding now with the certified one.
func currentness(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv, f *fields, c *certificate.Certificate, v note.Verifier) int {
	call, cancel := env.callContext(ctx)
	defer cancel()
	ig := ecov1.NewIntegrityServiceClient(cc)
	latest, err := ig.GetLatestCheckpoint(call, &ecov1.GetLatestCheckpointRequest{})
	if err != nil {
		return env.failed(err)
	}
	now, err := checkpoint.Open([]byte(latest.GetCheckpoint().GetNote()), v)
	if err != nil {
		return env.refused("the registry's latest checkpoint: %v", err)
	}
	p, err := ig.GetConsistencyProof(call, &ecov1.GetConsistencyProofRequest{OldSize: c.TreeSize, NewSize: now.Size})
	if err != nil {
		return env.failed(err)
	}
	if err := logtree.VerifyConsistency(c.TreeSize, now.Size, p.GetProof(), c.Root, now.Root); err != nil {
		return env.refused("the registry's history no longer extends the certificate's checkpoint: %v", err)
	}
	f.add("History since", fmt.Sprintf("the registry's checkpoint of %d events extends the certificate's (verified here)", now.Size))
	h, err := ecov1.NewRightServiceClient(cc).GetHolding(call, &ecov1.GetHoldingRequest{RightId: c.Right, AccountId: c.Account})
	if err != nil {
		return env.failed(err)
	}
	if changes := holdingChanges(c, h.GetHolding()); len(changes) > 0 {
		f.add("Still current", fmt.Sprintf("no: the right's stream is at revision %d; %s", h.GetRevision(), strings.Join(changes, "; ")))
	} else {
		f.add("Still current", fmt.Sprintf("yes, at revision %d of the right", h.GetRevision()))
	}
	return exitOK
}

// holdingChanges lists how the holding now differs from the certificate.
func holdingChanges(c *certificate.Certificate, h *ecov1.Holding) []string {
	now := map[string]int64{"available": h.GetAvailable(), "pledged": h.GetPledged(), "frozen": h.GetFrozen(), "reserved": h.GetReserved(), "retired": h.GetRetired()}
	ranges := map[string][]*ecov1.SerialRange{"available": h.GetAvailableRanges(), "pledged": h.GetPledgedRanges(), "frozen": h.GetFrozenRanges(),
		"reserved": h.GetReservedRanges(), "retired": h.GetRetiredRanges()}
	var out []string
	for _, s := range certificate.States {
		var was, is []string
		for _, b := range c.Blocks {
			if b.State == s {
				was = append(was, fmt.Sprintf("%d-%d", b.Start, b.End))
			}
		}
		for _, r := range ranges[s] {
			is = append(is, fmt.Sprintf("%d-%d", r.GetStart(), r.GetEnd()))
		}
		if now[s] != c.Total(s) || !slices.Equal(was, is) {
			out = append(out, fmt.Sprintf("%s %d -> %d (serials %s -> %s)", s, c.Total(s), now[s], orNone(was), orNone(is)))
		}
	}
	return out
}

func orNone(blocks []string) string {
	if len(blocks) == 0 {
		return "none"
	}
	return strings.Join(blocks, ", ")
}
