package simulation

import (
	"context"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/registry"
)

// command is one command a client issues, and issues again, with the same
// content, until it learns its outcome.
type command struct {
	kind string
	// id is the id the command carries, as the registry records it in the
	// envelope's command id; empty when it carries none.
	id string
	// ref is how later commands name what the command records (a trade by
	// its trade id alone), and place the right or account it is on.
	ref, place string
	// stream is the stream the command is decided on.
	stream string
	// creates tells that the command records its id for the first time (a
	// transfer, a pledge, ...), rather than naming one recorded before (a
	// release, an unfreeze, ...); reuses tells that the client reuses, on
	// purpose, an id it used for other content.
	creates, reuses bool
	desc            string
	run             func(ctx context.Context, svc *registry.Service, meta registry.Meta) answer
	// remember, when set, notes the command, as sent, for clients that
	// reuse its id.
	remember func(*known)

	attempts int
	// unknown is set once an attempt ended without an outcome.
	unknown bool
	// resends is, for a command acknowledged before and sent again
	// unchanged, what it was acknowledged as.
	resends *acked
}

func (c *command) describe() string { return c.kind + " " + c.desc }

// answer is what an attempt of a command was told.
type answer struct {
	// eventType and commit say what was recorded, and where; replay says
	// the answer is that of an earlier attempt.
	eventType string
	commit    registry.Commit
	replay    bool
	// err is a refusal, or an error that leaves the outcome unknown.
	err error
}

func recorded(ev domain.Event, commit registry.Commit, err error) answer {
	if err != nil {
		return answer{err: err}
	}
	return answer{eventType: ev.EventType(), commit: commit, replay: commit.Replay}
}

// generator makes one kind of command.
type generator struct {
	kind   string
	weight int
	make   func(w *world) *command
}

// generators are the commands the clients issue, with their weights: every
// command of the registry, ids re-used on purpose, and now and then an id
// or account that does not exist.
var generators = []generator{
	{"transfer", 12, (*world).transfer},
	{"retire", 5, (*world).retire},
	{"pledge", 6, (*world).pledge},
	{"release", 3, (*world).release},
	{"enforce", 2, (*world).enforce},
	{"freeze", 4, (*world).freeze},
	{"unfreeze", 3, (*world).unfreeze},
	{"freeze-account", 1, (*world).freezeAccount},
	{"unfreeze-account", 1, (*world).unfreezeAccount},
	{"reserve", 6, (*world).reserve},
	{"settle", 5, (*world).settleReservation},
	{"void", 2, (*world).void},
	{"cancel", 2, (*world).cancel},
	{"reverse", 3, (*world).reverse},
	{"trade", 14, (*world).trade},
	{"reuse", 3, (*world).reuse},
	{"resend", 3, (*world).resend},
	{"open", 1, (*world).openAccount},
	{"register", 1, (*world).registerRight},
	{"status", 1, (*world).changeStatus},
}

var totalWeight = func() int {
	n := 0
	for _, g := range generators {
		n += g.weight
	}
	return n
}()

// newCommand draws a command.
func (w *world) newCommand() *command {
	roll := w.rng.IntN(totalWeight)
	for _, g := range generators {
		if roll < g.weight {
			cmd := g.make(w)
			if cmd.kind == "" {
				cmd.kind = g.kind
			}
			return cmd
		}
		roll -= g.weight
	}
	panic("unreachable")
}

// amount draws a quantity or a serial range, small enough to collide often.
func (w *world) amount() (int64, *domain.Block) {
	if w.rng.IntN(3) == 0 {
		start := 1 + w.rng.Int64N(400)
		return 0, &domain.Block{Start: start, End: start + w.rng.Int64N(30)}
	}
	return 1 + w.rng.Int64N(40), nil
}

func amountString(q int64, b *domain.Block) string {
	if b != nil {
		return fmt.Sprintf("%d-%d", b.Start, b.End)
	}
	return fmt.Sprint(q)
}

func (w *world) transfer() *command {
	q, b := w.amount()
	right := w.right()
	from := w.holder(right)
	cmd := domain.TransferUnits{RightID: right, TransferID: w.fresh("T"), From: from, To: w.other(from), Quantity: q, Range: b}
	return transferCommand(cmd)
}

