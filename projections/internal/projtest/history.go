// Package projtest generates random but valid registry histories for the
// tests and benchmarks of the projections: accounts, rights of all four
// types, transfers with and without trade prices, and retirements, decided
// by package domain and written to an event store as the registry writes
// them (protobuf payloads, hash-chained envelopes), many events per append
// so that large stores build quickly.
package projtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Config shapes a generated history.
type Config struct {
	// Seed makes the history reproducible.
	Seed uint64
	// Accounts is the number of accounts; at least 2.
	Accounts int
	// Rights is the number of rights, of the four types in turn.
	Rights int
	// Operations is the number of transfers and retirements after the
	// rights are registered.
	Operations int
	// Start is the time of the first event.
	Start time.Time
	// Step is the mean time between operations.
	Step time.Duration
	// RunLength bounds how many operations on one right are appended at
	// once; 0 means 64.
	RunLength int
}

// Exchanges are the reference prefixes generated trades carry; the empty
// one means a reference without a prefix.
var Exchanges = []string{"CEEX", "HBEX", "CWEX", ""}

// Jurisdictions are the divisions rights and accounts are spread over:
// provinces, prefectures and counties of three provinces.
var Jurisdictions = []string{"420000", "420100", "420102", "420500", "330000", "330100", "330106", "640000", "640100"}

// Registration returns a valid registration of right id of the given type to
// holder, decided at now. Water and pollutant rights are valid from the
// start of now's year for ten years.
func Registration(id string, typ domain.RightType, jurisdiction, holder string, quantity int64, now time.Time) domain.RegisterRight {
	y := now.UTC().Year()
	jan1 := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	cmd := domain.RegisterRight{RightID: id, Type: typ, Jurisdiction: jurisdiction, Quantity: quantity, HolderAccountID: holder}
	switch typ {
	case domain.RightTypeCarbonAllowance:
		cmd.Vintage = y - 1
		cmd.Attributes = domain.CarbonAllowance{AllocatingProvince: jurisdiction[:2] + "0000", Scheme: domain.CEASchemeNational,
			AllocationMethod: domain.AllocationMethodFree, CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}
	case domain.RightTypeWaterUse:
		cmd.Vintage = y
		cmd.ValidFrom, cmd.ValidUntil = jan1(y), jan1(y+10)
		cmd.Attributes = domain.WaterRight{Class: domain.WaterRightClassWaterIntake, IntakePermitNumber: "QS-" + id, Basin: "Yangtze",
			Source: domain.WaterSourceSurface, Use: domain.WaterUseIndustrial, AnnualVolume: quantity}
	case domain.RightTypePollutantDischarge:
		cmd.Vintage = y
		cmd.ValidFrom, cmd.ValidUntil = jan1(y), jan1(y+10)
		cmd.Attributes = domain.PollutantRight{Pollutant: domain.PollutantCOD, DischargePermitNumber: "PW-" + id, Region: jurisdiction,
			BasinOrAirshed: "Yangtze", Origin: domain.PollutantRightOriginInitialPaidAllocation}
	case domain.RightTypeCarbonSink:
		cmd.Vintage = y - 2
		cmd.Attributes = domain.CarbonSink{ProjectID: "CCER-" + id, Methodology: "AR-CM-001",
			MonitoringStart: jan1(y - 3), MonitoringEnd: time.Date(y-2, 12, 31, 0, 0, 0, 0, time.UTC),
			Location: jurisdiction, AreaSquareMetres: 12_340_000, VerificationBody: "CQC",
			VerificationReportDate: jan1(y - 1), Kind: domain.SinkKindRemoval, BufferBasisPoints: 1000}
	}
	return cmd
}

// OpenAccount returns a valid command to open account id.
func OpenAccount(id, jurisdiction string, n int) domain.OpenAccount {
	body := fmt.Sprintf("91%s%09d", jurisdiction, n%1_000_000_000)
	c, _ := domain.CreditCodeCheckCharacter(body)
	return domain.OpenAccount{AccountID: id, Jurisdiction: jurisdiction, Type: domain.AccountTypeHolding,
		Holder: domain.Holder{Name: "Holder " + id, Kind: domain.HolderKindEnterprise, CreditCode: body + string(c)}}
}

// generator holds the state of the history being generated.
type generator struct {
	cfg      Config
	rng      *rand.Rand
	store    eventstore.Store
	now      time.Time
	accounts map[string]domain.AccountView
	ids      []string
	rights   []*rightState
	events   int
}

