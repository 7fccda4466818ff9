package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// lifecycleClient is the generated API of the lifecycle services.
type lifecycleClient struct {
	*client
	pledges      pb.PledgeServiceClient
	freezes      pb.FreezeServiceClient
	reservations pb.ReservationServiceClient
	cancels      pb.CancellationServiceClient
	corrections  pb.CorrectionServiceClient
}

func withLifecycle(c *client) *lifecycleClient {
	return &lifecycleClient{client: c, pledges: pb.NewPledgeServiceClient(c.conn), freezes: pb.NewFreezeServiceClient(c.conn),
		reservations: pb.NewReservationServiceClient(c.conn), cancels: pb.NewCancellationServiceClient(c.conn),
		corrections: pb.NewCorrectionServiceClient(c.conn)}
}

// testClock is a settable clock for a server under test.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// idleTicker never ticks: expiries are recorded only at start, which makes
// what a restart records observable without waiting.
type idleTicker struct{}

func (idleTicker) C() <-chan time.Time { return nil }
func (idleTicker) Stop()               {}

// startClockedServer runs ecoregistryd in-process over dir with the given
// clock and no scheduler ticks.
func startClockedServer(t *testing.T, dir string, clock *testClock) (*Main, *lifecycleClient) {
	t.Helper()
	m := NewMain(Config{Listen: "127.0.0.1:0", Data: dir, LogLevel: "info", ShutdownTimeout: 5 * time.Second})
	m.Logger = zap.NewNop()
	m.Clock = clock.Now
	m.Ticker = idleTicker{}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	conn, err := grpc.NewClient(m.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	c := clientOf(conn)
	t.Cleanup(func() {
		conn.Close()
		m.Close()
	})
	return m, withLifecycle(c)
}

// openAccounts opens holding accounts with generated credit codes.
func openAccounts(t *testing.T, ctx context.Context, c *lifecycleClient, ids ...string) {
	t.Helper()
	for i, id := range ids {
		_, err := c.accounts.OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: id, Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
			Holder: &pb.Holder{Name: id + " Co.", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420100MA4L"+string(rune('0'+i))+"0000")}})
		if err != nil {
			t.Fatalf("open %s: %v", id, err)
		}
	}
}

// wantCheck fails unless err is a status with the code and check code.
func wantCheck(t *testing.T, err error, code codes.Code, check domain.Check) {
	t.Helper()
	got, reason, _ := checkOf(err)
	if got != code || reason != check.Code {
		t.Fatalf("got %v (%s, check %q), want %s with %s %s", err, got, reason, code, check.Code, check.Name)
	}
}

func countStored(t *testing.T, dir, stream, eventType string) int {
	t.Helper()
	st, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ReadStream(context.Background(), stream, 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == eventType {
			n++
		}
	}
	return n
}

// TestLifecycle runs every lifecycle operation through the generated client
// of a running server, with the refusals an exchange, a bank or a court
// would meet, as status codes and check codes.
func TestLifecycle(t *testing.T) {
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	_, c := startClockedServer(t, t.TempDir(), clock)
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, c, "A", "B", "BANK")
	for _, req := range registrations("A") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatalf("register %s: %v", req.RightId, err)
		}
	}
	const cea = "CEA-HB-1"
	holding := func(t *testing.T, right, account string) *pb.Holding {
		t.Helper()
		resp, err := c.rights.GetHolding(ctx, &pb.GetHoldingRequest{RightId: right, AccountId: account})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetHolding()
	}
	xfer := func(id string, rng *pb.SerialRange) error {
		_, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: cea, TransferId: id, FromAccountId: "A", ToAccountId: "B",
			Amount: &pb.TransferUnitsRequest_Range{Range: rng}})
		return err
	}

	t.Run("a pledge encumbers units, a bank can list it, and release frees them", func(t *testing.T) {
		resp, err := c.pledges.PledgeUnits(ctx, &pb.PledgeUnitsRequest{RightId: cea, PledgeId: "PL-1", PledgorAccountId: "A", PledgeeAccountId: "BANK",
			LoanReference: "ICBC-42", Maturity: timestamppb.New(clock.Now().AddDate(1, 0, 0)), Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		if p := resp.GetPledge(); p.GetQuantity() != 1000 || len(p.GetRanges()) != 1 || !strings.HasPrefix(p.GetRanges()[0].GetSerial(), "CEA-420000-") {
			t.Fatalf("pledge %v", p)
		}
		if h := holding(t, cea, "A"); h.GetPledged() != 1000 || h.GetAvailable() != 99000 || len(h.GetPledgedRanges()) != 1 {
			t.Fatalf("holding %v", h)
		}
		list, err := c.pledges.ListPledges(ctx, &pb.ListPledgesRequest{RightId: cea, AccountId: "BANK"})
		if err != nil || len(list.GetPledges()) != 1 || list.GetPledges()[0].GetPledgorAccountId() != "A" {
			t.Fatalf("list %v %v", list, err)
		}
		wantCheck(t, xfer("T-P", &pb.SerialRange{Start: 1, End: 1}), codes.FailedPrecondition, domain.CheckUnitsPledged)
		_, err = c.pledges.PledgeUnits(ctx, &pb.PledgeUnitsRequest{RightId: cea, PledgeId: "PL-1", PledgorAccountId: "A", PledgeeAccountId: "BANK",
			LoanReference: "other", Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 1}})
		wantCheck(t, err, codes.AlreadyExists, domain.CheckOperationIDReused)
		_, err = c.pledges.ReleasePledge(ctx, &pb.ReleasePledgeRequest{RightId: cea, PledgeId: "PL-1", ReleasedBy: pb.PledgeReleaser_PLEDGE_RELEASER_REGISTRATION_OFFICE})
		wantCheck(t, err, codes.InvalidArgument, domain.CheckRequiredFieldMissing)
		rel, err := c.pledges.ReleasePledge(ctx, &pb.ReleasePledgeRequest{RightId: cea, PledgeId: "PL-1", ReleasedBy: pb.PledgeReleaser_PLEDGE_RELEASER_PLEDGEE, Reason: "repaid"})
		if err != nil || rel.GetQuantity() != 1000 {
			t.Fatalf("release %v %v", rel, err)
		}
		_, err = c.pledges.ReleasePledge(ctx, &pb.ReleasePledgeRequest{RightId: cea, PledgeId: "PL-1", ReleasedBy: pb.PledgeReleaser_PLEDGE_RELEASER_PLEDGEE})
		wantCheck(t, err, codes.FailedPrecondition, domain.CheckPledgeNotActive)
	})

	t.Run("enforcement delivers the pledged units to the pledgee", func(t *testing.T) {
		if _, err := c.pledges.PledgeUnits(ctx, &pb.PledgeUnitsRequest{RightId: cea, PledgeId: "PL-2", PledgorAccountId: "A", PledgeeAccountId: "BANK",
			LoanReference: "ICBC-43", Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 10}}); err != nil {
			t.Fatal(err)
		}
		resp, err := c.pledges.EnforcePledge(ctx, &pb.EnforcePledgeRequest{RightId: cea, PledgeId: "PL-2", DefaultReference: "NOTICE-1"})
		if err != nil || resp.GetToAccountId() != "BANK" || holding(t, cea, "BANK").GetAvailable() != 10 {
			t.Fatalf("enforce %v %v", resp, err)
		}
		_, err = c.pledges.EnforcePledge(ctx, &pb.EnforcePledgeRequest{RightId: cea, PledgeId: "NO-SUCH", DefaultReference: "NOTICE-1"})
		wantCheck(t, err, codes.NotFound, domain.CheckPledgeNotFound)
	})

	t.Run("freezes by order: on a holding and on a whole account", func(t *testing.T) {
		if _, err := c.freezes.FreezeUnits(ctx, &pb.FreezeUnitsRequest{RightId: cea, OrderNumber: "(2026)鄂01执保1号", Authority: "Wuhan court",
			HolderAccountId: "A", Amount: &pb.FreezeUnitsRequest_Range{Range: &pb.SerialRange{Start: 50001, End: 50100}}}); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, xfer("T-F", &pb.SerialRange{Start: 50050, End: 50050}), codes.FailedPrecondition, domain.CheckUnitsFrozen)
		if _, err := c.freezes.UnfreezeUnits(ctx, &pb.UnfreezeUnitsRequest{RightId: cea, OrderNumber: "(2026)鄂01执保1号", Authority: "Wuhan court"}); err != nil {
			t.Fatal(err)
		}
		_, err := c.freezes.UnfreezeUnits(ctx, &pb.UnfreezeUnitsRequest{RightId: cea, OrderNumber: "(2026)鄂01执保1号", Authority: "Wuhan court"})
		wantCheck(t, err, codes.FailedPrecondition, domain.CheckFreezeOrderLifted)

		fr, err := c.freezes.FreezeAccount(ctx, &pb.FreezeAccountRequest{AccountId: "A", OrderNumber: "SAMR-9", Authority: "SAMR"})
		if err != nil || len(fr.GetAccount().GetFreezeOrders()) != 1 {
			t.Fatalf("freeze account %v %v", fr, err)
		}
		wantCheck(t, xfer("T-A", &pb.SerialRange{Start: 60001, End: 60001}), codes.FailedPrecondition, domain.CheckAccountFrozen)
		_, err = c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: "WUR-NX-1", TransferId: "T-W", FromAccountId: "A", ToAccountId: "B",
			Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 1}})
		wantCheck(t, err, codes.FailedPrecondition, domain.CheckAccountFrozen)
		if _, err := c.freezes.UnfreezeAccount(ctx, &pb.UnfreezeAccountRequest{AccountId: "A", OrderNumber: "SAMR-9", Authority: "SAMR"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a reservation settles in parts, refuses overdrafts, and voids", func(t *testing.T) {
		timeout := timestamppb.New(clock.Now().Add(time.Hour))
		if _, err := c.reservations.ReserveUnits(ctx, &pb.ReserveUnitsRequest{RightId: cea, ReservationId: "V-1", HolderAccountId: "A", Exchange: "HBEX",
			OrderReference: "ORD-1", Amount: &pb.ReserveUnitsRequest_Quantity{Quantity: 100}, Timeout: timeout}); err != nil {
			t.Fatal(err)
		}
		s, err := c.reservations.SettleReservation(ctx, &pb.SettleReservationRequest{RightId: cea, ReservationId: "V-1", SettlementId: "S-1",
			BuyerAccountId: "B", Quantity: 30, Price: &pb.Price{AmountMinor: 5850, Currency: "CNY"}})
		if err != nil || s.GetRemaining() != 70 {
			t.Fatalf("settle %v %v", s, err)
		}
		again, err := c.reservations.SettleReservation(ctx, &pb.SettleReservationRequest{RightId: cea, ReservationId: "V-1", SettlementId: "S-1",
			BuyerAccountId: "B", Quantity: 30, Price: &pb.Price{AmountMinor: 5850, Currency: "CNY"}})
		if err != nil || !again.GetReplay() || again.GetRemaining() != 70 || !proto.Equal(again.GetCommit(), s.GetCommit()) {
			t.Fatalf("the settlement sent again: %v %v, want the first's outcome replayed", again, err)
		}
		_, err = c.reservations.SettleReservation(ctx, &pb.SettleReservationRequest{RightId: cea, ReservationId: "V-1", SettlementId: "S-2", BuyerAccountId: "B", Quantity: 71})
		wantCheck(t, err, codes.FailedPrecondition, domain.CheckSettlementExceedsReservation)
		if h := holding(t, cea, "A"); h.GetReserved() != 70 {
			t.Fatalf("holding %v", h)
		}
		if _, err := c.reservations.VoidReservation(ctx, &pb.VoidReservationRequest{RightId: cea, ReservationId: "V-1"}); err != nil {
			t.Fatal(err)
		}
		_, err = c.reservations.ReserveUnits(ctx, &pb.ReserveUnitsRequest{RightId: cea, ReservationId: "V-2", HolderAccountId: "A", Exchange: "HBEX",
			OrderReference: "ORD-2", Amount: &pb.ReserveUnitsRequest_Quantity{Quantity: 1}, Timeout: timestamppb.New(clock.Now().Add(-time.Minute))})
		wantCheck(t, err, codes.InvalidArgument, domain.CheckInvalidTimeout)
	})

	t.Run("cancellation and correction, refused where units moved on", func(t *testing.T) {
		if _, err := c.cancels.CancelUnits(ctx, &pb.CancelUnitsRequest{RightId: "CSR-YN-1", CancellationId: "C-1", Authority: "NFGA",
			Reason: "reversal: fire", Amount: &pb.CancelUnitsRequest_Quantity{Quantity: 100}}); err != nil {
			t.Fatal(err)
		}
		r, err := c.rights.GetRight(ctx, &pb.GetRightRequest{RightId: "CSR-YN-1"})
		if err != nil || r.GetRight().GetCancelledQuantity() != 100 || r.GetRight().GetBufferQuantity() != 900 {
			t.Fatalf("right %v %v", r, err)
		}
		if err := xfer("T-K", &pb.SerialRange{Start: 70001, End: 70100}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: cea, TransferId: "T-K2", FromAccountId: "B", ToAccountId: "BANK",
			Amount: &pb.TransferUnitsRequest_Range{Range: &pb.SerialRange{Start: 70051, End: 70060}}}); err != nil {
			t.Fatal(err)
		}
		_, err = c.corrections.ReverseTransaction(ctx, &pb.ReverseTransactionRequest{RightId: cea, CorrectionId: "K-1", Kind: pb.TransactionKind_TRANSACTION_KIND_TRANSFER,
			OriginalId: "T-K", Authority: "MEE", Reason: "entered in error"})
		wantCheck(t, err, codes.FailedPrecondition, domain.CheckReversalBlocked)
		if !strings.Contains(err.Error(), "[70051,70060]") {
			t.Fatalf("the refusal does not name the blocking block: %v", err)
		}
		resp, err := c.corrections.ReverseTransaction(ctx, &pb.ReverseTransactionRequest{RightId: cea, CorrectionId: "K-2", Kind: pb.TransactionKind_TRANSACTION_KIND_TRANSFER,
			OriginalId: "T-K2", Authority: "MEE", Reason: "entered in error"})
		if err != nil || resp.GetToAccountId() != "B" || resp.GetQuantity() != 10 {
			t.Fatalf("reverse %v %v", resp, err)
		}
		_, err = c.corrections.ReverseTransaction(ctx, &pb.ReverseTransactionRequest{RightId: cea, CorrectionId: "K-3", Kind: pb.TransactionKind_TRANSACTION_KIND_TRANSFER,
			OriginalId: "T-K2", Authority: "MEE", Reason: "again"})
		wantCheck(t, err, codes.FailedPrecondition, domain.CheckTransactionAlreadyReversed)
	})
}

