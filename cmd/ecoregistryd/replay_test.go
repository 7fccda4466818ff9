package main

import (
	"context"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// idCall is a command that carries an id of its own, as the generated
// client sends it: unchanged, or under the same id with other fields.
type idCall struct {
	name   string
	reused domain.Check
	send   func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error)
}

// pick returns a, or b for the call with other fields.
func pick(other bool, a, b int64) int64 {
	if other {
		return b
	}
	return a
}

func idCalls(timeout *timestamppb.Timestamp) []idCall {
	const right = "CEA-HB-1"
	return []idCall{
		{"TransferUnits", domain.CheckTransferIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			return c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: right, TransferId: "T-1", FromAccountId: "A", ToAccountId: "B",
				Amount: &pb.TransferUnitsRequest_Quantity{Quantity: pick(other, 10, 11)}})
		}},
		{"RetireUnits", domain.CheckRetirementIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			return c.retirements.RetireUnits(ctx, &pb.RetireUnitsRequest{RightId: right, RetirementId: "R-1", HolderAccountId: "A",
				Amount: &pb.RetireUnitsRequest_Quantity{Quantity: pick(other, 5, 6)}, Purpose: pb.RetirementPurpose_RETIREMENT_PURPOSE_VOLUNTARY, Beneficiary: "a forest"})
		}},
		{"PledgeUnits", domain.CheckOperationIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			return c.pledges.PledgeUnits(ctx, &pb.PledgeUnitsRequest{RightId: right, PledgeId: "P-1", PledgorAccountId: "A", PledgeeAccountId: "C",
				LoanReference: "LOAN-1", Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: pick(other, 20, 21)}})
		}},
		{"FreezeUnits", domain.CheckOperationIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			return c.freezes.FreezeUnits(ctx, &pb.FreezeUnitsRequest{RightId: right, OrderNumber: "O-1", Authority: "court", HolderAccountId: "A",
				Amount: &pb.FreezeUnitsRequest_Quantity{Quantity: pick(other, 7, 8)}})
		}},
		{"FreezeAccount", domain.CheckOperationIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			reason := "an investigation"
			if other {
				reason = "another investigation"
			}
			return c.freezes.FreezeAccount(ctx, &pb.FreezeAccountRequest{AccountId: "C", OrderNumber: "AO-1", Authority: "court", Reason: reason})
		}},
		{"ReserveUnits", domain.CheckOperationIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			return c.reservations.ReserveUnits(ctx, &pb.ReserveUnitsRequest{RightId: right, ReservationId: "V-1", HolderAccountId: "A", Exchange: "HBEX",
				OrderReference: "ORD-1", Amount: &pb.ReserveUnitsRequest_Quantity{Quantity: pick(other, 30, 31)}, Timeout: timeout})
		}},
		{"SettleReservation", domain.CheckOperationIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			return c.reservations.SettleReservation(ctx, &pb.SettleReservationRequest{RightId: right, ReservationId: "V-1", SettlementId: "S-1",
				BuyerAccountId: "B", Quantity: pick(other, 5, 6)})
		}},
		{"CancelUnits", domain.CheckOperationIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			return c.cancels.CancelUnits(ctx, &pb.CancelUnitsRequest{RightId: right, CancellationId: "C-1", HolderAccountId: "A", Authority: "MEE",
				Reason: "fraud", Amount: &pb.CancelUnitsRequest_Quantity{Quantity: pick(other, 3, 4)}})
		}},
		{"ReverseTransaction", domain.CheckOperationIDReused, func(ctx context.Context, c *lifecycleClient, other bool) (proto.Message, error) {
			reason := "entered in error"
			if other {
				reason = "another reason"
			}
			return c.corrections.ReverseTransaction(ctx, &pb.ReverseTransactionRequest{RightId: right, CorrectionId: "K-1",
				Kind: pb.TransactionKind_TRANSACTION_KIND_TRANSFER, OriginalId: "T-1", Authority: "MEE", Reason: reason})
		}},
	}
}

// replayOf returns whether a response says it replays, and the response
// with that flag cleared.
func replayOf(m proto.Message) (bool, proto.Message) {
	m = proto.Clone(m)
	f := m.ProtoReflect().Descriptor().Fields().ByName("replay")
	replay := m.ProtoReflect().Get(f).Bool()
	m.ProtoReflect().Clear(f)
	return replay, m
}

// Every command that carries an id is idempotent as trades are: sent
// again unchanged, also to a restarted server, it gets its first response
// back with replay set and records nothing; under the same id with other
// fields it is refused (E3004, E3006, E3008) and the status carries the
// first response as a detail.
func TestEveryCommandWithAnIDReplaysItsOutcome(t *testing.T) {
	dir := t.TempDir()
	m, c := startServer(t, dir)
	lc := withLifecycle(c)
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, lc, "A", "B", "C")
	for _, req := range registrations("A") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	calls := idCalls(timestamppb.New(time.Now().Add(time.Hour).Truncate(time.Second)))
	firsts := make([]proto.Message, len(calls))
	for i, call := range calls {
		resp, err := call.send(ctx, lc, false)
		if err != nil {
			t.Fatalf("%s: %v", call.name, err)
		}
		if replay, _ := replayOf(resp); replay {
			t.Fatalf("%s, sent for the first time, is a replay: %v", call.name, resp)
		}
		firsts[i] = resp
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	_, c = startServer(t, dir)
	lc = withLifecycle(c)
	ctx = as(t, "office-hubei")
	before := rightRevision(t, ctx, &settlementClient{lifecycleClient: lc}, "CEA-HB-1")
	for i, call := range calls {
		resp, err := call.send(ctx, lc, false)
		if err != nil {
			t.Fatalf("%s sent again after a restart: %v, want the first response replayed", call.name, err)
		}
		replay, rest := replayOf(resp)
		if _, first := replayOf(firsts[i]); !replay || !proto.Equal(rest, first) {
			t.Fatalf("%s sent again after a restart: %v %v\nthe first response: %v", call.name, resp, err, firsts[i])
		}
		_, err = call.send(ctx, lc, true)
		wantCheck(t, err, codes.AlreadyExists, call.reused)
		if !carries(err, firsts[i]) {
			t.Fatalf("%s under its id with other fields: %v, without the first response as a detail", call.name, err)
		}
	}
	if after := rightRevision(t, ctx, &settlementClient{lifecycleClient: lc}, "CEA-HB-1"); after != before {
		t.Fatalf("the retries moved the right from revision %d to %d", before, after)
	}
}

// carries reports whether the status of err holds want among its details;
// an account's response is compared but for the account, which shows the
// account as it is now.
func carries(err error, want proto.Message) bool {
	for _, d := range status.Convert(err).Details() {
		got, ok := d.(proto.Message)
		if !ok {
			continue
		}
		if fa, isAccount := want.(*pb.FreezeAccountResponse); isAccount {
			if ga, ok := got.(*pb.FreezeAccountResponse); ok && proto.Equal(ga.GetCommit(), fa.GetCommit()) {
				return true
			}
			continue
		}
		if proto.Equal(got, want) {
			return true
		}
	}
	return false
}