func transferCommand(cmd domain.TransferUnits) *command {
	return &command{id: cmd.TransferID, ref: cmd.TransferID, place: cmd.RightID, stream: domain.RightStream(cmd.RightID), creates: true,
		desc:     fmt.Sprintf("%s %s %s->%s %s", cmd.RightID, cmd.TransferID, cmd.From, cmd.To, amountString(cmd.Quantity, cmd.Range)),
		remember: func(k *known) { k.transfers[cmd.TransferID] = cmd },
		run: func(ctx context.Context, svc *registry.Service, meta registry.Meta) answer {
			out, err := svc.TransferUnits(ctx, meta, cmd)
			return recorded(out.Event, out.Commit, err)
		}}
}

func (w *world) retire() *command {
	q, b := w.amount()
	right := w.right()
	cmd := domain.RetireUnits{RightID: right, RetirementID: w.fresh("R"), Holder: w.holder(right), Quantity: q, Range: b,
		Purpose: domain.RetirementPurposeVoluntary, Beneficiary: "a beneficiary"}
	return &command{id: cmd.RetirementID, ref: cmd.RetirementID, place: cmd.RightID, stream: domain.RightStream(cmd.RightID), creates: true,
		desc: fmt.Sprintf("%s %s %s %s", cmd.RightID, cmd.RetirementID, cmd.Holder, amountString(q, b)),
		run: func(ctx context.Context, svc *registry.Service, meta registry.Meta) answer {
			out, err := svc.RetireUnits(ctx, meta, cmd)
			return recorded(out.Event, out.Commit, err)
		}}
}

// lifecycle makes a command that the service records as one event on a right.
func lifecycle[C any](id, right string, creates bool, desc string, cmd C,
	call func(*registry.Service, context.Context, registry.Meta, C) (registry.Recorded, error)) *command {
	return &command{id: id, ref: id, place: right, stream: domain.RightStream(right), creates: creates, desc: right + " " + desc,
		run: func(ctx context.Context, svc *registry.Service, meta registry.Meta) answer {
			out, err := call(svc, ctx, meta, cmd)
			return recorded(out.Event, out.Commit, err)
		}}
}

func (w *world) pledge() *command {
	q, b := w.amount()
	right := w.right()
	pledgor := w.holder(right)
	cmd := domain.PledgeUnits{RightID: right, PledgeID: w.fresh("P"), Pledgor: pledgor, Pledgee: w.other(pledgor),
		LoanReference: "loan", Quantity: q, Range: b}
	return lifecycle(cmd.PledgeID, cmd.RightID, true, fmt.Sprintf("%s %s->%s %s", cmd.PledgeID, cmd.Pledgor, cmd.Pledgee, amountString(q, b)),
		cmd, (*registry.Service).PledgeUnits)
}

func (w *world) release() *command {
	id, right := w.pick("pledge", "P", (*world).right)
	cmd := domain.ReleasePledge{RightID: right, PledgeID: id, ReleasedBy: domain.PledgeReleaserPledgee}
	if w.rng.IntN(2) == 0 {
		cmd.ReleasedBy, cmd.OfficeReference = domain.PledgeReleaserRegistrationOffice, "office-ref"
	}
	return lifecycle(id, right, false, fmt.Sprintf("%s by %v", id, cmd.ReleasedBy), cmd, (*registry.Service).ReleasePledge)
}

func (w *world) enforce() *command {
	id, right := w.pick("pledge", "P", (*world).right)
	cmd := domain.EnforcePledge{RightID: right, PledgeID: id, DefaultReference: "default"}
	if w.rng.IntN(2) == 0 {
		cmd.To = w.account()
	}
	return lifecycle(id, right, false, fmt.Sprintf("%s to %q", id, cmd.To), cmd, (*registry.Service).EnforcePledge)
}

func (w *world) freeze() *command {
	q, b := w.amount()
	right := w.right()
	cmd := domain.FreezeUnits{RightID: right, OrderNumber: w.fresh("O"), Authority: "court", Holder: w.holder(right), Quantity: q, Range: b}
	return lifecycle(cmd.OrderNumber, cmd.RightID, true, fmt.Sprintf("%s %s %s", cmd.OrderNumber, cmd.Holder, amountString(q, b)),
		cmd, (*registry.Service).FreezeUnits)
}

func (w *world) unfreeze() *command {
	id, right := w.pick("freeze", "O", (*world).right)
	cmd := domain.UnfreezeUnits{RightID: right, OrderNumber: id, Authority: "court"}
	return lifecycle(id, right, false, id, cmd, (*registry.Service).UnfreezeUnits)
}

