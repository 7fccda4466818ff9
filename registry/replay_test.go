package registry

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
)

// idCommand is a command that carries an id of its own, sent as first
// recorded, again unchanged, and again under the same id with other
// fields; each returns what it recorded (or replays) and where.
type idCommand struct {
	name   string
	reused domain.Check
	// prepare records what the command needs first.
	prepare func(t *testing.T, s *Service)
	run     func(s *Service, other bool) (domain.Event, Commit, error)
}

func recordedOf(r Recorded, err error) (domain.Event, Commit, error) { return r.Event, r.Commit, err }

// idCommands are the commands that carry an id: a transfer, a retirement,
// a pledge, a freeze of units and of an account, a reservation, a
// settlement, a cancellation and a correction.
func idCommands() []idCommand {
	ctx := context.Background()
	pick := func(other bool, a, b int64) int64 {
		if other {
			return b
		}
		return a
	}
	return []idCommand{
		{"transfer", domain.CheckTransferIDReused, nil, func(s *Service, other bool) (domain.Event, Commit, error) {
			out, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T1", From: "ACC0", To: "ACC1", Quantity: pick(other, 10, 11)})
			return out.Event, out.Commit, err
		}},
		{"retirement", domain.CheckRetirementIDReused, nil, func(s *Service, other bool) (domain.Event, Commit, error) {
			out, err := s.RetireUnits(ctx, meta, domain.RetireUnits{RightID: "CEA1", RetirementID: "R1", Holder: "ACC0", Quantity: pick(other, 5, 6),
				Purpose: domain.RetirementPurposeVoluntary, Beneficiary: "a forest"})
			return out.Event, out.Commit, err
		}},
		{"pledge", domain.CheckOperationIDReused, nil, func(s *Service, other bool) (domain.Event, Commit, error) {
			return recordedOf(s.PledgeUnits(ctx, meta, domain.PledgeUnits{RightID: "CEA1", PledgeID: "P1", Pledgor: "ACC0", Pledgee: "ACC2",
				LoanReference: "loan-1", Quantity: pick(other, 20, 21)}))
		}},
		{"freeze of units", domain.CheckOperationIDReused, nil, func(s *Service, other bool) (domain.Event, Commit, error) {
			return recordedOf(s.FreezeUnits(ctx, meta, domain.FreezeUnits{RightID: "CEA1", OrderNumber: "O1", Authority: "court", Holder: "ACC0", Quantity: pick(other, 7, 8)}))
		}},
		{"reservation", domain.CheckOperationIDReused, nil, func(s *Service, other bool) (domain.Event, Commit, error) {
			return recordedOf(s.ReserveUnits(ctx, meta, domain.ReserveUnits{RightID: "CEA1", ReservationID: "V1", Holder: "ACC0", Exchange: "HBEX",
				OrderReference: "order-1", Quantity: pick(other, 30, 31), Timeout: time.Now().Add(time.Hour).Truncate(time.Second)}))
		}},
		{"settlement", domain.CheckOperationIDReused, func(t *testing.T, s *Service) {
			if _, err := s.ReserveUnits(ctx, meta, domain.ReserveUnits{RightID: "CEA1", ReservationID: "V2", Holder: "ACC0", Exchange: "HBEX",
				OrderReference: "order-2", Quantity: 40, Timeout: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}, func(s *Service, other bool) (domain.Event, Commit, error) {
			return recordedOf(s.SettleReservation(ctx, meta, domain.SettleReservation{RightID: "CEA1", ReservationID: "V2", SettlementID: "S1", Buyer: "ACC1",
				Quantity: pick(other, 5, 6)}))
		}},
		{"cancellation", domain.CheckOperationIDReused, nil, func(s *Service, other bool) (domain.Event, Commit, error) {
			return recordedOf(s.CancelUnits(ctx, meta, domain.CancelUnits{RightID: "CEA1", CancellationID: "C1", Authority: "MEE", Reason: "fraud",
				Holder: "ACC0", Quantity: pick(other, 3, 4)}))
		}},
		{"correction", domain.CheckOperationIDReused, func(t *testing.T, s *Service) {
			if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T9", From: "ACC0", To: "ACC3", Quantity: 9}); err != nil {
				t.Fatal(err)
			}
		}, func(s *Service, other bool) (domain.Event, Commit, error) {
			reason := "entered in error"
			if other {
				reason = "another reason"
			}
			return recordedOf(s.ReverseTransaction(ctx, meta, domain.ReverseTransaction{RightID: "CEA1", CorrectionID: "K1", Kind: domain.TransactionKindTransfer,
				OriginalID: "T9", Authority: "MEE", Reason: reason}))
		}},
		{"freeze of an account", domain.CheckOperationIDReused, nil, func(s *Service, other bool) (domain.Event, Commit, error) {
			reason := "investigation"
			if other {
				reason = "another order"
			}
			_, commit, err := s.FreezeAccount(ctx, meta, domain.FreezeAccount{AccountID: "ACC3", OrderNumber: "AO1", Authority: "court", Reason: reason})
			if err != nil {
				return nil, Commit{}, err
			}
			ev, _, err := s.readRecorded(ctx, commit.Stream, int64(commit.Revision))
			return ev, commit, err
		}},
	}
}

// Every command that carries an id is idempotent as trades are: sent again
// unchanged, also by a service that never saw it, it gets the recorded
// outcome back as a replay and records nothing; under the same id with
// other fields it is refused and shows the original.
func TestCommandsWithAnIDReplayTheirOutcome(t *testing.T) {
	for _, c := range idCommands() {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			s := newService(t, st, Options{})
			setup(t, s, 4, 1000)
			if c.prepare != nil {
				c.prepare(t, s)
			}
			ev, first, err := c.run(s, false)
			if err != nil || first.Replay {
				t.Fatalf("first: %v %+v", err, first)
			}
			head := streamHead(t, s, first.Stream)
			for name, svc := range map[string]*Service{"the same service": s, "a restarted service": newService(t, st, Options{})} {
				again, replay, err := c.run(svc, false)
				want := first
				want.Replay = true
				if err != nil || replay != want || !reflect.DeepEqual(again, ev) {
					t.Fatalf("sent again to %s: %v, %+v %+v; want %+v %+v", name, err, replay, again, want, ev)
				}
				_, _, err = c.run(svc, true)
				var reused *IDReusedError
				if !errors.Is(err, c.reused) || !errors.As(err, &reused) || reused.Original.Commit != first || !reflect.DeepEqual(reused.Original.Event, ev) {
					t.Fatalf("the id with other fields, to %s: %v", name, err)
				}
				if r, ok := domain.RejectionOf(err); !ok || r.Check != c.reused {
					t.Fatalf("the refusal of a re-used id is not a rejection by %s: %v", c.reused.Code, err)
				}
			}
			if got := streamHead(t, s, first.Stream); got != head {
				t.Fatalf("the retries moved %s from revision %d to %d", first.Stream, head, got)
			}
		})
	}
}

