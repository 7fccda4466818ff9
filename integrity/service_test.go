package integrity_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/integrity"
	"github.com/ecoregistry/ecoregistry/integrity/certificate"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
	"github.com/ecoregistry/ecoregistry/registry"
)

// env is a registry over a store, with the tree read model and the
// integrity service.
type env struct {
	dir   string
	store eventstore.Store
	m     *projections.Manager
	cps   *checkpoint.Store
	svc   *integrity.Service
	reg   *registry.Service
	key   *checkpoint.Signer
	stop  context.CancelFunc
	done  chan struct{}
}

func start(t *testing.T, dir string, store eventstore.Store, key *checkpoint.Signer, opts integrity.Options) *env {
	t.Helper()
	e := &env{dir: dir, store: store, key: key}
	var err error
	e.m, err = projections.Open(dir+"/read", store, []projections.Projection{merkle.New()}, projections.Options{
		Committed: func(name string, _ uint64, c *projections.Checkpoint) {
			if name == merkle.Name && e.svc != nil {
				e.svc.Committed(c.Applied)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if e.cps, err = checkpoint.OpenStore(dir+"/checkpoints", nil); err != nil {
		t.Fatal(err)
	}
	r, _ := e.m.Runner(merkle.Name)
	if e.svc, err = integrity.New(store, merkle.NewQueries(r), e.cps, key, opts); err != nil {
		t.Fatal(err)
	}
	e.reg = registry.New(e.svc.Guard(store), registry.Options{})
	e.m.Start()
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	go func() { e.svc.Run(ctx); close(e.done) }()
	return e
}

func (e *env) close(t *testing.T) {
	t.Helper()
	e.stop()
	<-e.done
	if err := errors.Join(e.m.Close(), e.cps.Close(), e.store.Close()); err != nil {
		t.Fatal(err)
	}
}

func newKey(t *testing.T) *checkpoint.Signer {
	t.Helper()
	skey, _, err := checkpoint.GenerateKey("registry.test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := checkpoint.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pebbleAt(t *testing.T, dir string) eventstore.Store {
	t.Helper()
	s, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var meta = registry.Meta{Actor: "hubei-office.li"}

func openAccount(t *testing.T, e *env, id string, n int) {
	t.Helper()
	body := fmt.Sprintf("91420100MA4K%05d", n)
	c, _ := domain.CreditCodeCheckCharacter(body)
	_, _, err := e.reg.OpenAccount(t.Context(), meta, domain.OpenAccount{AccountID: id, Jurisdiction: "420100", Type: domain.AccountTypeHolding,
		Holder: domain.Holder{Name: "Holder " + id, Kind: domain.HolderKindEnterprise, CreditCode: body + string(c)}})
	if err != nil {
		t.Fatal(err)
	}
}

// trade builds the walkthrough's history: two accounts, one allowance
// right, a transfer and a retirement.
func trade(t *testing.T, e *env) {
	t.Helper()
	openAccount(t, e, "HB-STEEL", 1)
	openAccount(t, e, "HB-POWER", 2)
	y := time.Now().UTC().Year()
	_, _, err := e.reg.RegisterRight(t.Context(), meta, domain.RegisterRight{RightID: "CEA-HB-2025", Type: domain.RightTypeCarbonAllowance,
		Jurisdiction: "420000", Vintage: y - 1, Quantity: 100000, HolderAccountID: "HB-STEEL",
		Attributes: domain.CarbonAllowance{AllocatingProvince: "420000", Scheme: domain.CEASchemeNational, AllocationMethod: domain.AllocationMethodFree,
			CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.TransferUnits(t.Context(), meta, domain.TransferUnits{RightID: "CEA-HB-2025", TransferID: "T-0001", From: "HB-STEEL", To: "HB-POWER", Quantity: 2500}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.RetireUnits(t.Context(), meta, domain.RetireUnits{RightID: "CEA-HB-2025", RetirementID: "R-0001", Holder: "HB-POWER", Quantity: 1000,
		Purpose: domain.RetirementPurposeVoluntary, Beneficiary: "Yichang Power"}); err != nil {
		t.Fatal(err)
	}
}

// eventually waits for cond, checking it as the tree commits.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func latestSize(e *env) uint64 {
	l, err := e.svc.Latest()
	if err != nil {
		return 0
	}
	return l.Size
}

func TestCheckpointsAreSignedEveryNEventsAndEveryInterval(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, pebbleAt(t, dir), newKey(t), integrity.Options{Every: 3, Interval: time.Hour})
	defer func() { e.close(t) }()
	r, _ := e.m.Runner(merkle.Name)
	for k := 1; k <= 7; k++ {
		openAccount(t, e, fmt.Sprintf("HB-%d", k), k)
		head, _ := projections.Head(t.Context(), e.store)
		if err := r.Wait(t.Context(), head); err != nil {
			t.Fatal(err)
		}
		// At most Every-1 events wait for a checkpoint.
		eventually(t, fmt.Sprintf("a checkpoint covering all but 2 of %d events", k), func() bool { return latestSize(e)+2 >= uint64(k) })
	}
	list, err := e.svc.List(^uint64(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range list {
		below := uint64(0)
		if i+1 < len(list) {
			below = list[i+1].Size
		}
		if c.Size < below+3 {
			t.Fatalf("checkpoints of %d and %d events: fewer than 3 events apart", below, c.Size)
		}
	}
	t.Run("by time", func(t *testing.T) {
		e.close(t)
		e = start(t, dir, pebbleAt(t, dir), e.key, integrity.Options{Every: 1000, Interval: 20 * time.Millisecond})
		openAccount(t, e, "HB-8", 8)
		eventually(t, "a checkpoint of 8 events", func() bool { return latestSize(e) == 8 })
	})
	t.Run("each extends the one before", func(t *testing.T) {
		list, err := e.svc.List(^uint64(0), 0)
		if err != nil || len(list) < 2 {
			t.Fatalf("%d checkpoints (%v)", len(list), err)
		}
		for _, c := range list {
			if _, err := checkpoint.Open(c.Signed, e.key.Verifier); err != nil {
				t.Fatal(err)
			}
		}
		p, err := e.svc.ConsistencyProof(t.Context(), list[1].Size, list[0].Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := logtree.VerifyConsistency(list[1].Size, list[0].Size, p.Proof, list[1].Root, list[0].Root); err != nil {
			t.Fatal(err)
		}
	})
}

func TestProofsOfEventsVerifyAgainstTheCheckpoint(t *testing.T) {
	for name, open := range map[string]func(t *testing.T, dir string) eventstore.Store{
		"embedded": pebbleAt,
		"EventStoreDB": func(t *testing.T, _ string) eventstore.Store {
			s, err := esdbstore.Open(t.Context(), esdbfake.Start(t).URL(), esdbstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			e := start(t, dir, open(t, dir), newKey(t), integrity.Options{Every: 1})
			defer e.close(t)
			trade(t, e)
			all, err := e.store.ReadAll(t.Context(), eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			cp, err := e.svc.CheckpointCovering(t.Context(), all[len(all)-1].Position)
			if err != nil {
				t.Fatal(err)
			}
			for i := range all {
				inc, err := e.svc.InclusionProof(t.Context(), all[i].Position, cp.Size)
				if err != nil {
					t.Fatal(err)
				}
				if inc.Index != uint64(i) || inc.Leaf != logtree.LeafOf(&all[i]) {
					t.Fatalf("event %d found as leaf %d: %+v", i, inc.Index, inc.Leaf)
				}
				if err := logtree.VerifyInclusion(logtree.LeafOf(&all[i]).Hash(), inc.Index, cp.Size, inc.Proof, cp.Root); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
			}
			c, err := e.svc.IssueHoldingCertificate(t.Context(), "HB-POWER", "CEA-HB-2025")
			if err != nil {
				t.Fatal(err)
			}
			if err := certificate.Verify(c, e.key.Verifier); err != nil {
				t.Fatal(err)
			}
			rep, err := e.svc.Verify(t.Context(), integrity.VerifyRequest{Saved: cp.Signed})
			if err != nil || rep.Breaks > 0 || rep.Events != uint64(len(all)) {
				t.Fatalf("verify: %+v, %v", rep, err)
			}
		})
	}
}

func TestAHoldingCertificateStatesTheHoldingAndItsLastChange(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, pebbleAt(t, dir), newKey(t), integrity.Options{})
	defer e.close(t)
	trade(t, e)
	c, err := e.svc.IssueHoldingCertificate(t.Context(), "HB-POWER", "CEA-HB-2025")
	if err != nil {
		t.Fatal(err)
	}
	if err := certificate.Verify(c, e.key.Verifier); err != nil {
		t.Fatal(err)
	}
	h, err := e.reg.Holding(t.Context(), "CEA-HB-2025", "HB-POWER")
	if err != nil {
		t.Fatal(err)
	}
	if c.Available != h.Holding.Available || c.Retired != h.Holding.Retired || c.Available != 1500 || c.Retired != 1000 {
		t.Fatalf("certificate: %d available, %d retired; the registry: %+v", c.Available, c.Retired, h.Holding)
	}
	if c.LastChange == nil || c.LastChange.Type != "UnitsRetired" || c.LastChange.Revision != 2 {
		t.Fatalf("last change %+v, want the retirement, revision 2", c.LastChange)
	}
	if !strings.Contains(c.Text(), "Block: available 1001-2500 1500 CEA-420000-") {
		t.Fatalf("text:\n%s", c.Text())
	}
	t.Run("an account that never held units has no last change", func(t *testing.T) {
		openAccount(t, e, "HB-WATER", 3)
		c, err := e.svc.IssueHoldingCertificate(t.Context(), "HB-WATER", "CEA-HB-2025")
		if err != nil || c.LastChange != nil || c.Available != 0 {
			t.Fatalf("%+v, %v", c, err)
		}
		if err := certificate.Verify(c, e.key.Verifier); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an unknown right is refused with its check", func(t *testing.T) {
		_, err := e.svc.IssueHoldingCertificate(t.Context(), "HB-POWER", "NO-SUCH-RIGHT")
		if !errors.Is(err, domain.CheckRightNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestABreakFoundAtStartStopsWrites(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	e := start(t, dir, pebbleAt(t, dir), key, integrity.Options{})
	trade(t, e)
	head, _ := projections.Head(t.Context(), e.store)
	if _, err := e.svc.CheckpointCovering(t.Context(), head); err != nil {
		t.Fatal(err)
	}
	e.close(t)
	tp, err := pebblestore.OpenTamperer(dir + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Truncate(head.Commit - 1); err != nil {
		t.Fatal(err)
	}
	tp.Close()
	e = start(t, dir, pebbleAt(t, dir), key, integrity.Options{})
	defer e.close(t)
	if _, err := e.svc.CheckAtStart(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := e.svc.Halted()
	if h == nil {
		t.Fatal("the removed event was not found at start")
	}
	_, err = e.store.ReadAll(t.Context(), eventstore.Start, eventstore.Forwards, 1, eventstore.Filter{})
	if err != nil {
		t.Fatalf("reads stopped too: %v", err)
	}
	werr := writeOnce(t, e)
	if !errors.Is(werr, integrity.ErrWritesRefused) || !strings.Contains(werr.Error(), fmt.Sprintf("to %d/%d", head.Commit, head.Commit)) {
		t.Fatalf("a write after the break: %v", werr)
	}
}

func writeOnce(t *testing.T, e *env) error {
	t.Helper()
	body := "91420100MA4K00009"
	c, _ := domain.CreditCodeCheckCharacter(body)
	_, _, err := e.reg.OpenAccount(t.Context(), meta, domain.OpenAccount{AccountID: "HB-LATE", Jurisdiction: "420100", Type: domain.AccountTypeHolding,
		Holder: domain.Holder{Name: "Late", Kind: domain.HolderKindEnterprise, CreditCode: body + string(c)}})
	return err
}