// accountCommand makes a command decided on an account's stream.
func accountCommand(id, account string, creates bool, desc string, eventType string,
	call func(context.Context, *registry.Service, registry.Meta) (registry.Commit, error)) *command {
	return &command{id: id, ref: id, place: account, stream: domain.AccountStream(account), creates: creates, desc: account + " " + desc,
		run: func(ctx context.Context, svc *registry.Service, meta registry.Meta) answer {
			commit, err := call(ctx, svc, meta)
			if err != nil {
				return answer{err: err}
			}
			return answer{eventType: eventType, commit: commit, replay: commit.Replay}
		}}
}

func (w *world) freezeAccount() *command {
	cmd := domain.FreezeAccount{AccountID: w.account(), OrderNumber: w.fresh("AO"), Authority: "court"}
	return accountCommand(cmd.OrderNumber, cmd.AccountID, true, cmd.OrderNumber, domain.EventTypeAccountFrozen,
		func(ctx context.Context, svc *registry.Service, meta registry.Meta) (registry.Commit, error) {
			_, commit, err := svc.FreezeAccount(ctx, meta, cmd)
			return commit, err
		})
}

func (w *world) unfreezeAccount() *command {
	id, account := w.pick("freeze-account", "AO", (*world).account)
	cmd := domain.UnfreezeAccount{AccountID: account, OrderNumber: id, Authority: "court"}
	return accountCommand(id, account, false, id, domain.EventTypeAccountUnfrozen,
		func(ctx context.Context, svc *registry.Service, meta registry.Meta) (registry.Commit, error) {
			_, commit, err := svc.UnfreezeAccount(ctx, meta, cmd)
			return commit, err
		})
}

func (w *world) reserve() *command {
	q, b := w.amount()
	right := w.right()
	cmd := domain.ReserveUnits{RightID: right, ReservationID: w.fresh("V"), Holder: w.holder(right), Exchange: "SIMEX",
		OrderReference: "order", Quantity: q, Range: b, Timeout: w.now.Add(time.Duration(10+w.rng.IntN(300)) * time.Minute)}
	return lifecycle(cmd.ReservationID, cmd.RightID, true, fmt.Sprintf("%s %s %s until %s", cmd.ReservationID, cmd.Holder, amountString(q, b),
		cmd.Timeout.Format(time.RFC3339)), cmd, (*registry.Service).ReserveUnits)
}

func (w *world) settleReservation() *command {
	id, right := w.pick("reserve", "V", (*world).right)
	cmd := domain.SettleReservation{RightID: right, ReservationID: id, SettlementID: w.fresh("S"), Buyer: w.account(),
		Quantity: 1 + w.rng.Int64N(15)}
	return lifecycle(cmd.SettlementID, right, true, fmt.Sprintf("%s of %s to %s %d", cmd.SettlementID, id, cmd.Buyer, cmd.Quantity),
		cmd, (*registry.Service).SettleReservation)
}

func (w *world) void() *command {
	id, right := w.pick("reserve", "V", (*world).right)
	return lifecycle(id, right, false, id, domain.VoidReservation{RightID: right, ReservationID: id}, (*registry.Service).VoidReservation)
}

func (w *world) cancel() *command {
	q, b := w.amount()
	cmd := domain.CancelUnits{RightID: w.right(), CancellationID: w.fresh("C"), Authority: "MEE", Reason: "fraud", Quantity: q, Range: b}
	switch w.rng.IntN(3) {
	case 0:
		cmd.Holder = w.holder(cmd.RightID)
	case 1:
		cmd.OrderNumber, cmd.RightID = w.pick("freeze", "O", (*world).right)
		cmd.Holder = w.account()
	}
	return lifecycle(cmd.CancellationID, cmd.RightID, true, fmt.Sprintf("%s holder %q order %q %s", cmd.CancellationID, cmd.Holder, cmd.OrderNumber,
		amountString(q, b)), cmd, (*registry.Service).CancelUnits)
}

// reversible are the kinds of transaction a correction reverses, with the
// kind of command that records them.
var reversible = []struct {
	kind domain.TransactionKind
	of   string
}{
	{domain.TransactionKindTransfer, "transfer"}, {domain.TransactionKindRetirement, "retire"},
	{domain.TransactionKindSettlement, "settle"}, {domain.TransactionKindCancellation, "cancel"}, {domain.TransactionKindTrade, "trade"},
}

func (w *world) reverse() *command {
	r := reversible[w.rng.IntN(len(reversible))]
	id, right := w.pick(r.of, "X", (*world).right)
	cmd := domain.ReverseTransaction{RightID: right, CorrectionID: w.fresh("K"), Kind: r.kind, OriginalID: id,
		Authority: "MEE", Reason: "correction"}
	if r.kind == domain.TransactionKindTrade {
		cmd.ExchangeID = "SIMEX"
	}
	return lifecycle(cmd.CorrectionID, right, true, fmt.Sprintf("%s of %v %s", cmd.CorrectionID, r.kind, id), cmd, (*registry.Service).ReverseTransaction)
}

