package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/grpcserver"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestParseBuildsLifecycleRequests(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want proto.Message
	}{
		{"pledge create by quantity with a maturity",
			[]string{"pledge", "create", "--right", "HB2025A", "--id", "PL-1", "--pledgor", "HB001", "--pledgee", "ICBC-HB", "--loan", "ICBC-42", "--quantity", "500", "--maturity", "2026-06-30"},
			&ecov1.PledgeUnitsRequest{RightId: "HB2025A", PledgeId: "PL-1", PledgorAccountId: "HB001", PledgeeAccountId: "ICBC-HB", LoanReference: "ICBC-42",
				Maturity: cst(2026, 6, 30), Amount: &ecov1.PledgeUnitsRequest_Quantity{Quantity: 500}}},
		{"pledge release by the registration office",
			[]string{"pledge", "release", "--right", "HB2025A", "--id", "PL-1", "--by", "registration-office", "--office-reference", "REG-9"},
			&ecov1.ReleasePledgeRequest{RightId: "HB2025A", PledgeId: "PL-1", ReleasedBy: ecov1.PledgeReleaser_PLEDGE_RELEASER_REGISTRATION_OFFICE, OfficeReference: "REG-9"}},
		{"pledge enforce to a buyer",
			[]string{"pledge", "enforce", "--right", "HB2025A", "--id", "PL-1", "--default-reference", "N-3", "--to", "HB009"},
			&ecov1.EnforcePledgeRequest{RightId: "HB2025A", PledgeId: "PL-1", DefaultReference: "N-3", ToAccountId: "HB009"}},
		{"pledge list for an account",
			[]string{"pledge", "list", "--right", "HB2025A", "--account", "HB001"},
			&ecov1.ListPledgesRequest{RightId: "HB2025A", AccountId: "HB001"}},
		{"pledge list of an account across rights",
			[]string{"pledge", "list", "--account", "HB001"},
			&ecov1.ListPledgesRequest{AccountId: "HB001"}},
		{"freeze units of a holding by range",
			[]string{"freeze", "--right", "HB2025A", "--holder", "HB001", "--range", "1-10", "--order", "O-1", "--authority", "court"},
			&ecov1.FreezeUnitsRequest{RightId: "HB2025A", HolderAccountId: "HB001", OrderNumber: "O-1", Authority: "court",
				Amount: &ecov1.FreezeUnitsRequest_Range{Range: &ecov1.SerialRange{Start: 1, End: 10}}}},
		{"freeze a whole account",
			[]string{"freeze", "--whole-account", "--holder", "HB001", "--order", "O-2", "--authority", "SAMR"},
			&ecov1.FreezeAccountRequest{AccountId: "HB001", OrderNumber: "O-2", Authority: "SAMR"}},
		{"unfreeze an order on a right",
			[]string{"unfreeze", "--right", "HB2025A", "--order", "O-1", "--authority", "court"},
			&ecov1.UnfreezeUnitsRequest{RightId: "HB2025A", OrderNumber: "O-1", Authority: "court"}},
		{"unfreeze a whole account",
			[]string{"unfreeze", "--whole-account", "--holder", "HB001", "--order", "O-2", "--authority", "SAMR"},
			&ecov1.UnfreezeAccountRequest{AccountId: "HB001", OrderNumber: "O-2", Authority: "SAMR"}},
		{"reserve until a time",
			[]string{"reserve", "--right", "HB2025A", "--id", "V-1", "--holder", "HB001", "--exchange", "HBEX", "--order-ref", "ORD-1", "--quantity", "5", "--until", "2026-01-02T10:00:00Z"},
			&ecov1.ReserveUnitsRequest{RightId: "HB2025A", ReservationId: "V-1", HolderAccountId: "HB001", Exchange: "HBEX", OrderReference: "ORD-1",
				Amount: &ecov1.ReserveUnitsRequest_Quantity{Quantity: 5}, Timeout: timestamppb.New(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))}},
		{"reservation settle with a price",
			[]string{"reservation", "settle", "--right", "HB2025A", "--reservation", "V-1", "--id", "S-1", "--buyer", "HB002", "--quantity", "3", "--price", "58.25"},
			&ecov1.SettleReservationRequest{RightId: "HB2025A", ReservationId: "V-1", SettlementId: "S-1", BuyerAccountId: "HB002", Quantity: 3,
				Price: &ecov1.Price{AmountMinor: 5825, Currency: "CNY"}}},
		{"reservation void",
			[]string{"reservation", "void", "--right", "HB2025A", "--reservation", "V-1"},
			&ecov1.VoidReservationRequest{RightId: "HB2025A", ReservationId: "V-1"}},
		{"cancel from the buffer pool",
			[]string{"cancel", "--right", "CSR1", "--id", "C-1", "--quantity", "30", "--authority", "NFGA", "--reason", "fire"},
			&ecov1.CancelUnitsRequest{RightId: "CSR1", CancellationId: "C-1", Authority: "NFGA", Reason: "fire", Amount: &ecov1.CancelUnitsRequest_Quantity{Quantity: 30}}},
		{"correct a transfer",
			[]string{"correct", "--right", "HB2025A", "--id", "K-1", "--kind", "transfer", "--original", "T-1", "--authority", "MEE", "--reason", "twice"},
			&ecov1.ReverseTransactionRequest{RightId: "HB2025A", CorrectionId: "K-1", Kind: ecov1.TransactionKind_TRANSACTION_KIND_TRANSFER, OriginalId: "T-1", Authority: "MEE", Reason: "twice"}},
		{"correct an exchange's trade",
			[]string{"correct", "--right", "HB2025A", "--id", "K-2", "--kind", "trade", "--exchange", "HBEX", "--original", "X-1", "--authority", "MEE", "--reason", "error"},
			&ecov1.ReverseTransactionRequest{RightId: "HB2025A", CorrectionId: "K-2", Kind: ecov1.TransactionKind_TRANSACTION_KIND_TRADE, ExchangeId: "HBEX", OriginalId: "X-1",
				Authority: "MEE", Reason: "error"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := mustParse(t, c.args...)
			wantRequest(t, inv.req, c.want)
		})
	}
}

func TestLifecycleUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"a whole-account freeze takes no right", []string{"freeze", "--whole-account", "--right", "R", "--holder", "A", "--order", "O", "--authority", "X"}, "give no --right"},
		{"a freeze names a right or the whole account", []string{"freeze", "--holder", "A", "--order", "O", "--authority", "X", "--quantity", "1"}, "give --right, or --whole-account"},
		{"an office release needs its reference", []string{"pledge", "release", "--right", "R", "--id", "P", "--by", "registration-office"}, "needs --office-reference"},
		{"cancelling frozen units names their holder", []string{"cancel", "--right", "R", "--id", "C", "--order", "O", "--quantity", "1", "--authority", "X", "--reason", "y"}, "--order needs --holder"},
		{"a reservation needs its timeout", []string{"reserve", "--right", "R", "--id", "V", "--holder", "A", "--exchange", "E", "--order-ref", "O", "--quantity", "1"}, "missing required flag(s): --until"},
		{"a pledge list names a right or an account", []string{"pledge", "list"}, "give --right, --account, or both"},
		{"a trade's correction names its exchange", []string{"correct", "--right", "R", "--id", "K", "--kind", "trade", "--original", "X", "--authority", "M", "--reason", "r"}, "--kind trade needs --exchange"},
		{"only a trade's correction names an exchange", []string{"correct", "--right", "R", "--id", "K", "--kind", "transfer", "--exchange", "E", "--original", "T", "--authority", "M", "--reason", "r"}, "--exchange is only for --kind trade"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := ecoctl(t, "127.0.0.1:1", c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, c.want)
			}
		})
	}
}

// startRealRegistry serves the real registry over a Pebble store in a
// temporary directory on 127.0.0.1:0.
func startRealRegistry(t *testing.T) string {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(st, registry.Options{})
	srv := grpcserver.New(reg, zap.NewNop())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called.
	t.Cleanup(func() {
		srv.Stop()
		reg.Close()
		st.Close()
	})
	return lis.Addr().String()
}

