package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"pgregory.net/rapid"
)

// propertyRun numbers the runs of the property test, so that runs sharing
// one store use their own accounts and rights.
var propertyRun atomic.Int64

// propertyRecorded counts, by operation, the commands the property test got
// recorded, to show in -v output that the runs reach every operation.
var propertyRecorded sync.Map

func countRecorded(op string) {
	n, _ := propertyRecorded.LoadOrStore(op, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// world is what one run of the property test drives: a service over the
// shared store, a clock, and the ids it has used so far.
type world struct {
	t        *rapid.T
	ctx      context.Context
	svc      *Service
	sched    *Scheduler
	clock    *fakeClock
	prefix   string
	accounts []string
	rights   []string
	// ids of operations recorded so far, by kind, to name in later commands.
	pledges, reservations, orders, accountOrders         []string
	transfers, retirements, settlements, cancels, trades []string
	// where tells the right (or, for account orders, the account) an id was
	// recorded on, so that later commands mostly name a matching pair.
	where map[string]string
	seq   int
}

func (w *world) id(kind string) string {
	w.seq++
	return fmt.Sprintf("%s-%s%d", w.prefix, kind, w.seq)
}

// pick returns one of ids or, now and then and always when there is none,
// a fresh id, so that commands also name things that do not exist.
func (w *world) pick(ids []string, kind, label string) string {
	if len(ids) == 0 || rapid.IntRange(0, 9).Draw(w.t, label+"-fresh") == 0 {
		return w.id(kind)
	}
	return rapid.SampledFrom(ids).Draw(w.t, label)
}

func (w *world) account(label string) string { return rapid.SampledFrom(w.accounts).Draw(w.t, label) }
func (w *world) right() string               { return rapid.SampledFrom(w.rights).Draw(w.t, "right") }

// rightOf returns the right id was recorded on, or now and then (and when
// unknown) another right.
func (w *world) rightOf(id string) string {
	if r, ok := w.where[id]; ok && rapid.IntRange(0, 9).Draw(w.t, "same-right") > 0 {
		return r
	}
	return w.right()
}

// note records where an id was recorded.
func (w *world) note(id, on string, list *[]string) {
	w.where[id] = on
	*list = append(*list, id)
}

// uniform draws a number in 0..n-1 spread evenly. rapid favours small
// draws, which would make the first operations of the table far more
// frequent than the weights say; mixing the draw with the step number keeps
// the choice reproducible and shrinkable while spreading it evenly.
func (w *world) uniform(n int, label string) int {
	w.seq++
	x := uint64(rapid.Uint32().Draw(w.t, label)) + uint64(w.seq)*0x9E3779B97F4A7C15
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return int(x % uint64(n))
}

// amount draws a quantity or a serial range, small enough to collide often.
func (w *world) amount() (int64, *domain.Block) {
	if rapid.Bool().Draw(w.t, "by-range") {
		start := rapid.Int64Range(1, 320).Draw(w.t, "start")
		b := domain.Block{Start: start, End: start + rapid.Int64Range(0, 30).Draw(w.t, "len")}
		return 0, &b
	}
	return rapid.Int64Range(1, 60).Draw(w.t, "quantity"), nil
}

// done accepts a refusal (a rejection with a check code) and fails on any
// other error: an internal error is a bug whatever the command.
func (w *world) done(op string, err error) bool {
	if err == nil {
		countRecorded(op)
		return true
	}
	if _, ok := domain.RejectionOf(err); ok {
		return false
	}
	var v *domain.ValidationError
	if errors.As(err, &v) {
		return false
	}
	w.t.Fatalf("%s failed with a non-rejection: %v", op, err)
	return false
}

// step runs one random operation.
func (w *world) step() {
	meta := Meta{Actor: "property", CorrelationID: "prop"}
	ctx := w.ctx
	// Weights favour the commands that build state others act on.
	weights := []int{8, 6, 10, 6, 4, 6, 5, 2, 3, 10, 9, 4, 5, 6, 2, 4, 4, 6}
	roll, op := w.uniform(100, "op"), 0
	for ; op < len(weights)-1 && roll >= weights[op]; op++ {
		roll -= weights[op]
	}
	switch op {
	case 0:
		q, rng := w.amount()
		id, right := w.id("T"), w.right()
		_, err := w.svc.TransferUnits(ctx, meta, domain.TransferUnits{RightID: right, TransferID: id, From: w.account("from"), To: w.account("to"), Quantity: q, Range: rng})
		if w.done("transfer", err) {
			w.note(id, right, &w.transfers)
		}
	case 1:
		q, rng := w.amount()
		id, right := w.id("R"), w.right()
		_, err := w.svc.RetireUnits(ctx, meta, domain.RetireUnits{RightID: right, RetirementID: id, Holder: w.account("holder"), Quantity: q, Range: rng,
			Purpose: domain.RetirementPurposeVoluntary, Beneficiary: "someone"})
		if w.done("retire", err) {
			w.note(id, right, &w.retirements)
		}
	case 2:
		q, rng := w.amount()
		id, right := w.id("P"), w.right()
		_, err := w.svc.PledgeUnits(ctx, meta, domain.PledgeUnits{RightID: right, PledgeID: id, Pledgor: w.account("pledgor"), Pledgee: w.account("pledgee"),
			LoanReference: "loan", Quantity: q, Range: rng})
		if w.done("pledge", err) {
			w.note(id, right, &w.pledges)
		}
	case 3:
		by := domain.PledgeReleaser(rapid.IntRange(1, 2).Draw(w.t, "releaser"))
		ref := ""
		if by == domain.PledgeReleaserRegistrationOffice {
			ref = "office-ref"
		}
		id := w.pick(w.pledges, "P", "pledge")
		_, err := w.svc.ReleasePledge(ctx, meta, domain.ReleasePledge{RightID: w.rightOf(id), PledgeID: id, ReleasedBy: by, OfficeReference: ref})
		w.done("release", err)
	case 4:
		to := ""
		if rapid.Bool().Draw(w.t, "to-buyer") {
			to = w.account("buyer")
		}
		id := w.pick(w.pledges, "P", "pledge")
		_, err := w.svc.EnforcePledge(ctx, meta, domain.EnforcePledge{RightID: w.rightOf(id), PledgeID: id, To: to, DefaultReference: "default"})
		w.done("enforce", err)
	case 5:
		q, rng := w.amount()
		order, right := w.id("O"), w.right()
		_, err := w.svc.FreezeUnits(ctx, meta, domain.FreezeUnits{RightID: right, OrderNumber: order, Authority: "court", Holder: w.account("holder"), Quantity: q, Range: rng})
		if w.done("freeze", err) {
			w.note(order, right, &w.orders)
		}
	case 6:
		order := w.pick(w.orders, "O", "order")
		_, err := w.svc.UnfreezeUnits(ctx, meta, domain.UnfreezeUnits{RightID: w.rightOf(order), OrderNumber: order, Authority: "court"})
		w.done("unfreeze", err)
	case 7:
		order, acct := w.id("AO"), w.account("account")
		_, _, err := w.svc.FreezeAccount(ctx, meta, domain.FreezeAccount{AccountID: acct, OrderNumber: order, Authority: "court"})
		if w.done("freeze account", err) {
			w.note(order, acct, &w.accountOrders)
		}
	case 8:
		order := w.pick(w.accountOrders, "AO", "order")
		acct, ok := w.where[order]
		if !ok || rapid.IntRange(0, 9).Draw(w.t, "same-account") == 0 {
			acct = w.account("account")
		}
		_, _, err := w.svc.UnfreezeAccount(ctx, meta, domain.UnfreezeAccount{AccountID: acct, OrderNumber: order, Authority: "court"})
		w.done("unfreeze account", err)
	case 9:
		q, rng := w.amount()
		id, right := w.id("V"), w.right()
		timeout := w.clock.Now().Add(time.Duration(rapid.IntRange(1, 180).Draw(w.t, "timeout-min")) * time.Minute)
		_, err := w.svc.ReserveUnits(ctx, meta, domain.ReserveUnits{RightID: right, ReservationID: id, Holder: w.account("seller"), Exchange: "HBEX",
			OrderReference: "ORD", Quantity: q, Range: rng, Timeout: timeout})
		if w.done("reserve", err) {
			w.note(id, right, &w.reservations)
		}
	case 10:
		id, res := w.id("S"), w.pick(w.reservations, "V", "reservation")
		right := w.rightOf(res)
		_, err := w.svc.SettleReservation(ctx, meta, domain.SettleReservation{RightID: right, ReservationID: res,
			SettlementID: id, Buyer: w.account("buyer"), Quantity: rapid.Int64Range(1, 12).Draw(w.t, "settle-qty")})
		if w.done("settle", err) {
			w.note(id, right, &w.settlements)
		}
	case 11:
		res := w.pick(w.reservations, "V", "reservation")
		_, err := w.svc.VoidReservation(ctx, meta, domain.VoidReservation{RightID: w.rightOf(res), ReservationID: res})
		w.done("void", err)
	case 12:
		q, rng := w.amount()
		id := w.id("C")
		cmd := domain.CancelUnits{RightID: w.right(), CancellationID: id, Authority: "MEE", Reason: "fraud", Quantity: q, Range: rng}
		switch rapid.IntRange(0, 2).Draw(w.t, "cancel-source") {
		case 0:
			cmd.Holder = w.account("holder")
		case 1:
			order := w.pick(w.orders, "O", "order")
			cmd.RightID, cmd.Holder, cmd.OrderNumber = w.rightOf(order), w.account("holder"), order
		}
		_, err := w.svc.CancelUnits(ctx, meta, cmd)
		if w.done("cancel", err) {
			w.note(id, cmd.RightID, &w.cancels)
		}
	case 13:
		kind := domain.TransactionKind(rapid.IntRange(1, 5).Draw(w.t, "kind"))
		ids := map[domain.TransactionKind][]string{domain.TransactionKindTransfer: w.transfers, domain.TransactionKindRetirement: w.retirements,
			domain.TransactionKindSettlement: w.settlements, domain.TransactionKindCancellation: w.cancels, domain.TransactionKindTrade: w.trades}[kind]
		original := w.pick(ids, "X", "original")
		exchange := ""
		if kind == domain.TransactionKindTrade {
			exchange = "PX"
		}
		_, err := w.svc.ReverseTransaction(ctx, meta, domain.ReverseTransaction{RightID: w.rightOf(original), CorrectionID: w.id("K"), Kind: kind,
			OriginalID: original, ExchangeID: exchange, Authority: "MEE", Reason: "correction"})
		w.done("reverse "+strings.ToLower(kind.String()), err)
	case 14:
		status := domain.AccountStatus(rapid.IntRange(1, 4).Draw(w.t, "status"))
		if status == domain.AccountStatusClosed && rapid.IntRange(0, 4).Draw(w.t, "really-close") > 0 {
			status = domain.AccountStatusOpen
		}
		_, _, err := w.svc.ChangeAccountStatus(ctx, meta, domain.ChangeAccountStatus{AccountID: w.account("account"), To: status, Reason: "regulator"})
		w.done("status", err)
	case 15:
		// The clock moves forward, or jumps back.
		d := time.Duration(rapid.IntRange(-120, 600).Draw(w.t, "clock-min")) * time.Minute
		w.clock.Set(w.clock.Now().Add(d))
	case 16:
		n, err := w.sched.RunDue(ctx)
		if err != nil {
			w.t.Fatalf("recording expiries: %v", err)
		}
		for ; n > 0; n-- {
			countRecorded("expiry")
		}
	case 17:
		// An exchange's trade, now and then from a reservation of the
		// seller's units.
		q, rng := w.amount()
		cmd := domain.SettleTrade{ExchangeID: "PX", TradeID: w.id("X"), RightID: w.right(), Seller: w.account("seller"), Buyer: w.account("buyer"),
			Quantity: q, Range: rng, Price: &domain.Price{Amount: 100, Currency: "CNY"}, MatchedAt: w.clock.Now()}
		if rapid.IntRange(0, 3).Draw(w.t, "from-reservation") == 0 {
			cmd.ReservationID = w.pick(w.reservations, "V", "reservation")
			cmd.RightID = w.rightOf(cmd.ReservationID)
		}
		out, err := w.svc.SettleTrade(ctx, meta, cmd)
		if err != nil {
			w.t.Fatalf("trade %s could not be decided: %v", cmd.TradeID, err)
		}
		if out.Settled != nil {
			countRecorded("trade")
			w.note(cmd.TradeID, cmd.RightID, &w.trades)
		}
	}
}

// snapshot renders everything observable of a right, so that two states
// compare equal exactly when they hold the same units in the same places.
func snapshot(r domain.Right) string {
	return fmt.Sprintf("version %d totals %+v buffer %v cancelled %v expired %v at %v\nholdings %+v\npledges %+v\nfreezes %+v\nreservations %+v",
		r.Version(), r.Totals(), r.Buffer(), r.CancelledBlocks(), r.ExpiredBlocks(), r.ExpiredAt(),
		r.Holdings(), r.Pledges(""), r.Freezes(), r.Reservations())
}

// check verifies the invariants of every right after a step, and that the
// state rebuilt from the stored events equals the state in memory.
func (w *world) check(fresh *Service) {
	for _, id := range w.rights {
		r, _, err := w.svc.Right(w.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		if err := r.CheckInvariants(); err != nil {
			w.t.Fatalf("invariants of %s: %v", id, err)
		}
		tot := r.Totals()
		for name, n := range map[string]int64{"available": tot.Available, "pledged": tot.Pledged, "frozen": tot.Frozen, "reserved": tot.Reserved,
			"retired": tot.Retired, "cancelled": tot.Cancelled, "expired": tot.Expired, "buffer": tot.Buffer} {
			if n < 0 {
				w.t.Fatalf("right %s has %d %s units", id, n, name)
			}
		}
		if sum := tot.Available + tot.Pledged + tot.Frozen + tot.Reserved + tot.Retired + tot.Cancelled + tot.Expired + tot.Buffer; sum != tot.Issued {
			w.t.Fatalf("right %s: the states sum to %d units, %d issued: %+v", id, sum, tot.Issued, tot)
		}
		for _, h := range r.Holdings() {
			if h.Available < 0 || h.Pledged < 0 || h.Frozen < 0 || h.Reserved < 0 || h.Retired < 0 {
				w.t.Fatalf("right %s: negative holding %+v", id, h)
			}
		}
		// A service that never saw this run rebuilds the right from the store.
		stored, _, err := fresh.Right(w.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		if a, b := snapshot(r), snapshot(stored); a != b {
			w.t.Fatalf("right %s in memory:\n%s\nrebuilt from the store:\n%s", id, a, b)
		}
	}
	for _, id := range w.accounts {
		a, _, err := w.svc.Account(w.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		b, _, err := fresh.Account(w.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		if a.View() != b.View() {
			w.t.Fatalf("account %s in memory %+v, rebuilt %+v", id, a.View(), b.View())
		}
	}
}

// TestLifecycleProperties drives random sequences of every operation (and
// of clock moves and scheduler rounds) through the service over a Pebble
// store, and after each step checks that units are conserved, no quantity
// is negative, serial blocks are disjoint and cover the issuance, and the
// state rebuilt from the stored events equals the state in memory. The
// default run is short; -rapid.checks=N runs more.
func TestLifecycleProperties(t *testing.T) {
	st := openStore(t)
	rapid.Check(t, func(rt *rapid.T) {
		run := propertyRun.Add(1)
		start := time.Now().UTC().Truncate(time.Second)
		w := &world{t: rt, ctx: context.Background(), clock: &fakeClock{now: start}, prefix: fmt.Sprintf("r%d", run), where: map[string]string{}}
		w.svc = New(st, Options{Clock: w.clock.Now})
		defer w.svc.Close()
		w.sched = NewScheduler(w.svc, SchedulerOptions{Ticker: manualTicker{}})
		meta := Meta{Actor: "property", CorrelationID: "prop"}
		for i := 0; i < 4; i++ {
			id := fmt.Sprintf("%s-A%d", w.prefix, i)
			body := fmt.Sprintf("91420100MA4K%05d", i)
			c, _ := domain.CreditCodeCheckCharacter(body)
			if _, _, err := w.svc.OpenAccount(w.ctx, meta, domain.OpenAccount{AccountID: id, Jurisdiction: "420100", Type: domain.AccountTypeHolding,
				Holder: domain.Holder{Name: id, Kind: domain.HolderKindEnterprise, CreditCode: body + string(c)}}); err != nil {
				rt.Fatal(err)
			}
			w.accounts = append(w.accounts, id)
		}
		y := start.Year()
		sink := domain.RegisterRight{RightID: w.prefix + "-SINK", Type: domain.RightTypeCarbonSink, Jurisdiction: "530000", Vintage: y - 2,
			Quantity: rapid.Int64Range(50, 300).Draw(rt, "sink-quantity"), HolderAccountID: w.accounts[0],
			Attributes: domain.CarbonSink{ProjectID: "CCER-1", Methodology: "AR-CM-001", MonitoringStart: time.Date(y-3, 1, 1, 0, 0, 0, 0, time.UTC),
				MonitoringEnd: time.Date(y-2, 12, 31, 0, 0, 0, 0, time.UTC), Location: "530100", AreaSquareMetres: 1_000_000, VerificationBody: "CQC",
				VerificationReportDate: time.Date(y-1, 3, 1, 0, 0, 0, 0, time.UTC), Kind: domain.SinkKindRemoval,
				BufferBasisPoints: int32(rapid.IntRange(0, 3000).Draw(rt, "buffer-bp"))}}
		water := domain.RegisterRight{RightID: w.prefix + "-WATER", Type: domain.RightTypeWaterUse, Jurisdiction: "640000", Vintage: y,
			Quantity: rapid.Int64Range(50, 300).Draw(rt, "water-quantity"), HolderAccountID: w.accounts[1],
			ValidFrom: start.Add(-time.Hour), ValidUntil: start.Add(time.Duration(rapid.IntRange(1, 48).Draw(rt, "water-hours")) * time.Hour),
			Attributes: domain.WaterRight{Class: domain.WaterRightClassRegional, Basin: "Yellow River", Source: domain.WaterSourceSurface,
				Use: domain.WaterUseAgricultural, AnnualVolume: 1000}}
		for _, cmd := range []domain.RegisterRight{sink, water} {
			if _, _, err := w.svc.RegisterRight(w.ctx, meta, cmd); err != nil {
				rt.Fatal(err)
			}
			w.rights = append(w.rights, cmd.RightID)
		}
		steps := rapid.IntRange(10, 50).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			w.step()
			fresh := New(st, Options{})
			w.check(fresh)
			fresh.Close()
		}
	})
	var counts []string
	propertyRecorded.Range(func(op, n any) bool {
		counts = append(counts, fmt.Sprintf("%s %d", op, n.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(counts)
	t.Logf("recorded: %s", strings.Join(counts, ", "))
}