type rightState struct {
	id      string
	right   domain.Right
	rev     uint64
	exists  bool
	head    eventcodec.Hash
	holders []string
	ops     int
}

// Generate writes a history shaped by cfg to store and returns the number
// of events written.
func Generate(ctx context.Context, store eventstore.Store, cfg Config) (int, error) {
	if cfg.Accounts < 2 || cfg.Rights < 1 {
		return 0, fmt.Errorf("projtest: need at least 2 accounts and 1 right")
	}
	if cfg.RunLength <= 0 {
		cfg.RunLength = 64
	}
	if cfg.Step <= 0 {
		cfg.Step = time.Minute
	}
	g := &generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), store: store,
		now: cfg.Start.UTC(), accounts: map[string]domain.AccountView{}}
	if err := g.openAccounts(ctx); err != nil {
		return g.events, err
	}
	if err := g.registerRights(ctx); err != nil {
		return g.events, err
	}
	for done := 0; done < cfg.Operations; {
		r := g.rights[g.rng.IntN(len(g.rights))]
		n := min(1+g.rng.IntN(cfg.RunLength), cfg.Operations-done)
		evs, err := g.operate(r, n)
		if err != nil {
			return g.events, err
		}
		if err := g.append(ctx, r, evs); err != nil {
			return g.events, err
		}
		done += n
	}
	return g.events, nil
}

func (g *generator) tick() time.Time {
	g.now = g.now.Add(time.Duration(g.rng.Int64N(int64(2 * g.cfg.Step))))
	return g.now
}

func (g *generator) openAccounts(ctx context.Context) error {
	for i := range g.cfg.Accounts {
		id := fmt.Sprintf("ACC-%04d", i)
		j := Jurisdictions[i%len(Jurisdictions)]
		var a domain.Account
		evs, err := domain.DecideOpenAccount(a, OpenAccount(id, j, i), g.tick())
		if err != nil {
			return err
		}
		// Every seventh account is restricted for a while, so that the log
		// holds status changes too.
		if i%7 == 3 {
			for _, to := range []domain.AccountStatus{domain.AccountStatusRestricted, domain.AccountStatusOpen} {
				for _, e := range evs[len(evs)-1:] {
					if err := a.Apply(e); err != nil {
						return err
					}
				}
				more, err := domain.DecideChangeAccountStatus(a, domain.ChangeAccountStatus{AccountID: id, To: to, Reason: "review"}, g.tick())
				if err != nil {
					return err
				}
				evs = append(evs, more...)
			}
		}
		if err := writeStream(ctx, g.store, domain.AccountStream(id), eventstore.NoStream(), eventcodec.GenesisHash, evs); err != nil {
			return err
		}
		g.events += len(evs)
		for _, e := range evs[len(evs)-1:] {
			if err := a.Apply(e); err != nil {
				return err
			}
		}
		g.accounts[id] = a.View()
		g.ids = append(g.ids, id)
	}
	return nil
}

func (g *generator) registerRights(ctx context.Context) error {
	types := []domain.RightType{domain.RightTypeCarbonAllowance, domain.RightTypeWaterUse, domain.RightTypePollutantDischarge, domain.RightTypeCarbonSink}
	for i := range g.cfg.Rights {
		r := &rightState{id: fmt.Sprintf("R-%04d", i)}
		holder := g.ids[g.rng.IntN(len(g.ids))]
		q := 100_000 + g.rng.Int64N(10_000_000)
		cmd := Registration(r.id, types[i%len(types)], Jurisdictions[g.rng.IntN(len(Jurisdictions))], holder, q, g.now)
		evs, err := domain.DecideRegisterRight(r.right, cmd, domain.AccountsFromMap(g.accounts), g.tick())
		if err != nil {
			return fmt.Errorf("projtest: register %s: %w", r.id, err)
		}
		r.holders = []string{holder}
		if err := g.append(ctx, r, evs); err != nil {
			return err
		}
		g.rights = append(g.rights, r)
	}
	return nil
}