func TestLifecycleAgainstTheRegistry(t *testing.T) {
	addr := startRealRegistry(t)
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		code, stdout, stderr := ecoctl(t, addr, append([]string{"--actor", "office-hubei"}, args...)...)
		if code != exitOK {
			t.Fatalf("ecoctl %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return stdout
	}
	for i, id := range []string{"HB001", "HB002", "ICBC-HB"} {
		body := fmt.Sprintf("91420100MA4K%05d", i+1)
		c, _ := domain.CreditCodeCheckCharacter(body)
		run(t, "account", "open", "--id", id, "--holder-name", id+" Co.", "--holder-kind", "enterprise", "--credit-code", body+string(c), "--jurisdiction", "420100")
	}
	y := time.Now().Year()
	run(t, "right", "register", "--type", "carbon-allowance", "--id", "HB2025A", "--jurisdiction", "420000", "--vintage", fmt.Sprint(y-1),
		"--quantity", "10000", "--holder", "HB001", "--province", "420000", "--scheme", "national", "--allocation", "free",
		"--compliance-period", fmt.Sprintf("%d-%d", y-1, y))

	t.Run("a pledge shows in the list and the holding", func(t *testing.T) {
		out := run(t, "pledge", "create", "--right", "HB2025A", "--id", "PL-1", "--pledgor", "HB001", "--pledgee", "ICBC-HB", "--loan", "ICBC-42", "--quantity", "500")
		if !strings.Contains(out, "Pledge:") || !strings.Contains(out, "000000500") {
			t.Fatalf("pledge output:\n%s", out)
		}
		out = run(t, "pledge", "list", "--right", "HB2025A", "--account", "ICBC-HB")
		if !strings.Contains(out, "PL-1") || !strings.Contains(out, "ICBC-42") {
			t.Fatalf("list output:\n%s", out)
		}
		out = run(t, "holding", "show", "--right", "HB2025A", "--account", "HB001")
		if !strings.Contains(out, "Pledged:") || !strings.Contains(out, "pledged") {
			t.Fatalf("holding output:\n%s", out)
		}
	})

	t.Run("pledged units cannot be transferred: exit 1 with the check code", func(t *testing.T) {
		code, stdout, _ := ecoctl(t, addr, "--actor", "office-hubei", "--json", "transfer", "--right", "HB2025A", "--id", "T-1", "--from", "HB001", "--to", "HB002", "--range", "1-1")
		var e map[string]any
		if code != exitRejected || json.Unmarshal([]byte(stdout), &e) != nil || !strings.Contains(stdout, "E5007") {
			t.Fatalf("exit %d, output %s", code, stdout)
		}
	})

	t.Run("reserve, settle part, void the rest", func(t *testing.T) {
		until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		run(t, "reserve", "--right", "HB2025A", "--id", "V-1", "--holder", "HB001", "--exchange", "HBEX", "--order-ref", "ORD-1", "--quantity", "100", "--until", until)
		out := run(t, "reservation", "settle", "--right", "HB2025A", "--reservation", "V-1", "--id", "S-1", "--buyer", "HB002", "--quantity", "40", "--price", "58.25")
		if !strings.Contains(out, "Still reserved:") || !strings.Contains(out, "60") {
			t.Fatalf("settle output:\n%s", out)
		}
		run(t, "reservation", "void", "--right", "HB2025A", "--reservation", "V-1", "--reason", "order cancelled")
	})

	t.Run("freeze, unfreeze, cancel and correct", func(t *testing.T) {
		run(t, "freeze", "--whole-account", "--holder", "HB002", "--order", "O-1", "--authority", "court")
		out := run(t, "account", "show", "HB002")
		if !strings.Contains(out, "Frozen by orders:") {
			t.Fatalf("account output:\n%s", out)
		}
		run(t, "unfreeze", "--whole-account", "--holder", "HB002", "--order", "O-1", "--authority", "court")
		run(t, "freeze", "--right", "HB2025A", "--holder", "HB001", "--quantity", "10", "--order", "O-2", "--authority", "court")
		run(t, "cancel", "--right", "HB2025A", "--id", "C-1", "--holder", "HB001", "--order", "O-2", "--quantity", "10", "--authority", "MEE", "--reason", "fraud")
		out = run(t, "correct", "--right", "HB2025A", "--id", "K-1", "--kind", "cancellation", "--original", "C-1", "--authority", "MEE", "--reason", "cancelled in error")
		if !strings.Contains(out, "To:") || !strings.Contains(out, "HB001") {
			t.Fatalf("correct output:\n%s", out)
		}
	})
}