func (w *world) trade() *command {
	q, b := w.amount()
	right := w.right()
	seller := w.holder(right)
	cmd := domain.SettleTrade{ExchangeID: "SIMEX", TradeID: w.fresh("X"), RightID: right, Seller: seller,
		Buyer: w.other(seller), Quantity: q, Range: b, Price: &domain.Price{Amount: 100 + w.rng.Int64N(50), Currency: "CNY"}, MatchedAt: w.now}
	if w.rng.IntN(4) == 0 {
		cmd.ReservationID, cmd.RightID = w.pick("reserve", "V", (*world).right)
	}
	return tradeCommand(cmd, true)
}

func tradeCommand(cmd domain.SettleTrade, creates bool) *command {
	c := &command{id: cmd.ExchangeID + "/" + cmd.TradeID, ref: cmd.TradeID, place: cmd.RightID, stream: domain.RightStream(cmd.RightID), creates: creates,
		desc: fmt.Sprintf("%s %s %s->%s %s at %d from %q", cmd.RightID, cmd.TradeID, cmd.Seller, cmd.Buyer, amountString(cmd.Quantity, cmd.Range),
			cmd.Price.Amount, cmd.ReservationID),
		run: func(ctx context.Context, svc *registry.Service, meta registry.Meta) answer {
			out, err := svc.SettleTrade(ctx, meta, cmd)
			switch {
			case err != nil:
				return answer{err: err}
			case !out.Recorded:
				return answer{err: out.Refusal}
			case out.Settled != nil:
				return answer{eventType: domain.EventTypeTradeSettled, commit: out.Commit, replay: out.Replay}
			}
			return answer{eventType: domain.EventTypeTradeRefused, commit: out.Commit, replay: out.Replay}
		}}
	if creates {
		c.remember = func(k *known) { k.trades[cmd.TradeID] = cmd }
	}
	return c
}

// reuse sends a trade or a transfer under an id used before, with other
// content: another quantity, or the trade on another right. The registry
// must refuse it rather than record a second command under the id.
func (w *world) reuse() *command {
	if w.rng.IntN(2) == 0 {
		if tr, ok := w.known.trades[w.pickID("trade")]; ok {
			tr.Quantity, tr.Range = tr.Quantity+1+w.rng.Int64N(3), nil
			if w.rng.IntN(2) == 0 {
				tr.RightID = w.right()
			}
			cmd := tradeCommand(tr, false)
			cmd.kind, cmd.reuses = "trade", true
			return cmd
		}
	}
	if tr, ok := w.known.transfers[w.pickID("transfer")]; ok {
		// Other content for the domain: a quantity of the same size as a
		// range, or the same range by quantity, would be the same transfer.
		if tr.Range != nil {
			shifted := domain.Block{Start: tr.Range.Start + 1, End: tr.Range.End + 1}
			tr.Range = &shifted
		} else {
			tr.Quantity += 1 + w.rng.Int64N(3)
		}
		cmd := transferCommand(tr)
		cmd.kind, cmd.creates, cmd.reuses, cmd.remember = "transfer", false, true, nil
		return cmd
	}
	cmd := w.transfer()
	cmd.kind = "transfer"
	return cmd
}

// resend sends again, unchanged, a command acknowledged before, as a
// client unsure of what it sent does; it must get its first answer back.
func (w *world) resend() *command {
	var with []int
	for i, a := range w.ledger.acked {
		// Only a command with an id of its own replays: a release, void or
		// unfreeze names the pledge, reservation or order it ends.
		if a.cmd.id != "" && a.cmd.creates && a.cmd.resends == nil {
			with = append(with, i)
		}
	}
	if len(with) == 0 {
		cmd := w.transfer()
		cmd.kind = "transfer"
		return cmd
	}
	a := w.ledger.acked[with[w.rng.IntN(len(with))]]
	again := *a.cmd
	again.attempts, again.unknown, again.creates, again.remember, again.resends = 0, false, false, nil, &a
	again.desc += " (sent again)"
	return &again
}

