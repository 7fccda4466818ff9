package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/progress"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

var auditVerifyCommand = &command{
	path:    "audit verify",
	summary: "have the registry verify its whole recorded history, with a progress bar",
	about: `Asks the registry to read its whole log and check every stream's hash chain
and revisions, the positions' density (on the embedded store), every event
against the Merkle tree's leaf recorded when it was appended, and the log's
Merkle roots against every checkpoint it signed (and --checkpoint FILE, a
checkpoint saved with 'ecoctl audit checkpoint save'). Prints every break
found, with its stream, revision and position, and exits 1 if there is one.
A progress bar is drawn while stdout is a terminal. --timeout does not bound
the verification.`,
	example: `ecoctl audit verify --checkpoint cp-2026-12-01.txt`,
	act: func(fs *flagSet) func([]string) (action, error) {
		saved := fs.String("checkpoint", "", "`FILE` of a saved checkpoint the log must still agree with")
		return func([]string) (action, error) {
			return func(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv) int {
				var note []byte
				if *saved != "" {
					var err error
					if note, err = os.ReadFile(*saved); err != nil {
						fmt.Fprintf(env.stderr, "error: %v\n", err)
						return exitRejected
					}
				}
				res, err := runVerification(ctx, cc, env, string(note))
				if err != nil {
					return env.failed(err)
				}
				return res.report(env, "")
			}, nil
		}
	},
}

// verification is what VerifyIntegrity streamed.
type verification struct {
	summary *ecov1.VerifySummary
	breaks  []*ecov1.IntegrityBreak
}

// runVerification streams VerifyIntegrity, drawing its progress on a
// terminal (package progress) and printing breaks in text mode: as they
// come, or after the bar when one is drawn.
func runVerification(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv, saved string) (*verification, error) {
	stream, err := ecov1.NewIntegrityServiceClient(cc).VerifyIntegrity(ctx, &ecov1.VerifyIntegrityRequest{SavedCheckpoint: saved})
	if err != nil {
		return nil, err
	}
	draws := !env.g.json && drawsOn(env.stdout)
	var bar *progress.Bar
	out := &verification{}
	for {
		m, err := stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				bar.Abandon()
				return nil, err
			}
			bar.Finish()
			if draws {
				out.printBreaks(env.stdout)
			}
			return out, nil
		}
		switch p := m.GetProgress(); {
		case p != nil && draws:
			if bar == nil && p.GetEventsExpected() > 0 {
				bar = progress.NewOn(env.stdout, int64(p.GetEventsExpected()), progress.Count, "verifying")
			}
			bar.SetTotal(int64(max(p.GetEventsExpected(), p.GetEventsChecked())))
			bar.Set(int64(p.GetEventsChecked()))
		case m.GetBreak() != nil:
			out.breaks = append(out.breaks, m.GetBreak())
			if !env.g.json && !draws {
				fmt.Fprintln(env.stdout, breakLine(m.GetBreak()))
			}
		case m.GetSummary() != nil:
			out.summary = m.GetSummary()
		}
	}
}

func (v *verification) printBreaks(w io.Writer) {
	for _, b := range v.breaks {
		fmt.Fprintln(w, breakLine(b))
	}
}

func breakLine(b *ecov1.IntegrityBreak) string {
	kind := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(b.GetKind().String(), "INTEGRITY_BREAK_KIND_")), "_", " ")
	at := fmt.Sprintf("at position %s (event %d)", positionText(b.GetPosition()), b.GetLeafIndex())
	if b.GetStream() != "" {
		at = fmt.Sprintf("%s revision %d %s", b.GetStream(), b.GetStreamRevision(), at)
	}
	return fmt.Sprintf("break: %s: %s: %s", kind, at, b.GetDetail())
}

// report prints the outcome and returns the exit code: 1 when anything
// broke. first names what the caller proved before, if anything.
func (v *verification) report(env actionEnv, first string) int {
	code := exitOK
	if len(v.breaks) > 0 || v.summary.GetBreaks() > 0 {
		code = exitRejected
	}
	if env.g.json {
		writeVerificationJSON(env.stdout, v)
		return code
	}
	s := v.summary
	f := newFields(env.stdout)
	if first != "" {
		f.add("Consistency", first)
	}
	f.add("Events checked", s.GetEvents())
	f.add("Streams", s.GetStreams())
	f.add("Last position", positionText(s.GetLastPosition()))
	f.add("Root hash", fmt.Sprintf("%x", s.GetRootHash()))
	f.add("Checkpoints compared", s.GetCheckpointsCompared())
	f.add("Breaks", s.GetBreaks())
	if s.GetWritesRefused() {
		f.add("Writes", "refused since the check at start found a break")
	}
	if code == exitOK {
		f.add("Result", "the recorded history verifies")
	} else {
		f.add("Result", "history was altered; the first divergent position: "+firstBreak(v.breaks))
	}
	if err := f.flush(); err != nil {
		return exitRejected
	}
	return code
}