// operate decides n transfers or retirements on r, applying each to r.
func (g *generator) operate(r *rightState, n int) ([]domain.Event, error) {
	var out []domain.Event
	lookup := domain.AccountsFromMap(g.accounts)
	for len(out) < n {
		from := r.holders[g.rng.IntN(len(r.holders))]
		avail := r.right.AvailableQuantity(from)
		if avail == 0 {
			// Forget holders that have nothing left to send, keeping one.
			if len(r.holders) > 1 {
				for i, h := range r.holders {
					if h == from {
						r.holders = append(r.holders[:i], r.holders[i+1:]...)
						break
					}
				}
			}
			if r.right.Totals().Available == 0 {
				return out, nil
			}
			continue
		}
		q := 1 + g.rng.Int64N(max(1, avail/4))
		now := g.tick()
		r.ops++
		var evs []domain.Event
		var err error
		if g.rng.IntN(10) == 0 {
			evs, err = domain.DecideRetire(r.right, domain.RetireUnits{RightID: r.id, RetirementID: fmt.Sprintf("RET-%d", r.ops), Holder: from,
				Quantity: q, Purpose: domain.RetirementPurposeVoluntary, Beneficiary: "Beneficiary " + from}, lookup, now)
		} else {
			to := g.ids[g.rng.IntN(len(g.ids))]
			if to == from {
				continue
			}
			cmd := domain.TransferUnits{RightID: r.id, TransferID: fmt.Sprintf("T-%d", r.ops), From: from, To: to, Quantity: q}
			switch k := g.rng.IntN(10); {
			case k < 6:
				// A trade: a price and a reference, often with an exchange prefix.
				cur := "CNY"
				if k == 0 {
					cur = "USD"
				}
				cmd.Price = &domain.Price{Amount: 1 + g.rng.Int64N(20_000), Currency: cur}
				if ex := Exchanges[g.rng.IntN(len(Exchanges))]; ex != "" {
					cmd.Reference = fmt.Sprintf("%s:%s-%d", ex, r.id, r.ops)
				} else {
					cmd.Reference = fmt.Sprintf("TRADE-%s-%d", r.id, r.ops)
				}
			case k == 6:
				// A price without a reference is not a trade.
				cmd.Price = &domain.Price{Amount: 100, Currency: "CNY"}
			case k == 7:
				cmd.Reference = "CONTRACT-" + r.id
			}
			evs, err = domain.DecideTransfer(r.right, cmd, lookup, now)
			if err == nil && !contains(r.holders, to) {
				r.holders = append(r.holders, to)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("projtest: operation %d on %s: %w", r.ops, r.id, err)
		}
		for _, e := range evs {
			if err := r.right.Apply(e); err != nil {
				return nil, err
			}
		}
		out = append(out, evs...)
	}
	return out, nil
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// append writes evs to r's stream at its current revision. Registration
// events are applied here; operate applies the others as it decides them.
func (g *generator) append(ctx context.Context, r *rightState, evs []domain.Event) error {
	if len(evs) == 0 {
		return nil
	}
	if !r.exists {
		for _, e := range evs {
			if err := r.right.Apply(e); err != nil {
				return err
			}
		}
	}
	expected := eventstore.NoStream()
	if r.exists {
		expected = eventstore.Exact(r.rev)
	}
	data, head, err := Encode(evs, r.head)
	if err != nil {
		return err
	}
	res, err := g.store.Append(ctx, domain.RightStream(r.id), expected, data...)
	if err != nil {
		return err
	}
	r.exists, r.rev, r.head = true, res.NextExpectedRevision, head
	g.events += len(evs)
	return nil
}

func writeStream(ctx context.Context, store eventstore.Store, stream string, expected eventstore.ExpectedRevision, head eventcodec.Hash, evs []domain.Event) error {
	data, _, err := Encode(evs, head)
	if err != nil {
		return err
	}
	_, err = store.Append(ctx, stream, expected, data...)
	return err
}

// Encode turns domain events into stored events whose envelopes continue a
// stream's hash chain from head, as the registry writes them, and returns
// the new head.
func Encode(evs []domain.Event, head eventcodec.Hash) ([]eventstore.EventData, eventcodec.Hash, error) {
	out := make([]eventstore.EventData, len(evs))
	for i, ev := range evs {
		typ, payload, err := eventcodec.Encode(ev)
		if err != nil {
			return nil, head, err
		}
		md, err := eventcodec.EncodeMetadata(eventcodec.Envelope{Actor: "projtest", OccurredAt: ev.OccurredAt(), PreviousHash: head})
		if err != nil {
			return nil, head, err
		}
		out[i] = eventstore.EventData{ID: uuid.New(), Type: typ, ContentType: eventcodec.ContentType, Data: payload, Metadata: md}
		head = eventcodec.ChainHash(typ, payload, md)
	}
	return out, head, nil
}