func streamHead(t *testing.T, s *Service, stream string) uint64 {
	t.Helper()
	var rev uint64
	var err error
	if strings.HasPrefix(stream, domain.AccountStreamPrefix) {
		err = s.accounts.read(context.Background(), stream, func(_ *domain.Account, _ bool, r uint64) { rev = r })
	} else {
		err = s.rights.read(context.Background(), stream, func(_ *domain.Right, _ bool, r uint64) { rev = r })
	}
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// Retries racing their original, decided in its batch before it is
// durable, wait for the batch and all get its outcome: one records, the
// others replay it.
func TestRetriesRacingTheirOriginalReplayIt(t *testing.T) {
	st := openStore(t)
	s := newService(t, st, Options{})
	setup(t, s, 2, 1000)
	cmd := domain.TransferUnits{RightID: "CEA1", TransferID: "T-race", From: "ACC0", To: "ACC1", Quantity: 25}
	const n = 32
	outs := make([]Transferred, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if outs[i], err = s.TransferUnits(context.Background(), meta, cmd); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	firsts := 0
	for i := range outs {
		if !outs[i].Commit.Replay {
			firsts++
		}
		outs[i].Commit.Replay = false
		if !reflect.DeepEqual(outs[i], outs[0]) {
			t.Fatalf("answers differ, but for the replay flag: %+v and %+v", outs[i], outs[0])
		}
	}
	if firsts != 1 {
		t.Fatalf("%d answers are not replays, want 1", firsts)
	}
	r := mustRight(t, s, "CEA1")
	if got := r.Holding("ACC1").Available; got != 25 {
		t.Fatalf("ACC1 holds %d units after 32 sends of one transfer of 25", got)
	}
}

// A trade sent again after the registry's clock went back past its
// matched_at (which would now be refused as ahead of the clock) is a retry
// all the same: it replays.
func TestATradeRetriedAfterTheClockWentBackReplays(t *testing.T) {
	now := time.Now().UTC()
	s := newService(t, openStore(t), Options{Clock: func() time.Time { return now }})
	setup(t, s, 2, 1000)
	cmd := trade("CEA1", "X-back", 10)
	first := mustSettle(t, s, cmd)
	now = now.Add(-time.Hour)
	again := mustSettle(t, s, cmd)
	if !again.Replay || again.Commit != first.Commit || again.Settled == nil {
		t.Fatalf("the trade sent again an hour earlier: %+v, first %+v", again, first)
	}
	fresh := mustSettle(t, s, trade("CEA1", "X-new", 10))
	if !errors.Is(fresh.Refusal, domain.CheckInvalidMatchedAt) || fresh.Recorded {
		t.Fatalf("a new trade matched ahead of the clock: %+v", fresh)
	}
}