// TestExpiriesAcrossRestarts stops the server with an open reservation and
// a water right near the end of its validity, moves the clock past both and
// restarts it: the restarted server records each expiry once before it
// serves, and a further restart with the clock set back records nothing.
func TestExpiriesAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().UTC().Truncate(time.Second)
	clock := &testClock{now: start}
	m, c := startClockedServer(t, dir, clock)
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, c, "A", "B")
	for _, req := range registrations("A") {
		if req.RightId == "WUR-NX-1" {
			req.ValidFrom = timestamppb.New(start.Add(-time.Hour))
			req.ValidUntil = timestamppb.New(start.Add(48 * time.Hour))
		}
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatalf("register %s: %v", req.RightId, err)
		}
	}
	if _, err := c.reservations.ReserveUnits(ctx, &pb.ReserveUnitsRequest{RightId: "CEA-HB-1", ReservationId: "V-1", HolderAccountId: "A", Exchange: "HBEX",
		OrderReference: "ORD-1", Amount: &pb.ReserveUnitsRequest_Quantity{Quantity: 100}, Timeout: timestamppb.New(start.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countStored(t, dir, "right-CEA-HB-1", domain.EventTypeReservationExpired); n != 0 {
		t.Fatalf("%d expiries recorded before the timeout", n)
	}

	clock.Set(start.Add(72 * time.Hour))
	m2, c2 := startClockedServer(t, dir, clock)
	h, err := c2.rights.GetHolding(ctx, &pb.GetHoldingRequest{RightId: "CEA-HB-1", AccountId: "A"})
	if err != nil || h.GetHolding().GetReserved() != 0 || h.GetHolding().GetAvailable() != 100000 {
		t.Fatalf("holding after the restart %v %v", h, err)
	}
	r, err := c2.rights.GetRight(ctx, &pb.GetRightRequest{RightId: "WUR-NX-1"})
	if err != nil || r.GetRight().GetExpiredQuantity() != 50000 || r.GetRight().GetExpiredAt() == nil {
		t.Fatalf("water right after the restart %v %v", r, err)
	}
	_, err = c2.reservations.SettleReservation(ctx, &pb.SettleReservationRequest{RightId: "CEA-HB-1", ReservationId: "V-1", SettlementId: "S-1", BuyerAccountId: "B", Quantity: 1})
	wantCheck(t, err, codes.FailedPrecondition, domain.CheckReservationNotOpen)
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}

	clock.Set(start)
	m3, c3 := startClockedServer(t, dir, clock)
	_, err = c3.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: "WUR-NX-1", TransferId: "T-1", FromAccountId: "A", ToAccountId: "B",
		Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 1}})
	wantCheck(t, err, codes.FailedPrecondition, domain.CheckRightExpired)
	if err := m3.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countStored(t, dir, "right-CEA-HB-1", domain.EventTypeReservationExpired); n != 1 {
		t.Fatalf("%d ReservationExpired events, want exactly 1", n)
	}
	if n := countStored(t, dir, "right-WUR-NX-1", domain.EventTypeRightExpired); n != 1 {
		t.Fatalf("%d RightExpired events, want exactly 1", n)
	}
}