func (w *world) openAccount() *command {
	id := w.fresh("A")
	body := fmt.Sprintf("91420100MA4K%05d", w.known.seq%100000)
	check, _ := domain.CreditCodeCheckCharacter(body)
	cmd := domain.OpenAccount{AccountID: id, Jurisdiction: "420100", Type: domain.AccountTypeHolding,
		Holder: domain.Holder{Name: id + " Co.", Kind: domain.HolderKindEnterprise, CreditCode: body + string(check)}}
	return accountCommand("", id, true, "open", domain.EventTypeAccountOpened,
		func(ctx context.Context, svc *registry.Service, meta registry.Meta) (registry.Commit, error) {
			_, commit, err := svc.OpenAccount(ctx, meta, cmd)
			return commit, err
		})
}

func (w *world) registerRight() *command {
	return w.registerCommand(w.registration(w.fresh("RIGHT"), w.account(), w.rng.IntN(4)))
}

func (w *world) registerCommand(cmd domain.RegisterRight) *command {
	return &command{place: cmd.RightID, stream: domain.RightStream(cmd.RightID), creates: true,
		desc: fmt.Sprintf("%s %v %d to %s", cmd.RightID, cmd.Type, cmd.Quantity, cmd.HolderAccountID),
		run: func(ctx context.Context, svc *registry.Service, meta registry.Meta) answer {
			_, commit, err := svc.RegisterRight(ctx, meta, cmd)
			if err != nil {
				return answer{err: err}
			}
			return answer{eventType: domain.EventTypeRightRegistered, commit: commit}
		}}
}

func (w *world) changeStatus() *command {
	to := domain.AccountStatus(1 + w.rng.IntN(4))
	if to != domain.AccountStatusOpen && w.rng.IntN(2) == 0 {
		to = domain.AccountStatusOpen
	}
	cmd := domain.ChangeAccountStatus{AccountID: w.account(), To: to, Reason: "regulator"}
	return accountCommand("", cmd.AccountID, false, fmt.Sprintf("to %v", to), domain.EventTypeAccountStatusChanged,
		func(ctx context.Context, svc *registry.Service, meta registry.Meta) (registry.Commit, error) {
			_, commit, err := svc.ChangeAccountStatus(ctx, meta, cmd)
			return commit, err
		})
}

// registration is a registration of a right of one of the four types: a
// carbon allowance, a water right valid for a day or a few, a pollutant
// right, or a carbon sink with a buffer pool.
func (w *world) registration(id, holder string, kind int) domain.RegisterRight {
	y := w.now.Year()
	cmd := domain.RegisterRight{RightID: id, Jurisdiction: "420000", Vintage: y, Quantity: 200 + w.rng.Int64N(400), HolderAccountID: holder}
	switch kind {
	case 0:
		cmd.Type, cmd.Vintage = domain.RightTypeCarbonAllowance, y-1
		cmd.Attributes = domain.CarbonAllowance{AllocatingProvince: "420000", Scheme: domain.CEASchemeNational, AllocationMethod: domain.AllocationMethodFree,
			CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}
	case 1:
		cmd.Type, cmd.Jurisdiction = domain.RightTypeWaterUse, "640000"
		cmd.ValidFrom, cmd.ValidUntil = w.now.Add(-time.Hour), w.now.Add(time.Duration(12+w.rng.IntN(60))*time.Hour)
		cmd.Attributes = domain.WaterRight{Class: domain.WaterRightClassRegional, Basin: "Yellow River", Source: domain.WaterSourceSurface,
			Use: domain.WaterUseAgricultural, AnnualVolume: 1000}
	case 2:
		cmd.Type, cmd.Jurisdiction = domain.RightTypePollutantDischarge, "330000"
		cmd.ValidFrom, cmd.ValidUntil = w.now.Add(-time.Hour), w.now.AddDate(5, 0, 0)
		cmd.Attributes = domain.PollutantRight{Pollutant: domain.PollutantCOD, DischargePermitNumber: "91330100MA27XY0001P", Region: "330100",
			BasinOrAirshed: "Qiantang River", Origin: domain.PollutantRightOriginInitialPaidAllocation}
	default:
		cmd.Type, cmd.Jurisdiction, cmd.Vintage = domain.RightTypeCarbonSink, "530000", y-2
		cmd.Attributes = domain.CarbonSink{ProjectID: "CCER-1", Methodology: "AR-CM-001", MonitoringStart: time.Date(y-3, 1, 1, 0, 0, 0, 0, time.UTC),
			MonitoringEnd: time.Date(y-2, 12, 31, 0, 0, 0, 0, time.UTC), Location: "530100", AreaSquareMetres: 1_000_000, VerificationBody: "CQC",
			VerificationReportDate: time.Date(y-1, 3, 1, 0, 0, 0, 0, time.UTC), Kind: domain.SinkKindRemoval, BufferBasisPoints: int32(w.rng.IntN(3000))}
	}
	return cmd
}