// firstBreak names the earliest position among the breaks.
func firstBreak(breaks []*ecov1.IntegrityBreak) string {
	var first *ecov1.IntegrityBreak
	for _, b := range breaks {
		p, q := b.GetPosition(), first.GetPosition()
		if first == nil || p.GetCommit() < q.GetCommit() || (p.GetCommit() == q.GetCommit() && p.GetPrepare() < q.GetPrepare()) {
			first = b
		}
	}
	if first == nil {
		return "none named"
	}
	if first.GetStream() == "" {
		return positionText(first.GetPosition())
	}
	return fmt.Sprintf("%s, %s revision %d", positionText(first.GetPosition()), first.GetStream(), first.GetStreamRevision())
}

func writeVerificationJSON(w io.Writer, v *verification) {
	var parts []string
	for _, b := range v.breaks {
		j, _ := protojson.Marshal(b)
		parts = append(parts, string(j))
	}
	summary, _ := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(v.summary)
	fmt.Fprintf(w, "{\"summary\":%s,\"breaks\":[%s]}\n", summary, strings.Join(parts, ","))
}

var auditCheckpointCheckCommand = &command{
	path:    "audit checkpoint check",
	args:    []string{"FILE"},
	summary: "prove that today's log extends a checkpoint saved earlier",
	about: `Checks the saved checkpoint's signature, fetches the registry's latest one,
and verifies here, with the RFC 6962 consistency proof the registry gives, that
its tree extends the saved one. Then (unless --no-scan) the registry reads its
whole log again and compares it with the saved checkpoint, so that a log
rewritten under an intact tree is caught too. If history was rewritten, it
says so, with every break found and the first divergent position it can name.
Exits 1 on any failure.`,
	example: `ecoctl audit checkpoint check --public-key registry.pub cp-2026-12-01.txt`,
	act: func(fs *flagSet) func([]string) (action, error) {
		keyFile := fs.String("public-key", "", "`FILE` of the registry's public key (default: the key the registry serves)")
		noScan := fs.Bool("no-scan", false, "check the consistency proof only; do not have the registry read its whole log")
		return func(pos []string) (action, error) {
			return func(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv) int {
				return checkSavedCheckpoint(ctx, cc, env, pos[0], *keyFile, *noScan)
			}, nil
		}
	},
}

func checkSavedCheckpoint(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv, file, keyFile string, noScan bool) int {
	saved, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(env.stderr, "error: %v\n", err)
		return exitRejected
	}
	v, latest, err := env.trustedKey(ctx, cc, keyFile)
	if err != nil {
		return env.failed(err)
	}
	old, err := checkpoint.Open(saved, v)
	if err != nil {
		return env.refused("the saved checkpoint %s: %v", file, err)
	}
	now, err := checkpoint.Open([]byte(latest.GetCheckpoint().GetNote()), v)
	if err != nil {
		return env.refused("the registry's latest checkpoint: %v", err)
	}
	proved, err := proveConsistency(ctx, cc, env, old, now)
	if err != nil {
		return env.failed(err)
	}
	if noScan {
		if !strings.HasPrefix(proved, "verified") {
			return env.refused("history was rewritten: %s", proved)
		}
		fmt.Fprintf(env.stdout, "The registry's checkpoint of %d events extends the saved one of %d: %s.\n", now.Size, old.Size, proved)
		return exitOK
	}
	res, err := runVerification(ctx, cc, env, string(saved))
	if err != nil {
		return env.failed(err)
	}
	if !strings.HasPrefix(proved, "verified") && len(res.breaks) == 0 {
		res.breaks = append(res.breaks, &ecov1.IntegrityBreak{Kind: ecov1.IntegrityBreakKind_INTEGRITY_BREAK_KIND_TREE_MISMATCH,
			Position: &ecov1.Position{Commit: old.Last.Commit, Prepare: old.Last.Prepare}, LeafIndex: old.Size - 1, Detail: proved})
	}
	return res.report(env, proved)
}

// proveConsistency verifies here that the registry's tree of now.Size
// leaves extends the saved one, and says what it found.
func proveConsistency(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv, old, now checkpoint.Checkpoint) (string, error) {
	if now.Size < old.Size {
		return fmt.Sprintf("the registry's latest checkpoint covers %d events, fewer than the saved %d", now.Size, old.Size), nil
	}
	call, cancel := env.callContext(ctx)
	defer cancel()
	p, err := ecov1.NewIntegrityServiceClient(cc).GetConsistencyProof(call, &ecov1.GetConsistencyProofRequest{OldSize: old.Size, NewSize: now.Size})
	if err != nil {
		return "", err
	}
	if err := logtree.VerifyConsistency(old.Size, now.Size, p.GetProof(), old.Root, now.Root); err != nil {
		return fmt.Sprintf("the registry's tree of %d events does not extend the saved checkpoint of %d (%v)", now.Size, old.Size, err), nil
	}
	return fmt.Sprintf("verified here: the checkpoint of %d events extends the saved one of %d (%d proof hashes)", now.Size, old.Size, len(p.GetProof())), nil
}