// TestAccountsAcrossRights checks the two rules that need to know what an
// account holds across rights, which ecoregistryd answers from the holdings
// read model: an account that still holds units cannot be closed, and a
// bank lists the pledges of an account's units across rights.
func TestAccountsAcrossRights(t *testing.T) {
	_, c := startServer(t, t.TempDir())
	lc := withLifecycle(c)
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, lc, "HOLDER", "BANK", "OTHER")
	for _, req := range registrations("HOLDER")[:2] {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatalf("register %s: %v", req.RightId, err)
		}
	}
	rights := []string{registrations("HOLDER")[0].RightId, registrations("HOLDER")[1].RightId}
	for i, right := range rights {
		if _, err := lc.pledges.PledgeUnits(ctx, &pb.PledgeUnitsRequest{RightId: right, PledgeId: fmt.Sprintf("P-%d", i), PledgorAccountId: "HOLDER",
			PledgeeAccountId: "BANK", LoanReference: fmt.Sprintf("LOAN-%d", i), Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: int64(100 * (i + 1))}}); err != nil {
			t.Fatalf("pledge on %s: %v", right, err)
		}
	}

	t.Run("a bank lists an account's pledges across rights", func(t *testing.T) {
		resp, err := lc.pledges.ListPledges(ctx, &pb.ListPledgesRequest{AccountId: "HOLDER"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, p := range resp.GetPledges() {
			if p.GetPledgeeAccountId() != "BANK" || p.GetPledgorAccountId() != "HOLDER" {
				t.Fatalf("pledge %v", p)
			}
			got[p.GetRightId()] = p.GetQuantity()
		}
		if len(got) != 2 || got[rights[0]] != 100 || got[rights[1]] != 200 {
			t.Fatalf("pledges across rights: %v", resp.GetPledges())
		}
		none, err := lc.pledges.ListPledges(ctx, &pb.ListPledgesRequest{AccountId: "OTHER"})
		if err != nil || len(none.GetPledges()) != 0 {
			t.Fatalf("an account without pledges: %v, %v", none, err)
		}
		_, err = lc.pledges.ListPledges(ctx, &pb.ListPledgesRequest{AccountId: "NOBODY"})
		wantCheck(t, err, codes.NotFound, domain.CheckAccountNotFound)
	})

	t.Run("an account that holds units cannot be closed; once it holds none, it can", func(t *testing.T) {
		closeIt := func(id string) error {
			_, err := c.accounts.ChangeAccountStatus(ctx, &pb.ChangeAccountStatusRequest{AccountId: id, Status: pb.AccountStatus_ACCOUNT_STATUS_CLOSED, Reason: "wound up"})
			return err
		}
		err := closeIt("HOLDER")
		wantCheck(t, err, codes.FailedPrecondition, domain.CheckAccountHoldsUnits)
		if !strings.Contains(err.Error(), rights[0]) || !strings.Contains(err.Error(), "pledged 100") {
			t.Errorf("the refusal does not name the holdings: %v", err)
		}
		if a, err := c.accounts.GetAccount(ctx, &pb.GetAccountRequest{AccountId: "HOLDER"}); err != nil || a.GetAccount().GetStatus() != pb.AccountStatus_ACCOUNT_STATUS_OPEN {
			t.Fatalf("the refused close changed the account: %v, %v", a, err)
		}
		if err := closeIt("OTHER"); err != nil {
			t.Fatalf("an account that never held units: %v", err)
		}
		// SMALL receives units, cannot be closed, retires them all and then
		// can: retired units stay with a holding but do not count.
		openAccounts(t, ctx, lc, "SMALL")
		if _, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: rights[0], TransferId: "T-small", FromAccountId: "HOLDER",
			ToAccountId: "SMALL", Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 10}}); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, closeIt("SMALL"), codes.FailedPrecondition, domain.CheckAccountHoldsUnits)
		if _, err := c.retirements.RetireUnits(ctx, &pb.RetireUnitsRequest{RightId: rights[0], RetirementId: "R-small", HolderAccountId: "SMALL",
			Amount: &pb.RetireUnitsRequest_Quantity{Quantity: 10}, Purpose: pb.RetirementPurpose_RETIREMENT_PURPOSE_VOLUNTARY, Beneficiary: "SMALL"}); err != nil {
			t.Fatal(err)
		}
		if err := closeIt("SMALL"); err != nil {
			t.Fatalf("an account holding only retired units: %v", err)
		}
	})
}
